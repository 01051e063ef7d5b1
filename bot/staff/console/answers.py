"""The console's Answers page: every answer with its passages, as ``make review`` shows them,
and the sign-off state ticked in ``reports/review.md`` (``bot.staff.review``)."""

from __future__ import annotations

import functools
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.staff.review import NLU_FALLBACK, REPORT, Project

SECTION = re.compile(r"^## \d+\. `(?P<intent>[^`]+)`")
APPROVED = "- [x] Approved"
NEEDS_CHANGE = re.compile(r"- \[x\] Needs a change: *(?P<change>.*)$")


@functools.cache
def project() -> Project:
    return Project()


def intents() -> list[str]:
    return [*project().intents, NLU_FALLBACK]


def sign_off_states(report: Path = REPORT) -> dict[str, str]:
    """Each intent's state in the review report: approved, needs a change, or open."""
    if not report.exists():
        return {}
    states: dict[str, str] = {}
    intent = ""
    for line in report.read_text(encoding="utf-8").splitlines():
        section = SECTION.match(line)
        if section:
            intent = section["intent"]
            states[intent] = "open"
        elif intent and APPROVED in line.replace("[X]", "[x]"):
            states[intent] = "approved"
        elif intent and (change := NEEDS_CHANGE.search(line.replace("[X]", "[x]"))):
            states[intent] = f"needs a change: {change['change'].strip('_ ')}".rstrip(": ")
    return states


def answers() -> dict[str, Any]:
    """Each intent with the responses its rules give, their passages and the sign-off state."""
    found = project()
    states = sign_off_states()
    items = []
    for intent in intents():
        actions = found.actions_by_intent.get(intent) or [f"utter_{intent}"]
        responses = [asdict(answer) for action in actions for answer in found.response(action)]
        items.append(
            {
                "intent": intent,
                "actions": actions,
                "answers": responses,
                "sign_off": states.get(intent, "not in a review report yet"),
            }
        )
    return {"report": str(REPORT.name) if REPORT.exists() else None, "intents": items}
