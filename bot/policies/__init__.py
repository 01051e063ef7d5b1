"""Custom Rasa dialogue policies.

- ``bot.policies.action_failure``: says so when a custom action could not run.
"""
