"""The metastatic breast cancer assistant: everything that is not a Rasa custom action.

- ``bot.article``: the reviewed article and the facts derived from it.
- ``bot.nlp``: the project's spaCy pipeline, built in code.
- ``bot.nlu``: custom Rasa NLU components.
- ``bot.channels``: custom Rasa channels.
- ``bot.cli``: command-line tools for support staff (``python -m bot --help``).
"""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
