"""The staff console: try answers, review real conversations, see the numbers (docs/staff.md).

``python -m bot.staff.console`` serves it (``make run`` starts it with the other servers).
"""
