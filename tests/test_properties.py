"""Properties that hold for any input: Hypothesis generates the text, slots and entities.

- ``action_site_symptoms`` (real rasa-sdk ``Tracker`` and ``CollectingDispatcher``): never
  raises, always ends its reply with ``utter_care_team``, only quotes the article, and only
  ever stores a canonical site in the ``site`` slot.
- The red-flag NLU component (real ``SpacyNLP`` doc or its own fallback doc): never raises,
  and either leaves the intent alone or sets emergency / self_harm with confidence 1.0.
- The REST channel's checks (bot/channels/rest.py): any body is either accepted or refused
  with ``InvalidRequest``; the cleaned text never holds a control character.
"""

from __future__ import annotations

import asyncio
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from actions.care_team import CARE_TEAM_RESPONSE
from actions.site_symptoms import ActionSiteSymptoms, covered_sites
from bot import PROJECT_ROOT
from bot.article import is_verbatim, sites
from bot.channels.rest import (
    InvalidRequest,
    RestInput,
    checked_request,
    clean_text,
    parse_body,
)
from bot.nlu.pipeline import build
from bot.nlu.red_flags import KINDS, RedFlagDetector
from tests.helpers import WITH_FIXTURES

SITE_WORDS = [
    word
    for section in (*sites()["sites"].values(), sites()["not_covered"])
    for word in section["words"]
]
RED_FLAG_PHRASES = [
    "she is having a seizure",
    "i cant breathe",
    "coughing up blood",
    "i want to end it all",
    "i want to kill myself",
    "i'm not suicidal",
]
INTENTS = ["site_symptoms", "symptoms", "where_it_spreads", "nlu_fallback", "greet"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
site_like_values = st.sampled_from([*SITE_WORDS, *covered_sites(), "not_covered"]) | json_values
messy_text = st.text(max_size=200) | st.lists(
    st.sampled_from([*SITE_WORDS, *RED_FLAG_PHRASES, "and", "what about", "?", "🙏", "\u0000"])
    | st.text(max_size=10),
    max_size=12,
).map(" ".join)


# --- action_site_symptoms ------------------------------------------------------------------


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text("utf-8"))
    return loaded


def entity(value: Any, name: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": 1, "extractor": "any"}


def tracker(text: str, entities: list[dict[str, Any]], slot: Any) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": "site_symptoms", "confidence": 1.0},
        "entities": entities,
    }
    return Tracker(
        sender_id="property",
        slots={"site": slot, "emergency_number": "911", "crisis_line": "988"},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@settings(WITH_FIXTURES, max_examples=300)
@given(
    text=messy_text,
    site_values=st.lists(site_like_values, max_size=4),
    other_entities=st.lists(st.tuples(json_values, st.text(max_size=8)), max_size=2),
    slot=site_like_values,
)
def test_site_symptoms_always_ends_with_the_care_team_and_quotes_only_the_article(
    domain: dict[str, Any],
    text: str,
    site_values: list[Any],
    other_entities: list[tuple[Any, str]],
    slot: Any,
) -> None:
    entities = [entity(value, "site") for value in site_values]
    entities += [entity(value, name) for value, name in other_entities]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionSiteSymptoms().run(dispatcher, tracker(text, entities, slot), domain)
    )
    assert dispatcher.messages, "the action always says something"
    assert dispatcher.messages[-1]["response"] == CARE_TEAM_RESPONSE
    assert [m["response"] for m in dispatcher.messages].count(CARE_TEAM_RESPONSE) == 1
    for message in dispatcher.messages:
        if message["response"] is None:
            passages = message["metadata"]["passages"]
            assert passages and all(is_verbatim(passage) for passage in passages)
        else:
            assert message["response"] in domain["responses"]
    for event in events:
        assert event["event"] == "slot" and event["name"] == "site"
        assert event["value"] is None or event["value"] in covered_sites()


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    """The action server's executor, with every action of the ``actions`` package."""
    executor = ActionExecutor()
    executor.register_package("actions")
    assert executor.actions, "no custom actions found in actions/"
    return executor


