"""What the tests share: talking to the REST channel, reading what the tracker store kept, and
building the events Rasa records."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import requests
from hypothesis import HealthCheck, settings
from rasa.shared.core.events import UserUttered

from bot.channels.rest import EMPTY_MESSAGE, FAILURE, TOO_LONG, channel_reply
from bot.serve import Servers
from bot.settings import Settings

# Hypothesis's settings for a property test that takes pytest fixtures; each adds its own
# max_examples. No deadline: an example's time depends on the shared machine's load.
WITH_FIXTURES = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

Reply = list[dict[str, Any]]
WEBHOOK = "/webhooks/rest/webhook"
# The REST channel's own replies (their words are in domain.yml).
EMPTY_MESSAGE_REPLY = channel_reply(EMPTY_MESSAGE)
TOO_LONG_REPLY = channel_reply(TOO_LONG)
FAILURE_REPLY = channel_reply(FAILURE)


def new_sender(prefix: str = "test") -> str:
    """A conversation id nobody else uses."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def settings_of(target: Servers | Settings) -> Settings:
    return target.settings if isinstance(target, Servers) else target


def send(target: Servers | Settings, sender: str, message: str, timeout: float = 60) -> Reply:
    """POST one message to the REST channel and return the bot's messages."""
    response = requests.post(
        f"{settings_of(target).rasa_url}{WEBHOOK}",
        json={"sender": sender, "message": message},
        timeout=timeout,
    )
    response.raise_for_status()
    reply: Reply = response.json()
    return reply


def uttered(parse_data: dict[str, Any], **details: Any) -> UserUttered:
    """The event Rasa records for a REST message it parsed into ``parse_data``."""
    return UserUttered(
        parse_data["text"],
        parse_data["intent"],
        parse_data["entities"],
        parse_data,
        input_channel="rest",
        **details,
    )


def texts(reply: Reply) -> str:
    """All the text of a reply, as one lower-case string."""
    return " ".join(message.get("text", "") for message in reply).lower()


def stored_events(
    target: Servers | Settings, sender_like: str = "%", types: tuple[str, ...] = ("user", "slot")
) -> list[tuple[str, dict[str, Any]]]:
    """``(sender, event)`` pairs from the SQLite tracker store, in the order they were stored."""
    marks = ", ".join("?" for _ in types)
    with sqlite3.connect(settings_of(target).tracker_db) as connection:
        rows = connection.execute(
            f"SELECT sender_id, data FROM events WHERE sender_id LIKE ? AND type_name IN ({marks})"
            " ORDER BY id",
            (sender_like, *types),
        ).fetchall()
    return [(sender, json.loads(data)) for sender, data in rows]


def user_texts(target: Servers | Settings, sender: str) -> list[str]:
    return [event["text"] for _, event in stored_events(target, sender, ("user",))]


def slot_value(target: Servers | Settings, sender: str, name: str) -> Any:
    """The last value the tracker store holds for slot ``name`` in ``sender``'s conversation."""
    values = [
        event["value"]
        for _, event in stored_events(target, sender, ("slot",))
        if event["name"] == name
    ]
    return values[-1] if values else None
