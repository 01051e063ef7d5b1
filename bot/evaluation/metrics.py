"""The figures of ``make eval``, from one :class:`Outcome` per message sent.

Every figure is a share, ``(hits, of)``, of the outcomes it is about; each column of the
report names what it counts (see ``SINGLE_FIGURES`` and ``FOLLOW_UP_FIGURES``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.evaluation.answers import OUT_OF_SCOPE, SAFETY_INTENTS

Share = tuple[int, int]
FOLLOW_UPS = "follow-ups"  # the style of the turns of conversations


@dataclass(frozen=True)
class Outcome:
    """One message of a held-out set: its label, what Rasa and the baseline made of it."""

    style: str
    text: str
    intent: str
    served: str  # the intent as served, nlu_fallback included
    ranked: (
        str  # the intent the classifier ranked first (nlu_fallback undone, as `rasa test nlu` does)
    )
    baseline: str
    right: bool  # the reply, judged by bot.evaluation.answers
    false_alarm: bool
    answer: str  # the first response of the reply
    turn: int = 1  # its position in its conversation

    @property
    def is_safety(self) -> bool:
        return self.intent in SAFETY_INTENTS

    @property
    def in_scope(self) -> bool:
        return not self.is_safety and self.intent != OUT_OF_SCOPE


Figure = tuple[Callable[[Outcome], bool], Callable[[Outcome], bool]]  # (counted, hit)

SINGLE_FIGURES: dict[str, Figure] = {
    "Right answers in scope (REST)": (lambda o: o.in_scope, lambda o: o.right),
    "Intent in scope, Rasa as served": (lambda o: o.in_scope, lambda o: o.served == o.intent),
    "Intent in scope, classifier first": (lambda o: o.in_scope, lambda o: o.ranked == o.intent),
    "Intent in scope, SVM": (lambda o: o.in_scope, lambda o: o.baseline == o.intent),
    "Out of scope declined (REST)": (lambda o: o.intent == OUT_OF_SCOPE, lambda o: o.right),
    "Out of scope, SVM": (lambda o: o.intent == OUT_OF_SCOPE, lambda o: o.baseline == o.intent),
    "Emergencies caught (REST)": (lambda o: o.is_safety, lambda o: o.right),
    "Emergencies, SVM": (lambda o: o.is_safety, lambda o: o.baseline in SAFETY_INTENTS),
    "False alarms (REST)": (lambda o: not o.is_safety, lambda o: o.false_alarm),
    "False alarms, SVM": (lambda o: not o.is_safety, lambda o: o.baseline in SAFETY_INTENTS),
}

FOLLOW_UP_FIGURES: dict[str, Figure] = {
    "Follow-up turns right (REST)": (lambda o: o.turn > 1 and not o.is_safety, lambda o: o.right),
    "Follow-up intent, SVM (turn alone)": (
        lambda o: o.turn > 1 and not o.is_safety,
        lambda o: o.baseline == o.intent,
    ),
    "Emergencies mid-conversation caught (REST)": (
        lambda o: o.turn > 1 and o.is_safety,
        lambda o: o.right,
    ),
    "False alarms (REST)": (lambda o: not o.is_safety, lambda o: o.false_alarm),
}


def svm_right(outcome: Outcome) -> bool:
    """The baseline's intent is the label (for an emergency or self-harm: either alarm)."""
    if outcome.is_safety:
        return outcome.baseline in SAFETY_INTENTS
    return outcome.baseline == outcome.intent


Pairing = tuple[Callable[[Outcome], bool], Callable[[Outcome], bool]]  # (counted, Rasa's hit)

# Rasa against the baseline on the same messages; the baseline's hit is always ``svm_right``.
AGAINST_BASELINE: dict[str, Pairing] = {
    "Single messages in scope: classifier's first intent": (
        lambda o: o.style != FOLLOW_UPS and o.in_scope,
        lambda o: o.ranked == o.intent,
    ),
    "Every single message: Rasa's answer (REST)": (
        lambda o: o.style != FOLLOW_UPS,
        lambda o: o.right,
    ),
    "Follow-up turns: Rasa's answer (REST)": (
        lambda o: o.style == FOLLOW_UPS and o.turn > 1,
        lambda o: o.right,
    ),
}


@dataclass(frozen=True)
class Paired:
    """Messages only Rasa got right, only the baseline got right, and the exact McNemar test."""

    messages: int
    rasa_only: int
    baseline_only: int
    p_value: float  # two-sided: how often chance alone would split the discordant pairs so


def paired(outcomes: Sequence[Outcome], pairing: Pairing) -> Paired:
    from scipy.stats import binomtest

    counted, rasa_hit = pairing
    chosen = [outcome for outcome in outcomes if counted(outcome)]
    rasa_only = sum(rasa_hit(o) and not svm_right(o) for o in chosen)
    baseline_only = sum(svm_right(o) and not rasa_hit(o) for o in chosen)
    discordant = rasa_only + baseline_only
    p_value = binomtest(rasa_only, discordant).pvalue if discordant else 1.0
    return Paired(len(chosen), rasa_only, baseline_only, float(p_value))


def against_baseline(outcomes: Sequence[Outcome]) -> dict[str, Paired]:
    """Each comparison of ``AGAINST_BASELINE`` that counts any message."""
    pairs = {name: paired(outcomes, pairing) for name, pairing in AGAINST_BASELINE.items()}
    return {name: pair for name, pair in pairs.items() if pair.messages}


def share(outcomes: Sequence[Outcome], figure: Figure) -> Share:
    counted, hit = figure
    chosen = [outcome for outcome in outcomes if counted(outcome)]
    return sum(hit(outcome) for outcome in chosen), len(chosen)


def figures(outcomes: Sequence[Outcome], wanted: dict[str, Figure]) -> dict[str, Share]:
    return {name: share(outcomes, figure) for name, figure in wanted.items()}


def missed_safety(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """Emergency and self-harm messages that did not get the alarm first."""
    return [outcome for outcome in outcomes if outcome.is_safety and not outcome.right]


def per_intent(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 of Rasa as served and of the baseline, and right answers."""
    from sklearn.metrics import precision_recall_fscore_support

    intents = sorted({outcome.intent for outcome in outcomes})
    truth = [outcome.intent for outcome in outcomes]
    scores = {}
    for name, predicted in (
        ("served", [outcome.served for outcome in outcomes]),
        ("baseline", [outcome.baseline for outcome in outcomes]),
    ):
        precision, recall, f1, support = precision_recall_fscore_support(
            truth, predicted, labels=intents, zero_division=0
        )
        scores[name] = (precision, recall, f1, support)
    right = Counter(outcome.intent for outcome in outcomes if outcome.right)
    precision, recall, f1, support = scores["served"]
    return {
        intent: {
            "messages": int(support[i]),
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "baseline_f1": float(scores["baseline"][2][i]),
            "right_answers": right[intent] / int(support[i]),
        }
        for i, intent in enumerate(intents)
    }


def confusions(outcomes: Sequence[Outcome], top: int = 10) -> list[tuple[str, str, int]]:
    """The most frequent (label, intent as served) mistakes."""
    counts = Counter((o.intent, o.served) for o in outcomes if o.intent != o.served)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(label, served, count) for (label, served), count in ranked[:top]]
