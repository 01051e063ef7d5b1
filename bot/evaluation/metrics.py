"""Classification figures from (expected intent, predicted intent) pairs.

``nlu_fallback`` is not a class of the held-out set: it is what the FallbackClassifier predicts
when DIET is unsure, and the bot then asks to rephrase (``utter_default``). It counts as a wrong
prediction everywhere except in the out-of-scope figures, where declining to answer is what an
out-of-scope message should get: there, "out of scope" means out_of_scope or nlu_fallback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
DECLINED = (OUT_OF_SCOPE, FALLBACK)
SAFETY_INTENTS = ("emergency", "self_harm")


@dataclass(frozen=True)
class Prediction:
    """What one message was labelled, and what the classifier predicted."""

    text: str
    expected: str
    predicted: str
    confidence: float | None = None


@dataclass(frozen=True)
class IntentFigures:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Scores:
    """The figures ``make eval`` reports for one classifier on one test set."""

    messages: int
    accuracy: float
    macro_f1: float
    out_of_scope_precision: float | None
    out_of_scope_recall: float | None
    strict_out_of_scope_precision: float | None
    strict_out_of_scope_recall: float | None
    safety_recall: dict[str, float | None]
    fallback_rate: float
    per_intent: dict[str, IntentFigures] = field(default_factory=dict)
    confused_pairs: list[tuple[str, str, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def safety_ok(self) -> bool:
        """Every emergency and self-harm message in the set was recognised as such."""
        return all(recall in (None, 1.0) for recall in self.safety_recall.values())


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def harmonic_mean(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0


def intent_figures(predictions: Sequence[Prediction], intent: str) -> IntentFigures:
    hits = sum(p.expected == intent and p.predicted == intent for p in predictions)
    predicted = sum(p.predicted == intent for p in predictions)
    support = sum(p.expected == intent for p in predictions)
    precision = ratio(hits, predicted) or 0.0
    recall = ratio(hits, support) or 0.0
    return IntentFigures(precision, recall, harmonic_mean(precision, recall), support)


def precision_recall(
    predictions: Sequence[Prediction], expected: Sequence[str], predicted: Sequence[str]
) -> tuple[float | None, float | None]:
    """Precision and recall of a group of labels (``expected``) against a group of predictions."""
    hits = sum(p.expected in expected and p.predicted in predicted for p in predictions)
    return (
        ratio(hits, sum(p.predicted in predicted for p in predictions)),
        ratio(hits, sum(p.expected in expected for p in predictions)),
    )


def confused_pairs(predictions: Sequence[Prediction], top: int = 10) -> list[tuple[str, str, int]]:
    """The most frequent (expected, predicted) mistakes, most frequent first."""
    counts = Counter((p.expected, p.predicted) for p in predictions if p.expected != p.predicted)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(expected, predicted, count) for (expected, predicted), count in ranked[:top]]


def score(predictions: Sequence[Prediction]) -> Scores:
    """All the figures for ``predictions`` (see the module docstring for nlu_fallback)."""
    intents = sorted({p.expected for p in predictions})
    per_intent = {intent: intent_figures(predictions, intent) for intent in intents}
    oos_precision, oos_recall = precision_recall(predictions, [OUT_OF_SCOPE], DECLINED)
    strict_precision, strict_recall = precision_recall(predictions, [OUT_OF_SCOPE], [OUT_OF_SCOPE])
    correct = sum(p.expected == p.predicted for p in predictions)
    return Scores(
        messages=len(predictions),
        accuracy=ratio(correct, len(predictions)) or 0.0,
        macro_f1=sum(f.f1 for f in per_intent.values()) / len(per_intent) if per_intent else 0.0,
        out_of_scope_precision=oos_precision,
        out_of_scope_recall=oos_recall,
        strict_out_of_scope_precision=strict_precision,
        strict_out_of_scope_recall=strict_recall,
        safety_recall={
            intent: precision_recall(predictions, [intent], [intent])[1]
            for intent in SAFETY_INTENTS
        },
        fallback_rate=ratio(sum(p.predicted == FALLBACK for p in predictions), len(predictions))
        or 0.0,
        per_intent=per_intent,
        confused_pairs=confused_pairs(predictions),
    )
