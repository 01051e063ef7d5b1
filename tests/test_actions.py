"""The custom actions, run the way the action server runs them.

Each test builds a real Rasa tracker from events, turns it into the request Rasa's
``RemoteAction`` sends, and hands that to rasa-sdk's ``ActionExecutor`` (what the action
server's webhook does). Site entities come from the project's real spaCy pipeline, shaped as
Rasa's ``SpacyEntityExtractor`` shapes them; button payloads are parsed by Rasa's own
``RegexMessageHandler``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor
from spacy.language import Language

from actions.care_team import CARE_TEAM_RESPONSE, CareTeamAction
from actions.site_symptoms import NOT_COVERED, canonical_site
from bot import paths
from bot.article import is_verbatim, sites
from bot.nlu.pipeline import build
from tests.helpers import uttered

ACTION = "action_site_symptoms"
SYMPTOMS_PASSAGE = (
    "Your symptoms depend on where your metastases are and may include bone pain, cough, "
    "chest pain, headache, seizures, nausea, vomiting, loss of appetite, and fatigue."
)
ARTICLE_SYMPTOMS = [
    "bone pain",
    "cough",
    "chest pain",
    "headache",
    "seizures",
    "nausea",
    "vomiting",
    "loss of appetite",
    "fatigue",
]
SYMPTOMS_BY_SITE = {
    "lung": ["cough", "chest pain", "fatigue"],
    "liver": ["nausea", "vomiting", "loss of appetite", "fatigue"],
    "bones": ["bone pain", "fatigue"],
    "brain": ["headache", "seizures", "fatigue"],
}
OPENING = "Symptoms depend on where the cancer has spread."
REPLIES = {
    "lung": (
        f"Breast cancer commonly spreads to the lungs. {OPENING}\n"
        "When it has spread to the lungs, symptoms may include cough, chest pain and fatigue."
    ),
    "liver": (
        f"Breast cancer commonly spreads to the liver. {OPENING}\n"
        "When it has spread to the liver, symptoms may include nausea, vomiting, "
        "loss of appetite and fatigue."
    ),
    "bones": (
        f"Breast cancer commonly spreads to the bones. {OPENING}\n"
        "When it has spread to the bones, symptoms may include bone pain and fatigue."
    ),
    "brain": (
        f"Breast cancer commonly spreads to the brain. {OPENING}\n"
        "When it has spread to the brain, symptoms may include headache, seizures and fatigue."
    ),
}
SITE_WORDS = [
    (word, site_id) for site_id, entry in sites()["sites"].items() for word in entry["words"]
]
NOT_COVERED_WORDS = sites()["not_covered"]["words"]

Result = dict[str, Any]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(paths.DOMAIN)


@pytest.fixture(scope="module")
def nlp() -> Language:
    return build()


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    """The action server's executor, with every action of the ``actions`` package."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def parse(nlp: Language, text: str, intent: str = "site_symptoms") -> dict[str, Any]:
    """Rasa's parse data for a message of ``intent``, with the pipeline's site entities."""
    entities = [
        {
            "entity": ent.label_,
            "value": ent.text,
            "start": ent.start_char,
            "end": ent.end_char,
            "confidence": None,
            "extractor": "SpacyEntityExtractor",
        }
        for ent in nlp(text).ents
    ]
    return {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities,
    }


def parse_payload(payload: str, domain: Domain) -> dict[str, Any]:
    """Rasa's parse data for a button payload such as ``/site_symptoms{"site": "liver"}``."""
    message = RegexMessageHandler().process([Message(data={"text": payload})], domain)[0]
    return {key: message.get(key) for key in ("text", "intent", "entities")}


def user(parse_data: dict[str, Any]) -> list[Event]:
    return [ActionExecuted("action_listen"), uttered(parse_data)]


def run(
    executor: ActionExecutor,
    domain: Domain,
    events: list[Event],
    action_name: str = ACTION,
) -> Result:
    """Run ``action_name`` on a tracker of ``events``, as the action server would."""
    tracker = DialogueStateTracker.from_events("patient", events, domain.slots)
    call = RemoteAction(action_name, EndpointConfig("http://unused"))._action_call_format(
        tracker, domain
    )
    result: Result | None = asyncio.run(executor.run(call))  # type: ignore[arg-type]
    assert result is not None
    return result


def reply_names(result: Result) -> list[str | None]:
    """Per message: the domain response it uses, or None for a text the action wrote."""
    return [message["response"] for message in result["responses"]]


def texts(result: Result) -> list[str]:
    return [message["text"] for message in result["responses"] if message["text"]]


