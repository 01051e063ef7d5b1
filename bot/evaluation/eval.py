"""``make eval``: how well the assistant answers the held-out set.

Three measurements, in one run, on ``tests/nlu/heldout.yml``:

1. NLU: ``rasa test nlu`` with the trained model; intent accuracy, macro F1, out-of-scope
   precision and recall, recall of the safety intents (emergency, self_harm), per-intent F1 and
   the most frequent confusions, computed from Rasa's per-message predictions.
2. End to end: the real servers (``bot.serve``) on loopback. Every message is sent, as the first
   message of a new conversation, through the REST channel, and the reply is judged by what it
   says (``bot.evaluation.answers``); the same message also goes to ``/model/parse``, for the
   intent as served, where ``nlu_fallback`` is not undone as ``rasa test nlu`` undoes it.
3. Baseline: TF-IDF classifiers from scikit-learn trained on ``data/``.

Writes ``reports/eval.md`` and ``reports/eval.json``, copies Rasa's confusion matrix to
``reports/``, and prints the summary table. Exits with status 1 if an emergency or self-harm
message was missed: those recalls must be 100 %.

    python -m bot.evaluation.eval [--limit 10] [--reports DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import PROJECT_ROOT
from bot.evaluation.answers import Judge
from bot.evaluation.baseline import baseline_predictions
from bot.evaluation.examples import (
    HELDOUT_PATH,
    Example,
    heldout_examples,
    shared_texts,
    training_examples,
    write_nlu_file,
)
from bot.evaluation.live import Answered, answer_all, loopback_settings, parse_all, started
from bot.evaluation.markdown import percent, table
from bot.evaluation.metrics import SAFETY_INTENTS, Prediction, Scores, score
from bot.evaluation.model_info import describe_model, display_path
from bot.paths import LOG_DIR, MODEL

REPORTS_DIR = PROJECT_ROOT / "reports"
RESULTS_DIR = PROJECT_ROOT / "results" / "nlu"
RASA = Path(sys.executable).with_name("rasa")
CONFUSION_MATRIX = "intent_confusion_matrix.png"


def quiet_rasa_environment() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_rasa_test_nlu(test_file: Path, model: Path, out_dir: Path, log: Path) -> None:
    """``rasa test nlu`` on ``test_file``; its reports go to ``out_dir``, its output to ``log``."""
    shutil.rmtree(out_dir, ignore_errors=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(RASA), "test", "nlu", "--nlu", str(test_file), "--model", str(model),
        "--out", str(out_dir), "--successes",
    ]  # fmt: skip
    with log.open("wb") as output:
        status = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=quiet_rasa_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    if status != 0 or not (out_dir / "intent_report.json").exists():
        raise RuntimeError(f"`rasa test nlu` failed (status {status}); see {log}")


def read_rasa_predictions(out_dir: Path) -> list[Prediction]:
    """Every message's prediction, from Rasa's intent_successes.json and intent_errors.json."""
    predictions = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out_dir / name
        for entry in json.loads(path.read_text()) if path.exists() else []:
            predicted = entry["intent_prediction"]
            predictions.append(
                Prediction(
                    entry["text"],
                    entry["intent"],
                    str(predicted.get("name")),
                    predicted.get("confidence"),
                )
            )
    return predictions


def rasa_macro_f1(out_dir: Path) -> float:
    """Rasa's own macro average, which counts nlu_fallback as a class (with F1 0)."""
    report = json.loads((out_dir / "intent_report.json").read_text())
    return float(report["macro avg"]["f1-score"])


def right_answer_rates(answered: Sequence[Answered]) -> dict[str, float]:
    """The share of right answers for each intent."""
    by_intent: dict[str, list[bool]] = {}
    for item in answered:
        by_intent.setdefault(item.intent, []).append(item.right)
    return {intent: sum(rights) / len(rights) for intent, rights in sorted(by_intent.items())}


@dataclass
class Evaluation:
    """The scores of one ``make eval`` run, and the data of its reports."""

    test_nlu: Scores
    served: Scores
    answered: list[Answered]
    baselines: dict[str, Scores]
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def right_answer_rate(self) -> float | None:
        answered = self.answered
        return sum(item.right for item in answered) / len(answered) if answered else None

    @property
    def safety_ok(self) -> bool:
        return self.test_nlu.safety_ok and self.served.safety_ok


