"""The held-out test sets measure understanding only while none of their messages is training data.

Both sets are read with Rasa's own loader, which strips entity markup ("[liver](site)"), so a
held-out message cannot hide from the check behind an annotation.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot import paths


def normalised(text: str) -> str:
    """Lower-cased words of any script, without punctuation: "Liver?" and "liver" are one."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def nlu_files(*candidates: Path) -> list[Path]:
    """Those of ``candidates`` in Rasa's NLU format (not rules, stories or conversations)."""
    return [path for path in candidates if "nlu" in (yaml.safe_load(path.read_text()) or {})]


def heldout_files() -> list[Path]:
    return nlu_files(paths.HELDOUT, *sorted(paths.INDEPENDENT_HELDOUT_DIR.glob("*.yml")))


def messages(path: Path) -> dict[str, str]:
    """Every example of an NLU file, normalised, with its intent."""
    data = load_data(str(path))
    return {normalised(m.get("text")): m.get("intent") for m in data.intent_examples}


@pytest.fixture(scope="module")
def training() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in nlu_files(*sorted(paths.DATA_DIR.glob("*.yml"))):
        found.update(messages(path))
    return found


@pytest.mark.parametrize("path", heldout_files(), ids=lambda path: path.name)
def test_no_held_out_message_is_training_data(path: Path, training: dict[str, str]) -> None:
    shared = messages(path).keys() & training.keys()
    assert not shared, f"{path.name}: held-out messages found in data/: {sorted(shared)}"


def test_entity_markup_does_not_hide_a_shared_message(tmp_path: Path) -> None:
    annotated = tmp_path / "annotated.yml"
    annotated.write_text(
        'version: "3.1"\nnlu:\n- intent: site_symptoms\n  examples: |\n'
        "    - what happens when it is in the [Liver](site)?\n"
    )
    assert normalised("What happens when it is in the liver") in messages(annotated)


def test_the_held_out_sets_cover_every_intent_of_the_domain() -> None:
    domain = yaml.safe_load(paths.DOMAIN.read_text(encoding="utf-8"))
    covered: set[str] = set()
    for path in heldout_files():
        covered |= set(messages(path).values())
    assert set(domain["intents"]) <= covered
