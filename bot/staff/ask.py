"""``python -m bot ask "message" ["next message" ...]``: what the assistant does, and why.

For support staff checking an answer. Loads the trained model in this process (no servers)
and plays the messages as one conversation. For each message it prints the intent and its
confidence, the runner-up intents, the entities, the red flag if one fired, the actions chosen
(and by which policy), the exact replies with their buttons, the article passages each reply is
drawn from, and the slots after the turn.

Custom actions run in this process with rasa-sdk and the ``actions`` package, the code the
action server runs. If that is not possible, the tool says which action would run and what it
draws on.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actions.site_symptoms import canonical_site, covered_sites
from bot.paths import MODEL
from bot.staff.sourced import Sourced

# Rasa is imported inside the functions that use it: the import takes seconds, and
# `python -m bot --help` should not wait for it.

SENDER = "staff-ask"
RUNNER_UPS = 3
# What each custom action draws on, in words for staff (the code is in actions/).
ACTION_SOURCES = {
    "action_site_symptoms": (
        "article/sites.yml: the symptoms and reply sentences for each site, each with its "
        "article passage; then utter_care_team"
    ),
}


@dataclass(frozen=True)
class ActionStep:
    """An action the assistant ran, and the policy that chose it."""

    name: str
    policy: str | None
    confidence: float | None


@dataclass
class Turn:
    """Everything the assistant did with one message."""

    message: str
    intent: dict[str, Any]
    runner_ups: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    red_flag: dict[str, Any] | None
    actions: list[ActionStep] = field(default_factory=list)
    replies: list[Sourced] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Assistant:
    """The trained model, loaded in this process, with the custom actions run in-process too."""

    def __init__(self, model: Path = MODEL) -> None:
        from rasa.core.agent import Agent

        from bot.staff.actions import InProcessActionEndpoint, load_executor

        try:
            self.executor: Any = load_executor()
            self.endpoint: InProcessActionEndpoint | None = InProcessActionEndpoint(self.executor)
        except Exception as error:
            # Then Rasa predicts the custom action but cannot run it; describe() says why.
            self.executor, self.endpoint = None, None
            self.load_error = f"{type(error).__name__}: {error}"
        self.agent = Agent.load(str(model), action_endpoint=self.endpoint)

    async def play(self, messages: list[str], sender: str = SENDER) -> list[Turn]:
        """Send ``messages`` in order, as one conversation, and explain each turn."""
        return [await self.turn(message, sender) for message in messages]

    async def turn(self, message: str, sender: str) -> Turn:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        tracker_store = self.agent.tracker_store
        seen = len((await tracker_store.get_or_create_tracker(sender)).events)
        parse = await self.agent.parse_message(message)
        await self.agent.handle_message(UserMessage(message, CollectingOutputChannel(), sender))
        tracker = await tracker_store.get_or_create_tracker(sender)
        turn = turn_from_parse(message, parse)
        turn.slots = user_slots(tracker.current_slot_values())
        self.read_events(turn, list(tracker.events)[seen:])
        return turn

    def read_events(self, turn: Turn, events: list[Any]) -> None:
        add_events(turn, events, self.custom_actions(), self.describe)

    def custom_actions(self) -> list[str]:
        from rasa.shared.core.constants import DEFAULT_ACTION_NAMES

        domain = self.agent.domain
        if domain is None:
            return []
        return [
            name
            for name in domain.user_actions
            if name not in domain.responses and name not in DEFAULT_ACTION_NAMES
        ]

    def describe(self, action: str, entities: list[dict[str, Any]]) -> str:
        """Which code runs for custom action ``action``, and what it draws on."""
        from bot.staff.actions import action_source

        draws_on = ACTION_SOURCES.get(action, "see its code")
        source = action_source(self.executor, action) if self.executor else None
        if source is not None and self.endpoint and action not in self.endpoint.failures:
            path, summary = source
            return (
                f"{action} is a custom action ({path}: {summary}). In production the action "
                f"server runs it; here the same code ran in this process. Draws on {draws_on}."
            )
        reason = (
            self.endpoint.failures.get(action, "no code for it in actions/")
            if self.endpoint
            else self.load_error
        )
        passages = site_passages(entities) if action == "action_site_symptoms" else []
        lines = [
            f"{action} is a custom action; it would run on the action server but could not run "
            f"here ({reason}). It draws on {draws_on}."
        ]
        lines += [f'  passage: "{passage}"' for passage in passages]
        return "\n".join(lines)


def turn_from_parse(message: str, parse: dict[str, Any]) -> Turn:
    """A turn's understanding part, from Rasa's parse of the message."""
    return Turn(
        message=message,
        intent=parse.get("intent") or {},
        runner_ups=(parse.get("intent_ranking") or [])[1 : RUNNER_UPS + 1],
        entities=parse.get("entities") or [],
        red_flag=parse.get("red_flag"),
    )


def add_events(
    turn: Turn,
    events: list[Any],
    custom_actions: Collection[str] = (),
    describe: Callable[[str, list[dict[str, Any]]], str] | None = None,
) -> None:
    """Add the actions and replies of a turn's events (those after its user message)."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.core.events import ActionExecuted, BotUttered

    action = ""
    for event in events:
        if isinstance(event, ActionExecuted):
            action = event.action_name or ""
            if action in (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME):
                continue
            turn.actions.append(ActionStep(action, event.policy, event.confidence))
            if describe is not None and action in custom_actions:
                turn.notes.append(describe(action, turn.entities))
        elif isinstance(event, BotUttered):
            turn.replies.append(reply_from(event, action))


