"""``reports/eval.md``, written from the figures of ``reports/eval.json``."""

from __future__ import annotations

from typing import Any

from bot.evaluation.baseline import NAME as BASELINE
from bot.evaluation.markdown import fraction, percent, table
from bot.evaluation.metrics import FOLLOW_UP_FIGURES, FOLLOW_UPS, SINGLE_FIGURES


def summary_rows(result: dict[str, Any]) -> list[list[str]]:
    return [
        [name, style, str(row["messages"]), *(fraction(*v) for v in row["figures"].values())]
        for name, data in result["summary"].items()
        for style, row in data["styles"].items()
    ]


def follow_up_rows(result: dict[str, Any]) -> list[list[str]]:
    return [
        [name, *(fraction(*value) for value in data[FOLLOW_UPS].values())]
        for name, data in result["summary"].items()
        if FOLLOW_UPS in data
    ]


def per_intent_rows(scores: dict[str, dict[str, float]]) -> list[list[str]]:
    return [
        [intent, str(int(s["messages"]))]
        + [percent(s[key]) for key in ("precision", "recall", "f1", "baseline_f1", "right_answers")]
        for intent, s in scores.items()
    ]


def against_baseline_rows(result: dict[str, Any]) -> list[list[str]]:
    return [
        [
            name,
            comparison,
            str(pair["messages"]),
            str(pair["rasa_only"]),
            str(pair["baseline_only"]),
            f"{pair['p_value']:.3f}",
        ]
        for name, comparisons in result.get("against_baseline", {}).items()
        for comparison, pair in comparisons.items()
    ]


SUMMARY_HEADER = ["Set", "Style", "Messages", *SINGLE_FIGURES]
AGAINST_BASELINE_HEADER = [
    "Set",
    "Compared on",
    "Messages",
    "Only Rasa right",
    "Only the SVM right",
    "p (exact McNemar)",
]
FOLLOW_UP_HEADER = ["Set", *FOLLOW_UP_FIGURES]
INTENT_HEADER = ["Intent", "Messages", "Precision", "Recall", "F1", f"F1 {BASELINE}", "Right"]


def markdown_report(result: dict[str, Any]) -> str:
    model = result["model"]
    lines = [
        "# Answer quality on the held-out sets (`make eval`)",
        "",
        f"- Date: {result['date']}; took {result['seconds']:.0f} s. How to read it: "
        "`docs/evaluation.md`.",
        f"- Model: `{model['path']}` (sha256 {model['sha256']}, trained {model['trained_at']}, "
        f"Rasa {model['rasa']}): {', '.join(model['components'])}",
        f"- Baseline: {BASELINE}, trained on the {result['training_examples']} examples of "
        "`data/`.",
        *(f"- Set `{name}`: `{path}`" for name, path in result["sets"].items()),
        "",
        "## Single messages, each the first of a new conversation",
        "",
        table(SUMMARY_HEADER, summary_rows(result)),
        "",
    ]
    if follow_up_rows(result):
        lines += ["## Conversations", "", table(FOLLOW_UP_HEADER, follow_up_rows(result)), ""]
    if against_baseline_rows(result):
        lines += [
            "## Rasa against the baseline, message by message",
            "",
            "The baseline is right when its intent is the label (either alarm for an emergency "
            "or self-harm message). A small p says the difference is unlikely to be chance.",
            "",
            table(AGAINST_BASELINE_HEADER, against_baseline_rows(result)),
            "",
        ]
    for name, scores in result["per_intent"].items():
        lines += [
            f"## Per intent, set `{name}` (Rasa as served, single messages)",
            "",
            table(INTENT_HEADER, per_intent_rows(scores)),
            "",
            table(["Label", "Served as", "Messages"], result["confusions"][name] or [["-"] * 3]),
            "",
        ]
    return "\n".join(lines)
