"""Conversations that look like real use: messages as long as patients write them.

Patients' messages are about 11 words long on average, and up to about 60. The held-out
lines are shorter, so a message is one held-out line or several in a row, up to a length drawn
from a log-normal distribution. Emergency and self-harm lines are left out: a benchmark that
raised alarms all the time would measure the alarm, not everyday use.
"""

from __future__ import annotations

import random
import statistics
import uuid
from collections.abc import Sequence

from bot.evaluation.answers import SAFETY_INTENTS
from bot.evaluation.examples import Example
from bot.evaluation.load import Conversation

MAX_WORDS = 60
# exp(1.5) ~ 4.5 words wanted (median); whole lines make it ~11 on average, up to 60.
LOG_WORDS_MEAN, LOG_WORDS_SIGMA = 1.5, 0.8


def patient_message(lines: Sequence[str], chooser: random.Random) -> str:
    wanted = min(MAX_WORDS, max(1, round(chooser.lognormvariate(LOG_WORDS_MEAN, LOG_WORDS_SIGMA))))
    words: list[str] = []
    while len(words) < wanted:
        words += chooser.choice(lines).split()
    return " ".join(words[:MAX_WORDS])


def conversations(
    examples: Sequence[Example], count: int, length: int, seed: int = 20241201
) -> list[Conversation]:
    """``count`` conversations of ``length`` messages each, the same for the same ``seed``."""
    lines = [example.text for example in examples if example.intent not in SAFETY_INTENTS]
    chooser = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    return [
        Conversation(f"bench-{run}-{n}", [patient_message(lines, chooser) for _ in range(length)])
        for n in range(count)
    ]


def word_counts(counts: Sequence[int]) -> dict[str, float]:
    """The mean, median and largest number of words of the messages sent."""
    return {
        "mean": statistics.fmean(counts),
        "median": statistics.median(counts),
        "max": max(counts),
    }
