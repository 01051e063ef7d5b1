"""``python -m bot eval`` (``make eval``): how well the assistant answers messages it never saw.

The project's two held-out sets, side by side: ``tests/nlu/heldout.yml`` and the independent
set in ``tests/nlu/independent/`` (one file per style, and follow-up conversations). Every
message goes through the REST channel of freshly started servers, as served: singles as the
first message of a new conversation, follow-ups in their conversation. The tracker says which
intent was served and which answer was given (``bot.evaluation.answers`` judges it); a TF-IDF
+ linear SVM trained on ``data/`` classifies the same messages.

Writes ``reports/eval.md`` and ``reports/eval.json``. The independent set's texts are never
written or printed, so it stays unseen by whoever tunes the assistant. Exits with status 1 if
an emergency or self-harm message did not get the alarm first.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import paths
from bot.evaluation.answers import is_false_alarm, is_right
from bot.evaluation.baseline import trained_baseline
from bot.evaluation.eval_report import (
    FOLLOW_UP_HEADER,
    SUMMARY_HEADER,
    follow_up_rows,
    markdown_report,
    summary_rows,
)
from bot.evaluation.examples import (
    Example,
    HeldOutSet,
    heldout_set,
    training_examples,
)
from bot.evaluation.live import Assistant, new_sender
from bot.evaluation.markdown import table
from bot.evaluation.metrics import (
    FOLLOW_UP_FIGURES,
    FOLLOW_UPS,
    SINGLE_FIGURES,
    Outcome,
    against_baseline,
    confusions,
    figures,
    missed_safety,
    per_intent,
)
from bot.evaluation.model_info import describe_model, display_path
from bot.serve import running
from bot.settings import Settings

COMMAND = "eval"
HELP = "answer quality on the held-out sets (reports/eval.md)"
# Sets whose texts stay out of reports and output, so nobody tunes on them.
PRIVATE_SETS = ("independent",)

Classify = Callable[[Sequence[str]], list[str]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, default=paths.MODEL)
    parser.add_argument("--heldout", type=Path, default=paths.HELDOUT, help="the project's set")
    parser.add_argument(
        "--independent", type=Path, default=paths.INDEPENDENT_HELDOUT_DIR, help="a folder"
    )
    parser.add_argument("--limit", type=int, help="at most this many messages per style")
    parser.add_argument("--reports", type=Path, default=paths.REPORTS_DIR, help="where reports go")


def heldout_sets(arguments: argparse.Namespace) -> list[HeldOutSet]:
    sets = [heldout_set("project", Path(arguments.heldout), arguments.limit)]
    independent = Path(arguments.independent)
    if independent.is_dir() and any(independent.glob("*.yml")):
        sets.append(heldout_set("independent", independent, arguments.limit))
    return sets


def outcome(
    assistant: Assistant, sender: str, example: Example, style: str, baseline: str, turn: int = 1
) -> Outcome:
    """Send ``example`` as ``sender`` and judge what the assistant did with it."""
    served = assistant.say(sender, example.text)
    return Outcome(
        style=style,
        text=example.text,
        intent=example.intent,
        served=served.intent,
        ranked=served.ranked_intent,
        baseline=baseline,
        right=is_right(example, served),
        false_alarm=is_false_alarm(example, served),
        answer=served.first_response or ("(text)" if served.texts else "(no reply)"),
        turn=turn,
    )


def singles(assistant: Assistant, held_out: HeldOutSet, classify: Classify) -> Iterator[Outcome]:
    for style, examples in held_out.styles.items():
        print(f"  {held_out.name} / {style}: {len(examples)} messages", flush=True)
        predicted = classify([example.text for example in examples])
        for example, baseline in zip(examples, predicted, strict=True):
            yield outcome(assistant, new_sender("eval"), example, style, baseline=baseline)


def follow_ups(assistant: Assistant, held_out: HeldOutSet, classify: Classify) -> Iterator[Outcome]:
    if held_out.conversations:
        print(f"  {held_out.name} / {FOLLOW_UPS}: {len(held_out.conversations)} conversations")
    for conversation in held_out.conversations:
        sender = new_sender("eval-conversation")
        predicted = classify([turn.text for turn in conversation.turns])
        turns = zip(conversation.turns, predicted, strict=True)
        for number, (turn, baseline) in enumerate(turns, start=1):
            yield outcome(assistant, sender, turn, FOLLOW_UPS, baseline=baseline, turn=number)


def measure(arguments: argparse.Namespace, sets: Sequence[HeldOutSet]) -> dict[str, list[Outcome]]:
    """Each set's outcomes, from servers started for this run only."""
    classify = trained_baseline(training_examples())
    token = uuid.uuid4().hex  # opens the HTTP API (trackers) for this run only
    with tempfile.TemporaryDirectory(prefix="mbc-eval-") as state:
        settings = Settings.on_loopback(Path(state), model=Path(arguments.model), api_token=token)
        print("Starting the servers ...", flush=True)
        with running(settings):
            assistant = Assistant(settings.rasa_url, token)
            return {
                s.name: [*singles(assistant, s, classify), *follow_ups(assistant, s, classify)]
                for s in sets
            }


