"""Where a message's time goes: the Rasa agent in-process, under pyinstrument.

Loads the model the way ``rasa run`` does (SQLite tracker store, same processor), sends
held-out messages in short conversations, and splits the time of each message into the stages
of Rasa's message handling: loading the tracker, NLU, policies, running the actions, saving the
tracker. Custom-action messages (site_symptoms) are left out, so no action server is needed.

    python -m bot.evaluation.profile [--model models/mbc.tar.gz] [--messages 60]

Prints the stage table and writes it, with pyinstrument's call tree, to
``reports/profile.md``. Server environment variables (e.g. TF_INTRA_OP_PARALLELISM_THREADS)
apply here too, so their effect can be profiled.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.frame import Frame
from pyinstrument.renderers import ConsoleRenderer

from bot import PROJECT_ROOT
from bot.evaluation.examples import HELDOUT_PATH, heldout_examples
from bot.evaluation.markdown import number, table
from bot.evaluation.model_info import describe_model
from bot.paths import MODEL

REPORT_PATH = PROJECT_ROOT / "reports" / "profile.md"
CONVERSATION_LENGTH = 10
WARM_UP_MESSAGES = 5
# (stage, class, method): the outermost call of each method is counted for its stage.
STAGES = (
    ("load the tracker (SQLite)", "SQLTrackerStore", "retrieve"),
    ("NLU (parse_message)", "MessageProcessor", "parse_message"),
    ("policies (next action)", "MessageProcessor", "_predict_next_with_tracker"),
    ("run the actions", "MessageProcessor", "_run_action"),
    ("save the tracker (SQLite)", "SQLTrackerStore", "save"),
)


@dataclass(frozen=True)
class Profile:
    """The profiler's call tree, and the wall and CPU seconds of the profiled messages."""

    root: Frame | None
    text: str
    messages: int
    wall_s: float
    cpu_s: float


def quiet_rasa_logs() -> None:
    # Rasa is imported inside functions: importing it (and TensorFlow) takes seconds.
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


async def profile_agent(model: Path, messages: Sequence[str], db: Path) -> Profile:
    """Send ``messages`` to an agent loaded from ``model``, the handling under the profiler."""
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.utils.tensorflow.environment import setup_tf_environment

    quiet_rasa_logs()
    setup_tf_environment()  # as `rasa run` does: reads TF_INTRA_OP_PARALLELISM_THREADS etc.
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    agent = Agent.load(str(model), tracker_store=store)
    for i, message in enumerate(messages[:WARM_UP_MESSAGES]):
        await agent.handle_text(message, sender_id=f"warm-up-{i}")
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    wall, cpu = time.perf_counter(), time.process_time()
    profiler.start()
    for i, message in enumerate(messages):
        await agent.handle_text(message, sender_id=f"profile-{i // CONVERSATION_LENGTH}")
    profiler.stop()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    renderer = ConsoleRenderer(
        unicode=False,
        color=False,
        # Rasa's own frames are library frames too: show them rather than fold them away.
        processor_options={"filter_threshold": 0.02, "show_regex": r".*/(rasa|sqlalchemy)/.*"},
    )
    session = profiler.last_session
    root = session.root_frame() if session else None
    return Profile(root, profiler.output(renderer), len(messages), wall, cpu)


def outermost(frame: Frame, class_name: str, function: str) -> Iterator[Frame]:
    """The frames of ``class_name.function`` that are not inside another call of it."""
    if frame.class_name == class_name and frame.function == function:
        yield frame
        return
    for child in frame.children:
        yield from outermost(child, class_name, function)


def stage_rows(profile: Profile) -> list[list[str]]:
    """Milliseconds per message (wall clock) and share of the total, for each stage."""
    per_message = 1000 / profile.messages
    total = profile.wall_s
    rows, counted = [], 0.0
    for stage, class_name, function in STAGES:
        seconds = (
            sum(f.time for f in outermost(profile.root, class_name, function))
            if profile.root
            else 0.0
        )
        counted += seconds
        rows.append([stage, number(seconds * per_message, 1), number(100 * seconds / total, 0)])
    other = max(0.0, total - counted)
    rows.append(["everything else", number(other * per_message, 1), number(100 * other / total)])
    rows.append(["total (wall clock)", number(total * per_message, 1), "100"])
    rows.append(["CPU time of this process", number(profile.cpu_s * per_message, 1), ""])
    return rows


def report(profile: Profile, model: Path) -> str:
    info = describe_model(model)
    return "\n".join(
        [
            "# Where a message's time goes (`python -m bot.evaluation.profile`)",
            "",
            f"Model `{info['path']}` (sha256 {info['sha256']}): {', '.join(info['components'])}.",
            f"{profile.messages} held-out messages in conversations of {CONVERSATION_LENGTH}, "
            "in-process (no HTTP), SQLite tracker store. Wall-clock time includes any wait for a "
            "CPU that other processes hold; compare it with the CPU time. The profiler's "
            "sampling itself adds some time: read the shares, and take speeds from `make bench`.",
            "",
            table(["Stage", "ms per message", "% of wall time"], stage_rows(profile)),
            "",
            "## Call tree (pyinstrument, frames over 2 % of the time)",
            "",
            "```",
            profile.text.strip(),
            "```",
            "",
        ]
    )


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.profile", description=__doc__)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--heldout", type=Path, default=HELDOUT_PATH)
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--out", type=Path, default=REPORT_PATH)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    examples = [e for e in heldout_examples(arguments.heldout) if e.intent != "site_symptoms"]
    step = max(1, len(examples) // arguments.messages)
    messages = [e.text for e in examples[::step]][: arguments.messages]
    with tempfile.TemporaryDirectory(prefix="mbc-profile-") as state:
        profile = asyncio.run(profile_agent(arguments.model, messages, Path(state) / "tracker.db"))
    text = report(profile, arguments.model)
    Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
    Path(arguments.out).write_text(text)
    print(table(["Stage", "ms per message", "% of wall time"], stage_rows(profile)))
    print(f"\nCall tree: {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
