"""What the key answers in domain.yml must say, checked with Rasa's own domain classes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from rasa.core.nlg.interpolator import interpolate
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.message import Message

from bot import PROJECT_ROOT
from bot.article import sites, source

DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
SITE_NAMES = sorted(sites()["sites"])
CARE_TEAM = "care team"
EMERGENCY_FIRST_LINE = (
    "If this is happening now, call {emergency_number} or your local emergency number now."
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(DOMAIN_PATH)


@pytest.fixture(scope="module")
def responses() -> dict[str, Any]:
    with DOMAIN_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data["responses"]


def text_of(responses: dict[str, Any], name: str) -> str:
    """The text of a response's first variation."""
    text: str = responses[name][0]["text"]
    return text


def sentences(text: str) -> list[str]:
    """The text split after full stops, question and exclamation marks."""
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+", text.strip()) if part.strip()]


def slot_values(domain: Domain) -> dict[str, Any]:
    """Each slot's initial value, as Rasa fills a response before the user has said anything."""
    return {slot.name: slot.initial_value for slot in domain.slots}


def test_emergency_first_sentence_says_to_call_the_emergency_number(
    responses: dict[str, Any],
) -> None:
    first = sentences(text_of(responses, "utter_emergency"))[0]
    assert first == EMERGENCY_FIRST_LINE


def test_emergency_number_is_filled_in_from_its_slot(
    domain: Domain, responses: dict[str, Any]
) -> None:
    filled = interpolate(text_of(responses, "utter_emergency"), slot_values(domain))
    assert "call 911 or your local emergency number now" in filled


def test_self_harm_gives_the_crisis_line_and_the_emergency_number(
    domain: Domain, responses: dict[str, Any]
) -> None:
    text = text_of(responses, "utter_self_harm")
    assert "{crisis_line}" in text and "{emergency_number}" in text
    filled = interpolate(text, slot_values(domain))
    assert "call or text 988" in filled.lower()


def test_source_names_author_review_date_and_every_reference(responses: dict[str, Any]) -> None:
    text = text_of(responses, "utter_source")
    facts = source()
    assert facts["author"] in text
    assert facts["publisher"] in text
    assert "January 5, 2023" in text
    for reference in facts["references"]:
        title, publisher = reference.split(". ")[:2]
        assert title in text and publisher in text


def test_where_it_spreads_names_the_four_sites(responses: dict[str, Any]) -> None:
    text = text_of(responses, "utter_where_it_spreads").lower()
    assert all(site in text for site in ("lung", "liver", "bones", "brain"))


@pytest.mark.parametrize("name", ["utter_where_it_spreads", "utter_symptoms", "utter_ask_site"])
def test_site_buttons_send_site_symptoms_for_each_site(
    domain: Domain, responses: dict[str, Any], name: str
) -> None:
    buttons = interpolate([dict(b) for b in responses[name][0]["buttons"]], slot_values(domain))
    assert len(buttons) == 4
    payloads = [button["payload"] for button in buttons]
    parsed = RegexMessageHandler().process([Message(data={"text": p}) for p in payloads], domain)
    assert {message.get("intent")["name"] for message in parsed} == {"site_symptoms"}
    assert sorted(message.get("entities")[0]["value"] for message in parsed) == SITE_NAMES


def test_site_buttons_survive_slot_filling(domain: Domain, responses: dict[str, Any]) -> None:
    # Payloads escape their JSON braces ("{{"), so Rasa's slot filling leaves them whole
    # instead of logging an error for every button it sends.
    buttons = responses["utter_where_it_spreads"][0]["buttons"]
    filled = interpolate([dict(button) for button in buttons], slot_values(domain))
    assert [b["payload"] for b in filled] == [
        f'/site_symptoms{{"site": "{site}"}}' for site in ("lung", "liver", "bones", "brain")
    ]


def test_symptoms_invites_the_user_to_name_a_site(responses: dict[str, Any]) -> None:
    last = sentences(text_of(responses, "utter_symptoms"))[-1]
    assert last.startswith("Tell me where it has spread (lung, liver, bones or brain)")


def test_diagnosis_and_treatment_say_what_the_guide_does_not_name(
    responses: dict[str, Any],
) -> None:
    assert "does not say which tests" in text_of(responses, "utter_diagnosis")
    assert "does not name any drugs" in text_of(responses, "utter_treatment")


def test_action_unavailable_ends_with_the_care_team(responses: dict[str, Any]) -> None:
    last = sentences(text_of(responses, "utter_action_unavailable"))[-1]
    assert CARE_TEAM in last.lower()


@pytest.mark.parametrize(
    "name",
    ["utter_out_of_scope", "utter_default", "utter_diagnosis", "utter_human_handoff"],
)
def test_answers_without_an_answer_point_to_the_care_team(
    responses: dict[str, Any], name: str
) -> None:
    assert CARE_TEAM in text_of(responses, name).lower()


def test_out_of_scope_says_the_guide_cannot_answer(responses: dict[str, Any]) -> None:
    first = sentences(text_of(responses, "utter_out_of_scope"))[0]
    assert first == "That is not something I can answer from this guide."


def test_symptom_worry_says_only_the_care_team_can_tell(responses: dict[str, Any]) -> None:
    variation = responses["utter_only_care_team_can_tell"][0]
    assert "Only your care team can tell" in variation["text"]
    assert variation["metadata"]["passages"] == []
    assert variation["metadata"]["not_from_article"].strip()


def test_symptom_worry_advises_telling_the_care_team_soon(responses: dict[str, Any]) -> None:
    variation = responses["utter_tell_care_team_soon"][0]
    first = sentences(variation["text"])[0]
    assert first.startswith("Please tell your care team soon about any new symptom")
    # The advice is not from the article, so the response declares it.
    assert variation["metadata"]["not_from_article"].strip()


def test_general_symptoms_give_every_symptom_of_the_article(responses: dict[str, Any]) -> None:
    text = text_of(responses, "utter_symptoms_in_general")
    for entry in sites()["sites"].values():
        assert all(item["symptom"] in text for item in entry["symptoms"])


def test_other_language_says_english_only_and_points_to_the_care_team(
    responses: dict[str, Any],
) -> None:
    text = text_of(responses, "utter_other_language")
    assert sentences(text)[0] == "Sorry, I can answer in English only."
    assert CARE_TEAM in text.lower()
