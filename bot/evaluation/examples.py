"""Read labelled messages from Rasa NLU YAML files (training data and the held-out set)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT

HELDOUT_PATH = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
TRAINING_DIR = PROJECT_ROOT / "data"

# `[liver](site)`, `[liver](site:liver)` and `[liver]{"entity": "site"}` all read as "liver".
ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """One user message and the intent it was labelled with."""

    text: str
    intent: str


def plain_text(annotated: str) -> str:
    """The message as a user types it, without Rasa's entity markup."""
    return ENTITY_MARKUP.sub(r"\1", annotated).strip()


def example_texts(examples: Any) -> list[str]:
    """The texts of one intent's ``examples``: a block of ``- `` lines, or a list of dicts."""
    if isinstance(examples, str):
        lines = (line.strip() for line in examples.splitlines())
        return [plain_text(line[2:]) for line in lines if line.startswith("- ")]
    if isinstance(examples, list):
        return [plain_text(str(item["text"])) for item in examples if isinstance(item, dict)]
    return []


def read_examples(path: Path) -> list[Example]:
    """Every labelled message in one Rasa NLU YAML file, in file order."""
    with path.open(encoding="utf-8") as handle:
        content = yaml.safe_load(handle) or {}
    return [
        Example(text, str(block["intent"]))
        for block in content.get("nlu") or []
        if isinstance(block, dict) and "intent" in block
        for text in example_texts(block.get("examples"))
        if text
    ]


def training_examples(data_dir: Path = TRAINING_DIR) -> list[Example]:
    """The NLU training examples of every YAML file in ``data/``."""
    return [example for path in sorted(data_dir.glob("*.yml")) for example in read_examples(path)]


def heldout_examples(path: Path = HELDOUT_PATH, limit: int | None = None) -> list[Example]:
    """The held-out set, or ``limit`` messages of it taken in turn from each intent."""
    examples = read_examples(path)
    return examples if limit is None else spread_sample(examples, limit)


def spread_sample(examples: Sequence[Example], limit: int) -> list[Example]:
    """``limit`` examples, one intent after another, so a small sample covers many intents."""
    by_intent: dict[str, list[Example]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example)
    sample: list[Example] = []
    for depth in range(max((len(group) for group in by_intent.values()), default=0)):
        for group in by_intent.values():
            if len(sample) < limit and depth < len(group):
                sample.append(group[depth])
    return sample


def normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def shared_texts(heldout: Iterable[Example], training: Iterable[Example]) -> list[str]:
    """Held-out messages that also occur in the training data (ignoring case and punctuation)."""
    seen = {normalised(example.text) for example in training}
    return sorted({example.text for example in heldout if normalised(example.text) in seen})


def write_nlu_file(examples: Iterable[Example], path: Path) -> None:
    """Write ``examples`` as a Rasa NLU YAML file (for ``rasa test nlu`` on a sample)."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example.text)
    blocks = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in texts)}
        for intent, texts in by_intent.items()
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        yaml.safe_dump({"version": "3.1", "nlu": blocks}, handle, sort_keys=False, width=1000)
