"""The labelled messages: training data and the held-out sets, read with Rasa's own loader.

A held-out set has one or more *styles* (one Rasa NLU file each) and may have follow-up
conversations (``followups.yml``: ``conversations: [{id, turns: [{text, intent, site?}]}]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot import paths
from bot.article import load_yaml

FOLLOWUPS_FILE = "followups.yml"


@dataclass(frozen=True)
class Example:
    """One user message, the intent it was labelled with, and the sites it names."""

    text: str
    intent: str
    sites: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Conversation:
    """Messages sent one after another by one person; turn 2 on are follow-ups."""

    id: str
    turns: tuple[Example, ...]


@dataclass
class HeldOutSet:
    """A held-out set: its messages by style, and its follow-up conversations."""

    name: str
    path: Path
    styles: dict[str, list[Example]]
    conversations: list[Conversation] = field(default_factory=list)

    @property
    def examples(self) -> list[Example]:
        return [example for examples in self.styles.values() for example in examples]


def read_nlu(path: Path) -> list[Example]:
    """Every labelled message of a Rasa NLU file, entity markup resolved."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [
        Example(
            str(message.get("text")),
            str(message.get("intent")),
            frozenset(
                str(entity["value"])
                for entity in message.get("entities") or []
                if entity.get("entity") == "site"
            ),
        )
        for message in load_data(str(path)).intent_examples
    ]


def read_conversations(path: Path) -> list[Conversation]:
    content = load_yaml(path) or {}
    return [
        Conversation(
            str(conversation["id"]),
            tuple(
                Example(
                    str(turn["text"]),
                    str(turn["intent"]),
                    frozenset([str(turn["site"])] if turn.get("site") else []),
                )
                for turn in conversation["turns"]
            ),
        )
        for conversation in content.get("conversations") or []
    ]


def training_examples(data_dir: Path = paths.DATA_DIR) -> list[Example]:
    """The examples of every NLU file in ``data/`` (Rasa tells them from stories and rules)."""
    from rasa.shared.data import get_data_files, is_nlu_file

    files = sorted(get_data_files([str(data_dir)], is_nlu_file))
    return [example for file in files for example in read_nlu(Path(file))]


def heldout_set(name: str, path: Path, limit: int | None = None) -> HeldOutSet:
    """One file (style ``all``), or a folder with one file per style and ``followups.yml``."""
    if path.is_file():
        return HeldOutSet(name, path, {"all": spread_sample(read_nlu(path), limit)})
    styles = {
        style.stem: spread_sample(read_nlu(style), limit)
        for style in sorted(path.glob("*.yml"))
        if style.name != FOLLOWUPS_FILE
    }
    followups = path / FOLLOWUPS_FILE
    conversations = read_conversations(followups) if followups.exists() else []
    return HeldOutSet(name, path, styles, conversations[:limit])


def spread_sample(examples: Sequence[Example], limit: int | None) -> list[Example]:
    """``limit`` examples taken in turn from each intent, so a small sample covers many."""
    if limit is None:
        return list(examples)
    by_intent: dict[str, list[Example]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example)
    groups = list(by_intent.values())
    sample: list[Example] = []
    for depth in range(max(map(len, groups), default=0)):
        sample += [group[depth] for group in groups if depth < len(group)]
    return sample[:limit]