def slot_events(result: Result) -> list[tuple[str, Any]]:
    return [(event["name"], event["value"]) for event in result["events"]]


def ask(executor: ActionExecutor, domain: Domain, nlp: Language, text: str) -> Result:
    return run(executor, domain, user(parse(nlp, text)))


# --- article/sites.yml -------------------------------------------------------------------


def test_every_site_has_exactly_its_symptoms_from_the_article() -> None:
    by_site = {
        site_id: [item["symptom"] for item in entry["symptoms"]]
        for site_id, entry in sites()["sites"].items()
    }
    assert by_site == SYMPTOMS_BY_SITE
    assert {symptom for symptoms in by_site.values() for symptom in symptoms} == set(
        ARTICLE_SYMPTOMS
    )


def test_every_passage_in_sites_yml_is_verbatim_and_backs_its_symptom() -> None:
    for site_id, entry in sites()["sites"].items():
        assert entry["passage"] == f"{site_id.capitalize()}.", site_id
        assert is_verbatim(entry["passage"]), site_id
        for item in entry["symptoms"]:
            assert item["passage"] == SYMPTOMS_PASSAGE
            assert is_verbatim(item["passage"])
            assert item["symptom"] in item["passage"]
    for name, template in sites()["reply"].items():
        assert is_verbatim(template["passage"]), name


def test_site_words_do_not_overlap() -> None:
    words = [word.lower() for word, _ in SITE_WORDS] + [w.lower() for w in NOT_COVERED_WORDS]
    assert len(words) == len(set(words))


# --- one site ------------------------------------------------------------------------------


@pytest.mark.parametrize("site_id", list(REPLIES))
def test_each_site_gets_its_symptoms_then_the_care_team(
    executor: ActionExecutor, domain: Domain, nlp: Language, site_id: str
) -> None:
    result = ask(executor, domain, nlp, f"what are the symptoms when it spreads to the {site_id}?")

    assert reply_names(result) == [None, CARE_TEAM_RESPONSE]
    assert texts(result) == [REPLIES[site_id]]
    assert slot_events(result) == [("site", site_id)]


@pytest.mark.parametrize("site_id", list(REPLIES))
def test_the_reply_names_its_verbatim_passages(
    executor: ActionExecutor, domain: Domain, nlp: Language, site_id: str
) -> None:
    result = ask(executor, domain, nlp, f"and the {site_id}")

    passages = result["responses"][0]["metadata"]["passages"]
    assert passages == [
        "The most common areas of breast cancer metastasis are the:",
        f"{site_id.capitalize()}.",
        SYMPTOMS_PASSAGE,
    ]
    assert all(is_verbatim(passage) for passage in passages)


@pytest.mark.parametrize(("word", "site_id"), SITE_WORDS)
def test_every_word_in_sites_yml_gets_its_site(
    executor: ActionExecutor, domain: Domain, nlp: Language, word: str, site_id: str
) -> None:
    result = ask(executor, domain, nlp, f"it spread to my {word}, what should we watch for")

    assert texts(result) == [REPLIES[site_id]]
    assert slot_events(result) == [("site", site_id)]


@pytest.mark.parametrize(
    ("value", "site_id"),
    [
        ("Lungs", "lung"),
        ("LUNG", "lung"),
        ("Hepatic", "liver"),
        ("spine", "bones"),
        ("Spine", "bones"),
        ("Bone's", "bones"),
        ("Brain", "brain"),
        (" brain ", "brain"),
    ],
)
def test_entity_values_are_matched_whatever_their_case(value: str, site_id: str) -> None:
    assert canonical_site(value) == site_id


def rendered_buttons(domain: Domain, response: str) -> list[dict[str, Any]]:
    """The buttons of ``response`` as Rasa's NLG sends them to the user."""
    tracker = DialogueStateTracker.from_events("patient", [], domain.slots)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    message = asyncio.run(nlg.generate(response, tracker, "rest"))
    assert message is not None
    buttons: list[dict[str, Any]] = message.get("buttons") or []
    return buttons


def test_every_site_button_in_the_domain_gets_its_site(
    executor: ActionExecutor, domain: Domain
) -> None:
    buttons = [
        button
        for response, variations in domain.responses.items()
        if any(variation.get("buttons") for variation in variations)
        for button in rendered_buttons(domain, response)
        if button["payload"].startswith("/site_symptoms")
    ]
    assert len(buttons) >= 8  # utter_ask_site and utter_where_it_spreads at least
    for button in buttons:
        parse_data = parse_payload(button["payload"], domain)
        site_id = parse_data["entities"][0]["value"]

        result = run(executor, domain, user(parse_data))

        assert site_id in REPLIES, button
        assert texts(result) == [REPLIES[site_id]], button
        assert reply_names(result) == [None, CARE_TEAM_RESPONSE], button


