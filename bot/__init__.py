"""The metastatic breast cancer assistant: everything that is not a Rasa custom action.

- ``bot.paths``: every path the code uses; ``bot.settings``: every server setting and default.
- ``bot.article``: the reviewed article and the facts derived from it.
- ``bot.nlu``: understanding: the project's spaCy pipeline, built in code, and the custom NLU
  components (the red-flag detector).
- ``bot.policies``: custom Rasa policies (the answer when the action server is down).
- ``bot.channels``: custom Rasa channels (REST with input checks, Telegram).
- ``bot.web``: the website chat widget and its demo page.
- ``bot.serve``: starts and stops the servers (``make run``).
- ``bot.staff``: tools for support staff (``python -m bot ask``, ``python -m bot review``).
- ``bot.retention``: deletes old conversations (``python -m bot retention``).
- ``bot.evaluation``: answer quality and speed (``make eval``, ``make bench``).
"""

from bot.paths import PROJECT_ROOT

__all__ = ["PROJECT_ROOT"]
