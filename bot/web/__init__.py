"""The website chat widget (``widget.js``, ``widget.css``) and a demo page that embeds it.

``python -m bot.web.server`` serves this folder; ``bot.serve`` starts it next to the Rasa
server, so ``make run`` shows the demo page at http://localhost:8080/.
"""
