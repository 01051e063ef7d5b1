"""The held-out test set measures understanding only while none of it is training data."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot import PROJECT_ROOT

TRAINING = PROJECT_ROOT / "data" / "nlu.yml"
HELD_OUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"


def normalised(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def examples(path: Path) -> dict[str, str]:
    """Every example of an NLU file, normalised, with its intent."""
    found = {}
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in block.get("examples", "").splitlines():
            if line.strip().startswith("- "):
                found[normalised(line.strip()[2:])] = block["intent"]
    return found


def test_no_held_out_message_is_training_data() -> None:
    shared = examples(HELD_OUT).keys() & examples(TRAINING).keys()
    assert not shared, f"held-out messages found in data/nlu.yml: {sorted(shared)}"


def test_held_out_set_covers_every_intent_of_the_domain() -> None:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert set(domain["intents"]) <= set(examples(HELD_OUT).values())
    assert len(examples(HELD_OUT)) >= 200
