"""Setting a message's intent from a rule-based component, keeping what was predicted before."""

from __future__ import annotations

from typing import Any

from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, intent: str, confidence: float = 1.0) -> None:
    """Set ``intent`` first, with the intent predicted before it second in the ranking."""
    chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
    before = message.get(INTENT) or {}
    ranking = [
        entry
        for entry in message.get(INTENT_RANKING_KEY) or []
        if entry.get(INTENT_NAME_KEY) not in (intent, before.get(INTENT_NAME_KEY))
    ]
    second: list[dict[str, Any]] = (
        [before] if before.get(INTENT_NAME_KEY) not in (None, intent) else []
    )
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen, *second, *ranking], add_to_output=True)


def predicted_intent(message: Message) -> str | None:
    """The name of the intent the components before this one predicted, if any."""
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
