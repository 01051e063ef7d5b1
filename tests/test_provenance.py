"""Every answer is traceable to the article, and every intent and action has an answer.

Reads domain.yml, data/rules.yml, data/stories.yml and tests/test_stories.yml as plain YAML:
no Rasa model or server is needed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.article import is_verbatim

DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
DIALOGUE_PATHS = {
    "rules": PROJECT_ROOT / "data" / "rules.yml",
    "stories": PROJECT_ROOT / "data" / "stories.yml",
    "test stories": PROJECT_ROOT / "tests" / "test_stories.yml",
}
# Names of drugs and drug classes the article never mentions; an answer naming one would be
# a fact from outside the article. A short list of the likeliest slips, not a full drug list.
DRUG_DENYLIST = (
    "tamoxifen",
    "herceptin",
    "trastuzumab",
    "letrozole",
    "anastrozole",
    "exemestane",
    "fulvestrant",
    "palbociclib",
    "ribociclib",
    "abemaciclib",
    "capecitabine",
    "paclitaxel",
    "docetaxel",
    "doxorubicin",
    "chemotherapy",
    "chemo",
    "hormone therapy",
    "immunotherapy",
)
# A number next to a percentage or a survival word: the article gives no survival figures.
SURVIVAL_STATISTIC = re.compile(
    r"\d+\s*(%|percent)|\d+\s*(years?|months?)\s+(to live|survival|left)"
    r"|(survival|survive|life expectancy)\D{0,30}\d",
    re.IGNORECASE,
)


def load_yaml(path: Any) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


DOMAIN: dict[str, Any] = load_yaml(DOMAIN_PATH)
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]
VARIATIONS = [
    pytest.param(variation, id=f"{name}[{index}]")
    for name, variations in RESPONSES.items()
    for index, variation in enumerate(variations)
]


def dialogue_steps(kind: str) -> list[dict[str, Any]]:
    """All steps of the rules or stories in one dialogue file."""
    data = load_yaml(DIALOGUE_PATHS[kind])
    blocks = data.get("rules") or data.get("stories") or []
    return [step for block in blocks for step in block["steps"]]


def rule_targets() -> dict[str, set[str]]:
    """For each intent, the actions that rules run right after it."""
    targets: dict[str, set[str]] = {}
    for rule in load_yaml(DIALOGUE_PATHS["rules"])["rules"]:
        steps = rule["steps"]
        for step, next_step in zip(steps, steps[1:], strict=False):
            if "intent" in step and "action" in next_step:
                targets.setdefault(step["intent"], set()).add(next_step["action"])
    return targets


@pytest.mark.parametrize("variation", VARIATIONS)
def test_passages_is_a_list(variation: dict[str, Any]) -> None:
    assert isinstance(variation.get("metadata", {}).get("passages"), list)


@pytest.mark.parametrize("variation", VARIATIONS)
def test_passages_are_verbatim_from_the_article(variation: dict[str, Any]) -> None:
    not_in_article = [p for p in variation["metadata"]["passages"] if not is_verbatim(p)]
    assert not_in_article == []


@pytest.mark.parametrize("variation", VARIATIONS)
def test_answer_without_passages_says_why(variation: dict[str, Any]) -> None:
    metadata = variation["metadata"]
    if not metadata["passages"]:
        reason = metadata.get("not_from_article")
        assert isinstance(reason, str) and reason.strip()


@pytest.mark.parametrize("variation", VARIATIONS)
def test_answer_has_no_survival_statistic(variation: dict[str, Any]) -> None:
    assert SURVIVAL_STATISTIC.search(variation["text"]) is None


@pytest.mark.parametrize("variation", VARIATIONS)
def test_answer_names_no_drug(variation: dict[str, Any]) -> None:
    words = variation["text"].lower()
    named = [drug for drug in DRUG_DENYLIST if re.search(rf"\b{drug}\b", words)]
    assert named == []


def test_survival_statistic_pattern_catches_a_figure() -> None:
    assert SURVIVAL_STATISTIC.search("About 30% of people survive five years.")
    assert SURVIVAL_STATISTIC.search("The 5-year survival rate is 29 percent.")
    assert SURVIVAL_STATISTIC.search("stage IV (4) breast cancer") is None


@pytest.mark.parametrize("intent", DOMAIN["intents"])
def test_every_intent_has_a_rule_with_a_known_action(intent: str) -> None:
    known_actions = set(RESPONSES) | set(DOMAIN["actions"])
    targets = rule_targets().get(intent, set())
    assert targets, f"no rule answers {intent}"
    assert targets <= known_actions


def intents_answered_by_custom_actions() -> set[str]:
    """Intents whose rules run only custom actions (their reply is built by the action)."""
    custom = set(DOMAIN["actions"])
    return {intent for intent, actions in rule_targets().items() if actions <= custom}


def test_the_custom_actions_answer_site_symptoms_and_symptom_worry() -> None:
    assert intents_answered_by_custom_actions() == {"site_symptoms", "symptom_worry"}


@pytest.mark.parametrize(
    "intent", sorted(set(DOMAIN["intents"]) - intents_answered_by_custom_actions())
)
def test_every_answered_intent_has_its_own_response(intent: str) -> None:
    assert f"utter_{intent}" in RESPONSES


@pytest.mark.parametrize("kind", sorted(DIALOGUE_PATHS))
def test_every_action_named_in_dialogues_exists(kind: str) -> None:
    actions = {step["action"] for step in dialogue_steps(kind) if "action" in step}
    unknown = actions - set(RESPONSES) - set(DOMAIN["actions"]) - {"action_listen"}
    assert unknown == set()


@pytest.mark.parametrize("kind", sorted(DIALOGUE_PATHS))
def test_every_intent_named_in_dialogues_exists(kind: str) -> None:
    intents = {step["intent"] for step in dialogue_steps(kind) if "intent" in step}
    assert intents - set(DOMAIN["intents"]) - {"nlu_fallback"} == set()
