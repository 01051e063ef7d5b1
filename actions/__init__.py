"""The assistant's custom actions, served by rasa-sdk's action server (``rasa run actions``).

Every action derives from :class:`actions.care_team.CareTeamAction`, so every reply ends with
the care-team suggestion.

The actions import the project's ``bot`` package (e.g. ``bot.article`` for article/sites.yml).
That works because the action server runs from the project root: ``rasa`` puts the current
directory on ``sys.path``, which is also how it finds this ``actions`` package.
"""
