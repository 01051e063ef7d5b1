"""``python -m bot profile``: where a message's time goes, early and late in a conversation.

Loads the model the way ``rasa run`` does (SQLite tracker store, the same processor), sends
conversations of 60 patient-like messages in-process, and profiles turns 1-5 and 56-60 apart
with pyinstrument: once with Rasa's ``SQLTrackerStore`` (before) and once with the project's
``RecentTurnsTrackerStore`` (after, as ``make run`` serves). Each stage of Rasa's message
handling (loading the tracker, NLU, policies, actions, saving) gets its time per message at
both ends, so whatever grows with the conversation shows. Messages for custom actions are
left out: no action server runs. Writes ``reports/profile.md``; server settings in the
environment apply here too.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame
from pyinstrument.renderers import ConsoleRenderer
from rasa.core.tracker_store import SQLTrackerStore

from bot import paths
from bot.evaluation.examples import heldout_set
from bot.evaluation.markdown import number, table
from bot.evaluation.model_info import describe_model
from bot.evaluation.workload import conversations
from bot.serving.tracker_store import RecentTurnsTrackerStore

COMMAND = "profile"
HELP = "where a message's time goes, turns 1-5 against 56-60 (reports/profile.md)"
REPORT_PATH = paths.REPORTS_DIR / "profile.md"
CUSTOM_ACTION_INTENTS = ("site_symptoms", "symptom_worry")
EARLY_TURNS = 5
# (stage, class, method): the outermost call of each method is counted for its stage.
STORES = (SQLTrackerStore.__name__, RecentTurnsTrackerStore.__name__)
STAGES = (
    ("load the tracker (SQLite)", STORES, "retrieve"),
    ("NLU (parse_message)", ("MessageProcessor",), "parse_message"),
    ("policies (next action)", ("MessageProcessor",), "_predict_next_with_tracker"),
    ("run the actions", ("MessageProcessor",), "_run_action"),
    ("save the tracker (SQLite)", STORES, "save"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, default=paths.MODEL)
    parser.add_argument("--heldout", type=Path, default=paths.HELDOUT)
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--length", type=int, default=60, help="messages per conversation")
    parser.add_argument("--out", type=Path, default=REPORT_PATH)


async def profile_agent(
    model: Path, planned: list[list[str]], db: Path, store_class: type[SQLTrackerStore]
) -> tuple[Profiler, Profiler]:
    """Profilers of the first and of the last turns of each conversation."""
    from rasa.core.agent import Agent
    from rasa.shared.core.domain import Domain
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.tensorflow.environment import setup_tf_environment

    configure_logging_and_warnings(logging.WARNING)
    setup_tf_environment()  # as `rasa run` does: reads TF_INTRA_OP_PARALLELISM_THREADS etc.
    store = store_class(Domain.empty(), dialect="sqlite", db=str(db))
    agent = Agent.load(str(model), tracker_store=store)
    await agent.handle_text("hello", sender_id="warm-up")
    early, late = (Profiler(interval=0.0005, async_mode="enabled") for _ in range(2))
    for conversation, messages in enumerate(planned):
        for turn, message in enumerate(messages, start=1):
            profiler = early if turn <= EARLY_TURNS else late
            profiled = turn <= EARLY_TURNS or turn > len(messages) - EARLY_TURNS
            if profiled:
                profiler.start()
            await agent.handle_text(message, sender_id=f"profile-{conversation}")
            if profiled:
                profiler.stop()
    return early, late


def outermost(frame: Frame, class_names: tuple[str, ...], function: str) -> Iterator[Frame]:
    """The frames of ``function`` in one of ``class_names``, not inside another call of it."""
    if frame.class_name in class_names and frame.function == function:
        yield frame
        return
    for child in frame.children:
        yield from outermost(child, class_names, function)


def stage_ms(profiler: Profiler, messages: int) -> list[float]:
    """Milliseconds per message of each stage, then of everything else, then the total."""
    session = profiler.last_session
    root = session.root_frame() if session else None
    if root is None:
        return [float("nan")] * (len(STAGES) + 2)
    stages = [sum(f.time for f in outermost(root, cls, fn)) for _, cls, fn in STAGES]
    total = session.duration if session else 0.0
    seconds = [*stages, max(0.0, total - sum(stages)), total]
    return [1000 * s / messages for s in seconds]


def stage_rows(early: Profiler, late: Profiler, messages: int) -> list[list[str]]:
    names = [stage for stage, _, _ in STAGES] + ["everything else", "total"]
    pairs = zip(stage_ms(early, messages), stage_ms(late, messages), strict=True)
    return [
        [name, number(first, 1), number(last, 1), number(last / first if first else None, 2)]
        for name, (first, last) in zip(names, pairs, strict=True)
    ]


def call_tree(profiler: Profiler) -> str:
    renderer = ConsoleRenderer(
        unicode=False,
        color=False,
        # Rasa's own frames are library frames too: show them rather than fold them away.
        processor_options={"filter_threshold": 0.02, "show_regex": r".*/(rasa|sqlalchemy)/.*"},
    )
    return profiler.output(renderer).strip()


def run(arguments: argparse.Namespace) -> int:
    examples = [
        e
        for e in heldout_set("project", Path(arguments.heldout)).examples
        if e.intent not in CUSTOM_ACTION_INTENTS
    ]
    planned = [
        list(c.messages) for c in conversations(examples, arguments.conversations, arguments.length)
    ]
    started = time.monotonic()
    profiles: dict[str, tuple[Profiler, Profiler]] = {}
    for store_class in (SQLTrackerStore, RecentTurnsTrackerStore):
        with tempfile.TemporaryDirectory(prefix="mbc-profile-") as state:
            db = Path(state) / "t.db"
            profiles[store_class.__name__] = asyncio.run(
                profile_agent(arguments.model, planned, db, store_class)
            )
    messages = EARLY_TURNS * len(planned)
    header = ["Stage", f"Turns 1-{EARLY_TURNS}, ms/msg", "Last turns, ms/msg", "Late ÷ early"]
    tables = {name: table(header, stage_rows(*pair, messages)) for name, pair in profiles.items()}
    info = describe_model(Path(arguments.model))
    text = [
        "# Where a message's time goes (`python -m bot profile`)",
        "",
        f"Model `{info['path']}` (sha256 {info['sha256']}). {len(planned)} conversations of "
        f"{arguments.length} messages, in-process (no HTTP), SQLite; "
        f"{time.monotonic() - started:.0f} s. The profiler adds time: read the shares and "
        "the growth, and take speeds from `make bench`.",
        "",
        "## Before: Rasa's `SQLTrackerStore`",
        "",
        tables["SQLTrackerStore"],
        "",
        "## After: `RecentTurnsTrackerStore`, as `make run` serves (bot/serving/tracker_store.py)",
        "",
        tables["RecentTurnsTrackerStore"],
        "",
        f"## Call tree, after, last {EARLY_TURNS} turns (frames over 2 % of the time)",
        "",
        "```",
        call_tree(profiles["RecentTurnsTrackerStore"][1]),
        "```",
        "",
    ]
    Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
    Path(arguments.out).write_text("\n".join(text))
    print("\n\n".join(f"{name}\n{rows}" for name, rows in tables.items()))
    print(f"\nCall tree: {arguments.out}")
    return 0
