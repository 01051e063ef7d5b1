"""Per-stage time of a message at the start and the end of long conversations, in-process.

    python -m bot.serving.turn_profile [--store sql|recent] [--conversations 3] [--turns 60]

Loads the model as ``rasa run`` does, with Rasa's ``SQLTrackerStore`` (``sql``) or
:class:`~bot.serving.tracker_store.RecentTurnsTrackerStore` (``recent``) on a fresh SQLite
file, and times each stage of every message (CPU time, or ``--clock wall``) around the method
that does it: loading the tracker, NLU, the policies, saving the tracker. Prints the median
milliseconds of turns 1-5 and of the last five turns, and the size of what the action server
would receive.
Held-out messages that need a custom action are left out, so no action server is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot import paths
from bot.evaluation.examples import read_nlu
from bot.evaluation.markdown import number, table

# (stage, object attribute of the agent, method)
STAGES = (
    ("load the tracker", "tracker_store", "retrieve"),
    ("NLU", "processor", "parse_message"),
    ("policies", "processor", "_predict_next_with_tracker"),
    ("save the tracker", "tracker_store", "save"),
)
Timings = dict[str, list[float]]
# CPU time of this process (all its threads): on a shared machine, wall-clock time mostly
# measures the other processes.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
Clock = Callable[[], float]


def timed(method: Callable[..., Any], into: list[float], clock: Clock) -> Callable[..., Any]:
    """``method``, adding the seconds each call takes to ``into``."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return await method(*args, **kwargs)
            finally:
                into.append(clock() - start)

        return async_wrapper

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return method(*args, **kwargs)
        finally:
            into.append(clock() - start)

    return wrapper


def quiet_rasa_logs() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def make_store(kind: str, db: Path) -> Any:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.serving.tracker_store import RecentTurnsTrackerStore

    if kind == "sql":
        return SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    return RecentTurnsTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))


async def profile(
    kind: str, messages: Sequence[str], conversations: int, db: Path, clock: Clock
) -> Any:
    """Per turn and stage, the seconds of each message; and the last action payload size."""
    from rasa.core.agent import Agent
    from rasa.shared.core.trackers import EventVerbosity

    quiet_rasa_logs()
    agent = Agent.load(str(paths.MODEL), tracker_store=make_store(kind, db))
    await agent.handle_text(messages[0], sender_id="warm-up")
    per_turn: dict[int, Timings] = defaultdict(lambda: defaultdict(list))
    calls: dict[str, list[float]] = {stage: [] for stage, _, _ in STAGES}
    for stage, owner, method in STAGES:
        target = getattr(agent, owner)
        setattr(target, method, timed(getattr(target, method), calls[stage], clock))
    for conversation in range(conversations):
        for turn, message in enumerate(messages, start=1):
            for stage_calls in calls.values():
                stage_calls.clear()
            start = clock()
            await agent.handle_text(message, sender_id=f"profile-{conversation}")
            per_turn[turn]["whole message"].append(clock() - start)
            for stage, seconds in calls.items():
                per_turn[turn][stage].append(sum(seconds))
    tracker = await agent.tracker_store.retrieve(f"profile-{conversations - 1}")
    payload = len(json.dumps(tracker.current_state(EventVerbosity.ALL)))
    return per_turn, payload


def median_ms(per_turn: dict[int, Timings], turns: range, stage: str) -> float:
    return 1000 * statistics.median(s for turn in turns for s in per_turn[turn][stage])


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.serving.turn_profile", description=__doc__)
    parser.add_argument("--store", choices=("sql", "recent"), default="recent")
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    examples = [e for e in read_nlu(paths.HELDOUT) if e.intent != "site_symptoms"]
    step = max(1, len(examples) // arguments.turns)
    messages = [e.text for e in examples[::step]][: arguments.turns]
    with tempfile.TemporaryDirectory(prefix="mbc-turns-") as state:
        per_turn, payload = asyncio.run(
            profile(
                arguments.store,
                messages,
                arguments.conversations,
                Path(state) / "t.db",
                CLOCKS[arguments.clock],
            )
        )
    first, last = range(1, 6), range(len(messages) - 4, len(messages) + 1)
    rows = []
    for stage in [*(s for s, _, _ in STAGES), "whole message"]:
        early, late = median_ms(per_turn, first, stage), median_ms(per_turn, last, stage)
        rows.append([stage, number(early, 1), number(late, 1), number(late / early, 2)])
    header = [
        f"stage (median {arguments.clock} ms)",
        "turns 1-5",
        f"turns {last.start}-{last.stop - 1}",
        "ratio",
    ]
    print(f"store: {arguments.store}, {arguments.conversations} conversations")
    print(table(header, rows))
    print(f"\naction server payload at turn {len(messages)}: {payload} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