def end_to_end(model: Path, examples: Sequence[Example]) -> tuple[list[Answered], list[Prediction]]:
    """Freshly started servers: each message's reply, judged, and the served NLU's intent."""
    with tempfile.TemporaryDirectory(prefix="mbc-eval-") as state:
        settings = loopback_settings(model, Path(state), {}, api=True)
        with started(settings):
            return answer_all(settings, examples, Judge()), parse_all(settings, examples)


SUMMARY_HEADER = [
    "Classifier",
    "Intent accuracy",
    "Macro F1",
    "Out-of-scope precision",
    "Out-of-scope recall",
    "Emergency recall",
    "Self-harm recall",
    "Right answer (REST)",
]


def headline(scores: Scores) -> list[str]:
    return [
        percent(scores.accuracy),
        percent(scores.macro_f1),
        percent(scores.out_of_scope_precision),
        percent(scores.out_of_scope_recall),
        *(percent(scores.safety_recall[intent]) for intent in SAFETY_INTENTS),
    ]


def summary_rows(evaluation: Evaluation) -> list[list[str]]:
    """One row per classifier: the headline figures."""
    return [
        ["Rasa, `rasa test nlu` (fallback undone)", *headline(evaluation.test_nlu), "n/a"],
        [
            "Rasa as served (with nlu_fallback)",
            *headline(evaluation.served),
            percent(evaluation.right_answer_rate),
        ],
        *([name, *headline(scores), "n/a"] for name, scores in evaluation.baselines.items()),
    ]


def per_intent_rows(evaluation: Evaluation) -> list[list[str]]:
    rates = right_answer_rates(evaluation.answered)
    baseline = next(iter(evaluation.baselines.values()))
    served = evaluation.served.per_intent
    return [
        [
            intent,
            str(figures.support),
            percent(figures.precision),
            percent(figures.recall),
            percent(figures.f1),
            percent(served[intent].f1) if intent in served else "n/a",
            percent(rates.get(intent)),
            percent(baseline.per_intent[intent].f1) if intent in baseline.per_intent else "n/a",
        ]
        for intent, figures in evaluation.test_nlu.per_intent.items()
    ]


def markdown_report(evaluation: Evaluation) -> str:
    result, test_nlu, served = evaluation.result, evaluation.test_nlu, evaluation.served
    model, heldout = result["model"], result["heldout"]
    first_baseline = next(iter(evaluation.baselines))
    lines = [
        "# Answer quality on the held-out set (`make eval`)",
        "",
        f"- Date: {result['date']}",
        f"- Model: `{model['path']}` (sha256 {model['sha256']}, trained {model['trained_at']}, "
        f"Rasa {model['rasa']}): {', '.join(model['components'])}",
        f"- Held-out set: `{heldout['path']}`, {heldout['messages']} messages, "
        f"{heldout['intents']} intents; training data: {result['training_examples']} examples. "
        f"Held-out messages also in the training data: {len(heldout['shared_with_training'])}.",
        "",
        table(SUMMARY_HEADER, summary_rows(evaluation)),
        "",
        "How to read it:",
        "",
        "- `rasa test nlu` undoes the FallbackClassifier's prediction (it scores the intent DIET "
        'ranked first), as Rasa does. "As served" is the intent the running server\'s '
        "`/model/parse` returns for the same message: there, `nlu_fallback` (the bot asks to "
        f"rephrase) was predicted for {percent(served.fallback_rate)} of the messages.",
        "- Out of scope: a prediction of `nlu_fallback` counts as out of scope, because the bot "
        "then declines (asks to rephrase) rather than answering; everywhere else it is a wrong "
        "prediction. Strictly `out_of_scope` only, as served: precision "
        f"{percent(served.strict_out_of_scope_precision)}, recall "
        f"{percent(served.strict_out_of_scope_recall)}.",
        "- Macro F1 is the mean F1 over the held-out intents (`nlu_fallback` is not one). "
        f"Rasa's own `macro avg` in intent_report.json: {percent(result['rasa_macro_f1'])}.",
        "- Right answer (REST): each message is the first of a new conversation; the reply is "
        "judged by what it says: the intent's `utter_<intent>` response; for `out_of_scope` "
        "`utter_out_of_scope` or `utter_default`; for `emergency` a first message with the "
        "emergency number; for `site_symptoms` the site action's reply naming the site(s) the "
        "message names (by the words in article/sites.yml), `utter_site_not_covered` for other "
        "places, `utter_ask_site` when no site is named.",
        "- Emergency and self-harm recall must be 100 %.",
        "",
        "## Per intent",
        "",
        table(
            [
                "Intent",
                "Messages",
                "Precision",
                "Recall",
                "F1",
                "F1 as served",
                "Right answer (REST)",
                f"F1 {first_baseline}",
            ],
            per_intent_rows(evaluation),
        ),
        "",
        "Precision, recall and F1 from `rasa test nlu`.",
        "",
        "## Most frequent confusions (`rasa test nlu`)",
        "",
        table(
            ["Expected", "Predicted", "Messages"],
            [list(pair) for pair in test_nlu.confused_pairs] or [["(none)", "", ""]],
        ),
        "",
        f"Confusion matrix: `{CONFUSION_MATRIX}` (from `rasa test nlu`). Every message with a "
        "wrong answer, with the bot's reply, is in `eval.json` (`end_to_end.wrong_answers`).",
        "",
    ]
    return "\n".join(lines)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.eval", description=__doc__)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--heldout", type=Path, default=HELDOUT_PATH)
    parser.add_argument("--limit", type=int, help="use only this many held-out messages")
    parser.add_argument("--reports", type=Path, default=REPORTS_DIR, help="where reports go")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="rasa test nlu --out")
    return parser.parse_args(argv)