def user_slots(slots: dict[str, Any]) -> dict[str, Any]:
    """The domain's own slots, without the ones Rasa adds."""
    from rasa.shared.core.constants import DEFAULT_SLOT_NAMES

    return {name: value for name, value in slots.items() if name not in DEFAULT_SLOT_NAMES}


def reply_from(event: Any, action: str) -> Sourced:
    """A bot message and its provenance, from the response's ``metadata``."""
    metadata = event.metadata or {}
    source = metadata.get("utter_action") or action
    buttons = (event.data or {}).get("buttons")
    return Sourced.of(source, event.text or "", buttons, metadata.get("metadata"))


def site_passages(entities: list[dict[str, Any]]) -> list[str]:
    """The article/sites.yml passages for the sites the message names."""
    passages: list[str] = []
    for entity in entities:
        site = covered_sites().get(canonical_site(entity.get("value")))
        if site:
            passages += [site.passage, *site.symptom_passages]
    return list(dict.fromkeys(passages))


def format_turn(number: int, turn: Turn) -> str:
    """A turn as plain text for the terminal."""
    lines = [f'Message {number}: "{turn.message}"']
    lines.append(f"  Intent:     {prediction(turn.intent)}")
    runner_ups = ", ".join(prediction(item) for item in turn.runner_ups) or "none"
    lines.append(f"  Runner-up:  {runner_ups}")
    entities = ", ".join(
        f"{entity.get('entity')}={entity.get('value')!r} ({entity.get('extractor')})"
        for entity in turn.entities
    )
    lines.append(f"  Entities:   {entities or 'none'}")
    if turn.red_flag:
        lines.append(
            f"  RED FLAG:   {turn.red_flag.get('kind')} "
            f"(matched {turn.red_flag.get('phrase')!r}): the intent is set by rule"
        )
    actions = ", ".join(
        f"{step.name} ({step.policy}, {step.confidence:.2f})"
        if step.confidence is not None
        else f"{step.name} ({step.policy})"
        for step in turn.actions
    )
    lines.append(f"  Actions:    {actions or 'none'}")
    lines += [f"  Note:       {note}" for note in turn.notes]
    for index, reply in enumerate(turn.replies, start=1):
        lines += format_reply(index, reply)
    if not turn.replies:
        lines.append("  Reply:      (none)")
    slots = ", ".join(f"{name}={value!r}" for name, value in turn.slots.items())
    lines.append(f"  Slots after the turn: {slots or 'none'}")
    return "\n".join(lines)


def format_reply(index: int, reply: Sourced) -> list[str]:
    lines = [f"  Reply {index} ({reply.source}):"]
    lines += [f"    | {line}" for line in reply.text.splitlines()]
    for button in reply.buttons:
        lines.append(f"    [{button.get('title')}] -> {button.get('payload')}")
    if reply.passages:
        lines.append("    Drawn from the article:")
        lines += [f'      - "{passage}"' for passage in reply.passages]
    elif reply.not_from_article:
        lines.append(f"    Not from the article: {reply.not_from_article}")
    else:
        lines.append("    Source: none recorded (no metadata.passages on this reply)")
    return lines


def prediction(item: dict[str, Any]) -> str:
    confidence = item.get("confidence")
    shown = f"{confidence:.2f}" if isinstance(confidence, (int, float)) else "?"
    return f"{item.get('name')} ({shown})"


def quiet_rasa(verbose: bool) -> None:
    """Rasa logs every step at debug level to stdout; staff see only the report."""
    from rasa.utils.log_utils import configure_structlog

    level = logging.DEBUG if verbose else logging.CRITICAL
    if not verbose:
        warnings.filterwarnings("ignore")
    configure_structlog(level)
    logging.getLogger().setLevel(level)


def run(arguments: argparse.Namespace) -> int:
    quiet_rasa(arguments.verbose)
    model: Path = arguments.model
    if not model.exists():
        print(f"No trained model at {model}: run `make train` first.")
        return 1
    print(f"Loading {model} (about 10 s) ...", flush=True)
    assistant = Assistant(model)
    turns = asyncio.run(assistant.play(arguments.messages))
    for number, turn in enumerate(turns, start=1):
        print()
        print(format_turn(number, turn))
    return 0


COMMAND = "ask"
HELP = "show what the assistant does with a message, and why"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``ask`` command's options."""
    parser.add_argument(
        "messages", nargs="+", metavar="message", help="one or more messages, in order"
    )
    parser.add_argument("--model", type=Path, default=MODEL, help="the trained model")
    parser.add_argument("--verbose", action="store_true", help="also show Rasa's debug log")