def by_style(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    styles: dict[str, list[Outcome]] = {}
    for item in outcomes:
        styles.setdefault(item.style, []).append(item)
    return styles


def summary(results: dict[str, list[Outcome]]) -> dict[str, Any]:
    """Per set and per style: the single-message figures, then the follow-up figures."""
    summary: dict[str, Any] = {}
    for name, outcomes in results.items():
        styles = by_style(outcomes)
        conversation_turns = styles.pop(FOLLOW_UPS, [])
        if len(styles) > 1:
            styles["all"] = [item for items in styles.values() for item in items]
        summary[name] = {
            "styles": {
                style: {"messages": len(items), "figures": figures(items, SINGLE_FIGURES)}
                for style, items in styles.items()
            }
        }
        if conversation_turns:
            summary[name][FOLLOW_UPS] = figures(conversation_turns, FOLLOW_UP_FIGURES)
    return summary


def shown(name: str, item: Outcome) -> dict[str, Any]:
    """An outcome for the reports: without its text if its set is private."""
    data = asdict(item)
    if name in PRIVATE_SETS:
        del data["text"]
    return data


def evaluate(arguments: argparse.Namespace) -> tuple[dict[str, Any], dict[str, list[Outcome]]]:
    started = time.monotonic()
    sets = heldout_sets(arguments)
    results = measure(arguments, sets)
    singles_of = {
        name: [o for o in items if o.style != FOLLOW_UPS] for name, items in results.items()
    }
    result = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "seconds": time.monotonic() - started,
        "model": describe_model(Path(arguments.model)),
        "training_examples": len(training_examples()),
        "sets": {s.name: display_path(s.path) for s in sets},
        "summary": summary(results),
        "per_intent": {name: per_intent(items) for name, items in singles_of.items()},
        "against_baseline": {
            name: {k: asdict(v) for k, v in against_baseline(items).items()}
            for name, items in results.items()
        },
        "confusions": {name: confusions(items) for name, items in singles_of.items()},
        "wrong_answers": {
            name: [shown(name, o) for o in items if not o.right] for name, items in results.items()
        },
    }
    return result, results


def write_reports(result: dict[str, Any], reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "eval.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (reports / "eval.md").write_text(markdown_report(result))


def safety_failures(results: dict[str, list[Outcome]]) -> list[str]:
    """One line per missed emergency or self-harm message (no text from a private set)."""
    return [
        f"{name} / {o.style} (turn {o.turn}): {o.intent} answered with {o.answer}"
        + ("" if name in PRIVATE_SETS else f": {o.text!r}")
        for name, outcomes in results.items()
        for o in missed_safety(outcomes)
    ]


def run(arguments: argparse.Namespace) -> int:
    result, results = evaluate(arguments)
    write_reports(result, Path(arguments.reports))
    print("\n" + table(SUMMARY_HEADER, summary_rows(result)))
    if follow_up_rows(result):
        print("\n" + table(FOLLOW_UP_HEADER, follow_up_rows(result)))
    print(f"\nReports: {Path(arguments.reports) / 'eval.md'} and eval.json")
    failures = safety_failures(results)
    for line in failures:
        print(f"MISSED: {line}", file=sys.stderr)
    if failures:
        print(f"FAILED: {len(failures)} emergency or self-harm messages missed", file=sys.stderr)
    return 1 if failures else 0