# --- no site, other places, follow-ups, two sites -----------------------------------------


def test_without_a_site_it_asks_which_one(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    result = ask(executor, domain, nlp, "what symptoms should i look out for there")

    assert reply_names(result) == ["utter_ask_site", CARE_TEAM_RESPONSE]
    assert result["events"] == []


@pytest.mark.parametrize("word", NOT_COVERED_WORDS)
def test_places_the_article_does_not_cover_say_so(
    executor: ActionExecutor, domain: Domain, nlp: Language, word: str
) -> None:
    result = ask(executor, domain, nlp, f"what about the {word}?")

    assert reply_names(result) == ["utter_site_not_covered", CARE_TEAM_RESPONSE]
    assert slot_events(result) == [("site", None)]


@pytest.mark.parametrize("value", ["elbow", "not_covered", "", "lungliver", "the liver and"])
def test_an_unknown_site_value_is_not_covered(
    executor: ActionExecutor, domain: Domain, value: str
) -> None:
    entity = {"entity": "site", "value": value, "start": 0, "end": len(value)}
    parse_data = {"text": value, "intent": {"name": "site_symptoms"}, "entities": [entity]}

    result = run(executor, domain, user(parse_data))

    assert canonical_site(value) == NOT_COVERED
    assert reply_names(result) == ["utter_site_not_covered", CARE_TEAM_RESPONSE]


def asked_about_the_liver(nlp: Language, text: str = "does it spread to the liver") -> list[Event]:
    """An earlier turn: ``text`` answered by the site action, which set the site to liver."""
    return [*user(parse(nlp, text)), ActionExecuted(ACTION), SlotSet("site", "liver")]


@pytest.mark.parametrize(
    ("follow_up", "site_id"),
    [
        pytest.param("what should we watch for", "liver", id="no site: the previous one"),
        pytest.param("what about the brain?", "brain", id="a new site replaces it"),
    ],
)
def test_a_follow_up_gets_its_own_site_or_else_the_previous_one(
    executor: ActionExecutor, domain: Domain, nlp: Language, follow_up: str, site_id: str
) -> None:
    events = [*asked_about_the_liver(nlp), *user(parse(nlp, follow_up))]

    result = run(executor, domain, events)

    assert texts(result) == [REPLIES[site_id]]
    assert slot_events(result) == [("site", site_id)]


def test_a_slot_value_that_is_not_a_site_asks_which_one(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    earlier = [SlotSet("site", "elbow")]

    result = run(executor, domain, [*earlier, *user(parse(nlp, "and what else"))])

    assert reply_names(result) == ["utter_ask_site", CARE_TEAM_RESPONSE]


def test_two_sites_get_both_in_the_order_asked(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    result = ask(executor, domain, nlp, "it is in my lungs and liver")

    assert texts(result) == [
        "Breast cancer commonly spreads to the lungs and the liver. "
        f"{OPENING}\n"
        "When it has spread to the lungs, symptoms may include cough, chest pain and fatigue.\n"
        "When it has spread to the liver, symptoms may include nausea, vomiting, "
        "loss of appetite and fatigue."
    ]
    assert reply_names(result) == [None, CARE_TEAM_RESPONSE]
    assert result["responses"][0]["metadata"]["passages"] == [
        "The most common areas of breast cancer metastasis are the:",
        "Lung.",
        "Liver.",
        SYMPTOMS_PASSAGE,
    ]
    # A follow-up without a site goes on from the last one named.
    assert slot_events(result) == [("site", "liver")]


def test_two_words_for_one_site_give_it_once(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    result = ask(executor, domain, nlp, "chest pain, is it in my Lungs?")

    assert texts(result) == [REPLIES["lung"]]


def test_a_covered_and_an_uncovered_place_get_both_answers(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    result = ask(executor, domain, nlp, "spread to the liver and the skin")

    assert reply_names(result) == [None, "utter_site_not_covered", CARE_TEAM_RESPONSE]
    assert texts(result) == [REPLIES["liver"]]
    assert slot_events(result) == [("site", "liver")]


# --- action_symptom_worry ---------------------------------------------------------------

WORRY = "action_symptom_worry"
ONLY_CARE_TEAM = "utter_only_care_team_can_tell"
TELL_SOON = "utter_tell_care_team_soon"


def worry(executor: ActionExecutor, domain: Domain, nlp: Language, text: str) -> Result:
    return run(executor, domain, user(parse(nlp, text, "symptom_worry")), WORRY)


def worry_replies(answer: str | None) -> list[str | None]:
    """A worry's replies: only the care team can tell, ``answer`` (None: the site's facts the
    action writes), tell the care team soon, the care team's response."""
    return [ONLY_CARE_TEAM, answer, TELL_SOON, CARE_TEAM_RESPONSE]


@pytest.mark.parametrize(
    ("text", "site_id"),
    [
        ("my hip has hurt for weeks, could it be in my bones?", "bones"),
        ("could a cough mean it's in my lungs", "lung"),
        ("mum has headaches, is it the brain?", "brain"),
        ("i feel sick all the time, has it gone to my liver", "liver"),
        ("could my back pain mean osseous mets", "bones"),
        ("are my headaches cns mets", "brain"),
    ],
)
def test_a_worry_about_one_site_gets_care_team_then_site_facts_then_advice(
    executor: ActionExecutor, domain: Domain, nlp: Language, text: str, site_id: str
) -> None:
    result = worry(executor, domain, nlp, text)

    assert reply_names(result) == worry_replies(None)
    assert texts(result) == [REPLIES[site_id]]
    assert slot_events(result) == [("site", site_id)]


def test_a_worry_without_a_site_gets_the_general_symptoms(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    result = worry(executor, domain, nlp, "i am so tired lately, could it have spread?")

    assert reply_names(result) == worry_replies("utter_symptoms_in_general")
    assert result["events"] == []


def test_a_worry_without_a_site_follows_up_on_the_previous_site(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    latest = user(parse(nlp, "could my nausea mean that", "symptom_worry"))

    result = run(executor, domain, [*asked_about_the_liver(nlp, "and the liver"), *latest], WORRY)

    assert texts(result) == [REPLIES["liver"]]
    assert slot_events(result) == [("site", "liver")]


def test_a_worry_about_a_place_the_guide_does_not_cover_says_so(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    result = worry(executor, domain, nlp, "a lump in my lymph nodes, has it spread there?")

    assert reply_names(result) == worry_replies("utter_site_not_covered")
    assert slot_events(result) == [("site", None)]


# --- every action -------------------------------------------------------------------------


def trackers(nlp: Language, domain: Domain) -> dict[str, list[Event]]:
    """A range of conversations, to run every action on."""
    return {
        "no events": [],
        "no user message yet": [ActionExecuted("action_listen")],
        "another intent": user(
            {"text": "hi", "intent": {"name": "greet", "confidence": 1.0}, "entities": []}
        ),
        "one site": user(parse(nlp, "what about the bones")),
        "two sites": user(parse(nlp, "brain and lungs")),
        "other place": user(parse(nlp, "my ovaries")),
        "covered and other place": user(parse(nlp, "the spine and lymph nodes")),
        "no site": user(parse(nlp, "what about there")),
        "button": user(
            parse_payload(rendered_buttons(domain, "utter_ask_site")[-1]["payload"], domain)
        ),
        "follow-up": [*asked_about_the_liver(nlp, "liver"), *user(parse(nlp, "and what else"))],
        "odd entity value": user(
            {
                "text": "?",
                "intent": {"name": "site_symptoms"},
                "entities": [{"entity": "site", "value": 3}],
            }
        ),
    }


def test_every_action_is_a_care_team_action_listed_in_the_domain(
    executor: ActionExecutor, domain: Domain
) -> None:
    assert {ACTION, "action_symptom_worry"} <= set(executor.actions)
    for name, run_action in executor.actions.items():
        assert isinstance(run_action.__self__, CareTeamAction), name
        assert name in domain.user_actions, name


def test_every_action_ends_every_reply_with_the_care_team(
    executor: ActionExecutor, domain: Domain, nlp: Language
) -> None:
    for action_name in executor.actions:
        for case, events in trackers(nlp, domain).items():
            result = run(executor, domain, events, action_name)

            names = reply_names(result)
            assert names[-1] == CARE_TEAM_RESPONSE, (action_name, case)
            assert names.count(CARE_TEAM_RESPONSE) == 1, (action_name, case)
            assert len(names) >= 2, (action_name, case)
            for name in names:
                assert name is None or name in domain.responses, (action_name, case, name)
            for message in result["responses"]:
                for passage in message.get("metadata", {}).get("passages", []):
                    assert is_verbatim(passage), (action_name, case, passage)
