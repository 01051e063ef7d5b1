"""Tools for support staff, run in this process with the trained model: no servers.

- ``python -m bot ask "..."`` (``make ask Q="..."``): what the assistant does with a message,
  and why (``bot.staff.ask``).
- ``python -m bot review`` (``make review``): every answer with its example questions and
  source passages, for a clinician to sign off (``bot.staff.review``).
"""
