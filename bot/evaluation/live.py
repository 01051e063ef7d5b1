"""What the served assistant does with a message: sent through the REST channel, then read
back from the conversation's tracker (Rasa's HTTP API), so each turn is seen as served.

The tracker says what no reply text can: the intent as served (``nlu_fallback`` included) and
the one the intent classifier ranked first, which actions ran, and which response each bot
message was.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests

FALLBACK = "nlu_fallback"
REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Turn:
    """What the assistant did with one user message."""

    intent: str
    ranked_intent: str
    actions: tuple[str, ...]
    responses: tuple[str, ...]
    texts: tuple[str, ...]

    @property
    def first_response(self) -> str:
        return self.responses[0] if self.responses else ""


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def ranked_first(parse_data: dict[str, Any]) -> str:
    """The intent ranked first other than ``nlu_fallback``: what ``rasa test nlu`` scores."""
    intent = str((parse_data.get("intent") or {}).get("name"))
    if intent != FALLBACK:
        return intent
    ranking = [str(item.get("name")) for item in parse_data.get("intent_ranking") or []]
    return next((name for name in ranking if name != FALLBACK), FALLBACK)


def turn_of(events: list[dict[str, Any]]) -> Turn:
    """The last user message's turn, from a tracker's events."""
    start = max(i for i, event in enumerate(events) if event.get("event") == "user")
    parse_data = events[start].get("parse_data") or {}
    after = events[start + 1 :]
    bot = [event for event in after if event.get("event") == "bot"]
    return Turn(
        intent=str((parse_data.get("intent") or {}).get("name")),
        ranked_intent=ranked_first(parse_data),
        actions=tuple(str(e["name"]) for e in after if e.get("event") == "action"),
        responses=tuple(str((e.get("metadata") or {}).get("utter_action") or "") for e in bot),
        texts=tuple(str(e.get("text") or "") for e in bot),
    )


class Assistant:
    """A client of one running Rasa server, whose HTTP API is open with ``token``."""

    def __init__(self, rasa_url: str, token: str) -> None:
        self.rasa_url, self.token = rasa_url, token
        self.session = requests.Session()

    def say(self, sender: str, text: str) -> Turn:
        response = self.session.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
            timeout=REQUEST_TIMEOUT_S,
        )
        response.raise_for_status()
        tracker = self.session.get(
            f"{self.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=REQUEST_TIMEOUT_S,
        )
        tracker.raise_for_status()
        return turn_of(tracker.json()["events"])
