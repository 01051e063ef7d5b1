"""Patients' "Was this helpful?": the names the channels, the widget and the console share.

A rating is the message ``/rate_answer{"helpful": "yes"}`` (or ``"no"``, optionally with a
``"comment"``), sent by the widget's or Telegram's buttons. Rasa stores it in the tracker store
as a ``UserUttered`` event with that intent and those entities, right after the turn it rates,
so it is part of the conversation: only staff see it, and retention deletes it with the rest.
The question and its buttons are the domain's ``utter_ask_rating`` response; a response whose
metadata says ``ask_feedback: false`` is never followed by the question (docs/staff.md).
"""

from __future__ import annotations

from typing import Any

from bot import paths
from bot.article import load_yaml

RATING_INTENT = "rate_answer"
HELPFUL_ENTITY = "helpful"
COMMENT_ENTITY = "comment"
ASK_FEEDBACK = "ask_feedback"
ASK_RATING_RESPONSE = "utter_ask_rating"


def rating_question() -> tuple[str, list[dict[str, str]]]:
    """The question's text and its buttons, as Rasa sends them (``{{`` and ``}}`` unescaped)."""
    response: dict[str, Any] = load_yaml(paths.DOMAIN)["responses"][ASK_RATING_RESPONSE][0]
    buttons = [
        {"title": str(button["title"]), "payload": unescaped(str(button["payload"]))}
        for button in response.get("buttons") or []
    ]
    return str(response["text"]), buttons


def unescaped(template: str) -> str:
    # Rasa's response templates write a literal brace as a double one; no slot is used here.
    return template.replace("{{", "{").replace("}}", "}")


def asks_feedback(metadata: dict[str, Any] | None) -> bool:
    """Whether a reply with this response metadata may be followed by the question."""
    return (metadata or {}).get(ASK_FEEDBACK, True) is not False