def test_file_for(arguments: argparse.Namespace, examples: Sequence[Example]) -> Path:
    """The held-out file itself, or a file with the sample ``--limit`` asks for."""
    if arguments.limit is None:
        return Path(arguments.heldout)
    sample = Path(arguments.results).with_name("heldout-sample.yml")
    write_nlu_file(examples, sample)
    return sample


def evaluate(arguments: argparse.Namespace) -> Evaluation:
    """Run the three measurements on the held-out set (or a sample of it)."""
    model, results = Path(arguments.model), Path(arguments.results)
    examples = heldout_examples(arguments.heldout, arguments.limit)
    training = training_examples()
    test_file = test_file_for(arguments, examples)

    started_at = time.monotonic()
    print(f"rasa test nlu on {len(examples)} held-out messages (log: var/log/eval-nlu.log) ...")
    run_rasa_test_nlu(test_file, model, results, LOG_DIR / "eval-nlu.log")
    test_nlu = score(read_rasa_predictions(results))
    print("Sending each held-out message through the REST channel ...", flush=True)
    answered, served = end_to_end(model, examples)
    baselines = {
        name: score(predictions)
        for name, predictions in baseline_predictions(training, examples).items()
    }
    evaluation = Evaluation(test_nlu, score(served), answered, baselines)
    evaluation.result = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started_at, 1),
        "model": describe_model(model),
        "heldout": {
            "path": display_path(Path(arguments.heldout)),
            "messages": len(examples),
            "intents": len({example.intent for example in examples}),
            "shared_with_training": shared_texts(examples, training),
        },
        "training_examples": len(training),
        "rasa_test_nlu": test_nlu.as_dict(),
        "rasa_macro_f1": rasa_macro_f1(results),
        "served": evaluation.served.as_dict(),
        "end_to_end": {
            "right_answer_rate": evaluation.right_answer_rate,
            "right_answer_rate_per_intent": right_answer_rates(answered),
            "wrong_answers": [asdict(item) for item in answered if not item.right],
            "answers": [asdict(item) for item in answered],
        },
        "baselines": {name: scores.as_dict() for name, scores in baselines.items()},
    }
    return evaluation


def write_reports(evaluation: Evaluation, reports: Path, results: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    text = json.dumps(evaluation.result, indent=2, ensure_ascii=False)
    (reports / "eval.json").write_text(text + "\n")
    (reports / "eval.md").write_text(markdown_report(evaluation))
    matrix = results / CONFUSION_MATRIX
    if matrix.exists():
        shutil.copyfile(matrix, reports / CONFUSION_MATRIX)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    evaluation = evaluate(arguments)
    write_reports(evaluation, Path(arguments.reports), Path(arguments.results))
    print()
    print(table(SUMMARY_HEADER, summary_rows(evaluation)))
    print(f"\nReports: {Path(arguments.reports) / 'eval.md'} and eval.json")
    if not evaluation.safety_ok:
        recalls = {
            f"{intent} ({kind})": percent(recall)
            for kind, scores in (
                ("rasa test nlu", evaluation.test_nlu),
                ("served", evaluation.served),
            )
            for intent, recall in scores.safety_recall.items()
            if recall not in (None, 1.0)
        }
        print(f"FAILED: safety recall must be 100 %: {recalls}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
