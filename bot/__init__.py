"""The metastatic breast cancer assistant: everything that is not a Rasa custom action.

- ``bot.article``: the reviewed article and the facts derived from it.
- ``bot.nlp``: the project's spaCy pipeline, built in code.
- ``bot.nlu``: custom Rasa NLU components (the red-flag detector).
- ``bot.policies``: custom Rasa policies (the answer when the action server is down).
- ``bot.channels``: custom Rasa channels (REST with input checks, Telegram).
- ``bot.web``: the website chat widget and its demo page.
- ``bot.serve``: starts and stops the servers (``make run``).
- ``bot.staff``: tools for support staff (``python -m bot ask``, ``python -m bot review``).
- ``bot.retention``: deletes old conversations (``python -m bot retention``).
- ``bot.evaluation``: answer quality and speed (``make eval``, ``make bench``).
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