@settings(WITH_FIXTURES, max_examples=200)
@given(
    text=messy_text,
    intent=st.text(max_size=20) | st.sampled_from(INTENTS),
    site_values=st.lists(site_like_values, max_size=3),
    slots=st.dictionaries(st.sampled_from(["site", "emergency_number", "other"]), json_values),
    data=st.data(),
)
def test_every_custom_action_ends_with_the_care_team_through_the_action_server(
    executor: ActionExecutor,
    domain: dict[str, Any],
    text: str,
    intent: str,
    site_values: list[Any],
    slots: dict[str, Any],
    data: st.DataObject,
) -> None:
    action_name = data.draw(st.sampled_from(sorted(executor.actions)))
    state = tracker(text, [entity(value, "site") for value in site_values], None).current_state()
    state["slots"] = slots
    state["latest_message"]["intent"] = {"name": intent, "confidence": 0.5}
    call = {"next_action": action_name, "sender_id": "property", "tracker": state}
    result = asyncio.run(executor.run({**call, "domain": domain, "version": "3.6.21"}))
    assert result is not None
    assert result["responses"][-1]["response"] == CARE_TEAM_RESPONSE


# --- the red-flag NLU component ------------------------------------------------------------


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> RedFlagDetector:
    return RedFlagDetector.create(
        RedFlagDetector.get_default_config(),
        LocalModelStorage(Path(tmp_path_factory.mktemp("storage"))),
        Resource("red_flags"),
        ExecutionContext(GraphSchema({}), "test"),
    )


@pytest.fixture(scope="module")
def spacy_nlp() -> tuple[SpacyNLP, SpacyModel]:
    model = SpacyModel(model=build(), model_name="mbc")
    return SpacyNLP(model, SpacyNLP.get_default_config()), model


def predicted(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={TEXT: text})
    ranking = [{"name": intent, "confidence": confidence}, {"name": "coping", "confidence": 0.0}]
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    return message


@settings(WITH_FIXTURES, max_examples=200)
@given(
    text=messy_text,
    intent=st.sampled_from(INTENTS),
    confidence=st.floats(0, 1),
    with_spacy_doc=st.booleans(),
)
def test_red_flags_never_fail_and_only_ever_set_a_safety_intent(
    detector: RedFlagDetector,
    spacy_nlp: tuple[SpacyNLP, SpacyModel],
    text: str,
    intent: str,
    confidence: float,
    with_spacy_doc: bool,
) -> None:
    message = predicted(text, intent, confidence)
    if with_spacy_doc:
        component, model = spacy_nlp
        component.process([message], model)
    [processed] = detector.process([message])
    result = processed.get(INTENT)
    ranking = [entry["name"] for entry in processed.get(INTENT_RANKING_KEY)]
    if result["name"] == intent and result["confidence"] == confidence:
        assert ranking[0] == intent
    else:
        assert result == {"name": result["name"], "confidence": 1.0}
        assert result["name"] in KINDS
        assert ranking[0] == result["name"]
    assert len(ranking) == len(set(ranking))


# --- the REST channel's checks -------------------------------------------------------------


def is_unwanted(character: str) -> bool:
    return unicodedata.category(character) in ("Cc", "Cs")


@settings(max_examples=500, deadline=None)
@given(st.text() | st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0xFFFF)))
def test_cleaned_text_has_no_control_characters_and_keeps_the_rest(text: str) -> None:
    cleaned = clean_text(text)
    assert not any(is_unwanted(character) for character in cleaned)
    assert clean_text(cleaned) == cleaned
    kept = [c if c not in "\t\n\r" else " " for c in text if not is_unwanted(c) or c in "\t\n\r"]
    assert cleaned == "".join(kept)


@settings(max_examples=500, deadline=None)
@given(st.binary() | json_values.map(lambda value: json.dumps(value).encode("utf-8")))
def test_any_body_is_accepted_or_refused_with_a_reason(body: bytes) -> None:
    try:
        data = parse_body(body)
    except InvalidRequest as error:
        assert str(error)
    else:
        assert isinstance(data, dict)


@settings(max_examples=500, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "sender": json_values | st.text(max_size=200),
            "message": json_values | messy_text,
            "metadata": json_values,
            "input_channel": json_values,
        },
    )
)
def test_any_json_object_is_accepted_cleanly_or_refused(fields: dict[str, Any]) -> None:
    try:
        _, incoming = checked_request(json.dumps(fields).encode("utf-8"))
    except InvalidRequest as error:
        assert str(error)
    else:
        assert incoming.sender == fields["sender"]
        assert incoming.message == incoming.message.strip()
        assert not any(is_unwanted(character) for character in incoming.message)


def test_the_message_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_MESSAGE_CHARS", raising=False)
    assert RestInput().max_message_chars == 2000
    monkeypatch.setenv("MAX_MESSAGE_CHARS", "500")
    assert RestInput().max_message_chars == 500
    assert RestInput.name() == "rest"
