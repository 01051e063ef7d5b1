"""The red-flag detector (bot/nlu/red_flags.py) with real spaCy and real Rasa components.

Messages go through Rasa's own ``SpacyNLP`` component, loaded with the project's spaCy
pipeline (``bot.nlu.pipeline.build()``), exactly as in the trained model; no model is trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot import PROJECT_ROOT
from bot.nlu.pipeline import build
from bot.nlu.red_flags import (
    EMERGENCY,
    KINDS,
    PATTERNS_FILE_KEY,
    PATTERNS_PATH,
    RED_FLAG,
    SELF_HARM,
    RedFlagDetector,
)

DETECTOR_NAME = "bot.nlu.red_flags.RedFlagDetector"
PREDICTED = "treatment"

# (message, family in red_flags.yml). Every family has examples: see test_every_family_is_tested.
EMERGENCIES = [
    ("i can't breathe", "breathing"),
    ("i cant breath", "breathing"),
    ("I CANNOT BREATHE", "breathing"),
    ("she can’t breathe", "breathing"),
    ("my husband is unable to breathe", "breathing"),
    ("he's struggling to breathe", "breathing"),
    ("my dad is not breathing", "breathing"),
    ("she stopped breathing", "breathing"),
    ("i'm having trouble breathing", "breathing"),
    ("i can barely breathe", "breathing"),
    ("she's having a seizure right now", "seizure"),
    ("he is seizing", "seizure"),
    ("my mom is having a siezure", "seizure"),
    ("she's been having seizures all morning", "seizure"),
    ("my wife just had a seizure", "seizure"),
    ("he is convulsing", "seizure"),
    ("seizure right now help", "seizure"),
    ("i am coughing up blood", "coughing_blood"),
    ("i coughed blood this morning", "coughing_blood"),
    ("she is coughing blood", "coughing_blood"),
    ("he is throwing up blood", "coughing_blood"),
    ("i have severe chest pain", "chest_pain"),
    ("crushing chest pain", "chest_pain"),
    ("my chest pain is really bad", "chest_pain"),
    ("i think i'm having a heart attack", "heart_attack_or_stroke"),
    ("is she having a stroke?", "heart_attack_or_stroke"),
    ("sudden weakness in my arm", "sudden_weakness"),
    ("she is suddenly weak on one side", "sudden_weakness"),
    ("i can't move my left arm", "sudden_weakness"),
    ("he cant move his leg", "sudden_weakness"),
    ("i can't feel my legs", "sudden_weakness"),
    ("her face is drooping", "sudden_weakness"),
    ("face drooping and slurring her words", "sudden_weakness"),
    ("sudden confusion", "confusion"),
    ("my mom is suddenly very confused", "confusion"),
    ("he is confused and can't talk", "confusion"),
    ("she passed out", "fainting"),
    ("my dad fainted in the kitchen", "fainting"),
    ("i think i'm going to pass out", "fainting"),
    ("he's unconscious", "unresponsive"),
    ("she is not waking up", "unresponsive"),
    ("she won't wake up", "unresponsive"),
    ("my mom is unresponsive", "unresponsive"),
    ("i can't wake him", "unresponsive"),
    ("the wound won't stop bleeding", "bleeding"),
    ("my nose is bleeding heavily", "bleeding"),
    ("my wife is gasping", "breathing"),
    ("his lips are turning blue", "breathing"),
    ("her whole body is jerking", "seizure"),
    ("my chest hurts so bad", "chest_pain"),
    ("my right side went numb", "sudden_weakness"),
    ("i suddenly can't walk", "sudden_weakness"),
    ("my arm went weak all of a sudden", "sudden_weakness"),
    ("my dad is talking nonsense", "confusion"),
    ("she's not making sense", "confusion"),
    ("my husband doesn't recognize me", "confusion"),
    ("worst headache of my life", "sudden_headache"),
    ("sudden severe headache", "sudden_headache"),
    ("i keep blacking out", "fainting"),
    ("she is not responding", "unresponsive"),
    ("he won't respond", "unresponsive"),
    ("this is an emergency", "asking_for_emergency_help"),
    ("help!! emergency", "asking_for_emergency_help"),
    ("should i call 911", "asking_for_emergency_help"),
    ("we need an ambulance", "asking_for_emergency_help"),
]

SELF_HARM_MESSAGES = [
    ("i have been reading about ways to die", "want_to_die"),
    ("i burn my arm until it bleeds", "hurt_self"),
    ("i hit myself just to feel something", "hurt_self"),
    ("i punched the wall until my knuckles bled", "hurt_self"),
    ("i burned myself on purpose", "hurt_self"),
    ("my dad has been giving away all his tools", "giving_away_or_goodbye"),
    ("she wrote goodbye letters to us", "giving_away_or_goodbye"),
    ("i hope i never wake up", "want_to_die"),
    ("how much of the morphine would it take to not wake up", "want_to_die"),
    ("i want to kill myself", "kill_self"),
    ("i keep thinking about killing myself", "kill_self"),
    ("my husband said he would kill himself", "kill_self"),
    ("i want to end my life", "end_life"),
    ("i want to end it all", "end_life"),
    ("i might take my own life", "end_life"),
    ("i'm suicidal", "suicide"),
    ("i have been thinking about suicide", "suicide"),
    ("i feel sucidal", "suicide"),
    ("i want to die", "want_to_die"),
    ("i just wanna die", "want_to_die"),
    ("my mom says she wants to die", "want_to_die"),
    ("i wish i was dead", "want_to_die"),
    ("i don't want to live anymore", "not_want_to_live"),
    ("i dont want to be alive", "not_want_to_live"),
    ("she doesn't want to live", "not_want_to_live"),
    ("i can't go on living", "not_want_to_live"),
    ("there is no reason to live", "no_reason_to_live"),
    ("i have nothing to live for", "no_reason_to_live"),
    ("i want to hurt myself", "hurt_self"),
    ("thinking about harming myself", "hurt_self"),
    ("i'll hurt myself", "hurt_self"),
    ("is self-harm normal?", "hurt_self"),
    ("everyone would be better off without me", "better_off_without_me"),
    ("my family would be better off if i was gone", "better_off_without_me"),
    ("i took an overdose", "overdose"),
    ("i am thinking of overdosing on my pills", "overdose"),
    ("i could take all my sleeping pills at once", "overdose"),
    ("i have been saving up my pills", "overdose"),
    ("i'm going to end it", "end_life"),
    ("what is the point of living", "no_reason_to_live"),
    ("life is not worth living", "no_reason_to_live"),
    ("i give up on life", "no_reason_to_live"),
    ("i'm done with life", "no_reason_to_live"),
    ("i wish i could sleep and never wake up", "want_to_die"),
    ("i'd rather be dead", "want_to_die"),
    ("i want to disappear forever", "want_to_die"),
    ("i keep thinking about cutting again", "hurt_self"),
    ("i want to kms", "kill_self"),
    ("i want to jump off a bridge", "method"),
]

# Questions and statements that mention a red-flag word but are not a red flag.
NOT_RED_FLAGS = [
    "can i give away my old wigs",
    "the nausea wont stop for good?",
    "radiation burned my skin",
    "how do i say goodbye to my hair",
    "how to end the pain of treatment",
    "i want to feel something good again",
    "what symptoms are there, like chest pain?",
    "is chest pain a symptom of lung mets",
    "i have a cough and chest pain",
    "can it cause seizures?",
    "do seizures mean it spread to the brain?",
    "can brain mets cause seizures or confusion",
    "what does it mean if i have headaches",
    "i'm not suicidal, just sad",
    "im not suicidal just really scared",
    "i don't want to die",
    "i dont want to die and leave my kids",
    "i want to die at home, not in a hospital",
    "i'm so scared of dying",
    "this pain is killing me",
    "i can't wake up in the morning, i'm so tired",
    "i can't feel my feet since chemo",
    "my cancer is not responding to treatment",
    "i fell and hurt myself, is my hip broken?",
    "is this going to pass",
    "should we end her life support",
    "what is metastatic breast cancer?",
    "can it spread to the liver",
    "she isn't responding well to the chemo",
    "i'd rather die at home than in the hospital",
    "my feet went numb during chemo",
    "i cut myself shaving",
    "i walk 3 kms a day",
    "at this point in life i just want answers",
    "how do we end things with the trial",
    "call the nurse line",
    "is it an emergency if my bones hurt",
    "how long does it take to die from this",
]

LONG_PREFIX = (
    "i was reading about metastatic breast cancer and systemic therapy and why treatments "
    "can stop working, and my oncologist said we may switch drugs next month, but "
)
LONG_SUFFIX = (
    ", and i also wanted to ask how the treatment works and whether surgery or radiation "
    "would help me."
)


@pytest.fixture(scope="module")
def spacy_nlp() -> tuple[SpacyNLP, SpacyModel]:
    """Rasa's SpacyNLP component holding the project's pipeline, as config.yml loads it."""
    model = SpacyModel(model=build(), model_name="mbc")
    return SpacyNLP(model, SpacyNLP.get_default_config()), model


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> RedFlagDetector:
    return create_detector(tmp_path_factory.mktemp("storage"))


def create_detector(storage_path: Path, **config: Any) -> RedFlagDetector:
    return RedFlagDetector.create(
        {**RedFlagDetector.get_default_config(), **config},
        LocalModelStorage(storage_path),
        Resource("red_flags"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def predicted_message(text: str, intent: str = PREDICTED, confidence: float = 0.9) -> Message:
    """A message as DIET leaves it: the intent and a ranking."""
    message = Message(data={TEXT: text})
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "coping", "confidence": round(1 - confidence, 3)},
    ]
    message.set(INTENT, ranking[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    return message


@pytest.fixture(scope="module")
def parse(spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector) -> Any:
    """Run a text through SpacyNLP, a prediction of `treatment` and the detector."""

    def run(text: str) -> Message:
        component, model = spacy_nlp
        message = predicted_message(text)
        component.process([message], model)
        return detector.process([message])[0]

    return run


def assert_red_flag(message: Message, kind: str) -> None:
    assert message.get(INTENT) == {"name": kind, "confidence": 1.0}
    assert message.get(RED_FLAG)["kind"] == kind


@pytest.mark.parametrize(("text", "family"), EMERGENCIES)
def test_emergencies_fire(parse: Any, detector: RedFlagDetector, text: str, family: str) -> None:
    message = parse(text)
    assert_red_flag(message, EMERGENCY)
    assert detector.find(message).family == family  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "family"), SELF_HARM_MESSAGES)
def test_self_harm_fires(parse: Any, detector: RedFlagDetector, text: str, family: str) -> None:
    message = parse(text)
    assert_red_flag(message, SELF_HARM)
    assert detector.find(message).family == family  # type: ignore[union-attr]


@pytest.mark.parametrize("text", NOT_RED_FLAGS)
def test_symptom_questions_and_denials_do_not_fire(parse: Any, text: str) -> None:
    message = parse(text)
    assert message.get(INTENT)["name"] == PREDICTED
    assert message.get(RED_FLAG) is None
    assert RED_FLAG not in message.as_dict(only_output_properties=True)


def test_every_family_is_tested() -> None:
    patterns = yaml.safe_load(PATTERNS_PATH.read_text(encoding="utf-8"))
    tested = {
        EMERGENCY: {family for _, family in EMERGENCIES},
        SELF_HARM: {family for _, family in SELF_HARM_MESSAGES},
    }
    for kind in KINDS:
        assert set(patterns[kind]) == tested[kind]


@pytest.mark.parametrize(
    ("flag", "kind"),
    [
        ("she is having a seizure right now", EMERGENCY),
        ("my mom cant breath", EMERGENCY),
        ("i keep coughing up blood", EMERGENCY),
        ("honestly i want to end it all", SELF_HARM),
        ("sometimes i think everyone would be better off without me", SELF_HARM),
    ],
)
def test_red_flag_in_the_middle_of_a_long_question(parse: Any, flag: str, kind: str) -> None:
    message = parse(LONG_PREFIX + flag + LONG_SUFFIX)
    assert_red_flag(message, kind)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.sampled_from(["", "hi. ", "sorry to bother you. ", "question about my mom: "]),
    flag=st.sampled_from(
        [text for text, _ in EMERGENCIES[:12]] + [text for text, _ in SELF_HARM_MESSAGES[:12]]
    ),
    after=st.sampled_from(["", ".", "!!", " what should i do?", ". also, how is it treated?"]),
)
def test_surrounding_words_do_not_hide_a_red_flag(
    parse: Any, before: str, flag: str, after: str
) -> None:
    assert parse(before + flag + after).get(RED_FLAG) is not None


def test_the_original_intent_is_second_in_the_ranking(parse: Any) -> None:
    message = parse("my wife is having a seizure, what do i do")
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": EMERGENCY, "confidence": 1.0}
    assert ranking[1] == {"name": PREDICTED, "confidence": 0.9}
    assert [intent["name"] for intent in ranking] == [EMERGENCY, PREDICTED, "coping"]


def test_a_correct_prediction_is_not_listed_twice(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector
) -> None:
    component, model = spacy_nlp
    message = predicted_message("i want to kill myself", intent=SELF_HARM, confidence=0.8)
    component.process([message], model)
    detector.process([message])
    names = [intent["name"] for intent in message.get(INTENT_RANKING_KEY)]
    assert names == [SELF_HARM, "coping"]
    assert message.get(INTENT)["confidence"] == 1.0


def test_overrides_nlu_fallback(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector
) -> None:
    component, model = spacy_nlp
    fallback = FallbackClassifier({"threshold": 0.5, "ambiguity_threshold": 0.1})
    message = predicted_message("help my dad passed out", intent="greet", confidence=0.3)
    component.process([message], model)
    fallback.process([message])
    assert message.get(INTENT)["name"] == DEFAULT_NLU_FALLBACK_INTENT_NAME

    detector.process([message])
    names = [intent["name"] for intent in message.get(INTENT_RANKING_KEY)]
    assert message.get(INTENT) == {"name": EMERGENCY, "confidence": 1.0}
    assert names[:3] == [EMERGENCY, DEFAULT_NLU_FALLBACK_INTENT_NAME, "greet"]


def test_red_flag_is_an_output_property(parse: Any) -> None:
    output = parse("I Cant Breathe!!").as_dict(only_output_properties=True)
    assert output[RED_FLAG] == {"kind": EMERGENCY, "phrase": "cant breathe"}
    assert output[INTENT] == {"name": EMERGENCY, "confidence": 1.0}


def test_emergency_wins_over_self_harm(parse: Any) -> None:
    message = parse("i took an overdose and now i can't breathe")
    assert_red_flag(message, EMERGENCY)
    assert message.get(RED_FLAG)["phrase"] == "can't breathe"


def test_a_denial_does_not_cancel_another_red_flag(parse: Any) -> None:
    assert_red_flag(parse("i'm not suicidal but i want to end it all"), SELF_HARM)
    assert_red_flag(parse("i don't want to die but i want to hurt myself"), SELF_HARM)


def test_works_without_a_spacy_doc(detector: RedFlagDetector) -> None:
    message = predicted_message("My Mom Is Having A Seizure")
    assert message.get(SPACY_DOCS[TEXT]) is None
    detector.process([message])
    assert_red_flag(message, EMERGENCY)
    assert message.get(RED_FLAG)["phrase"] == "having a seizure"


def test_works_with_a_case_sensitive_spacy_doc(
    spacy_nlp: tuple[SpacyNLP, SpacyModel], detector: RedFlagDetector
) -> None:
    _, model = spacy_nlp
    component = SpacyNLP(model, {"case_sensitive": True})
    message = predicted_message("Coughing Up Blood since last night")
    component.process([message], model)
    assert message.get(SPACY_DOCS[TEXT]).text.startswith("Coughing")
    detector.process([message])
    assert_red_flag(message, EMERGENCY)


def test_message_without_text_is_unchanged(detector: RedFlagDetector) -> None:
    message = Message(data={INTENT: {"name": "greet", "confidence": 1.0}})
    detector.process([message])
    assert message.get(INTENT) == {"name": "greet", "confidence": 1.0}
    assert message.get(RED_FLAG) is None


def test_a_broken_patterns_file_fails_when_created(tmp_path: Path) -> None:
    broken = tmp_path / "red_flags.yml"
    broken.write_text(
        "emergency: {breathing: [[{LOWR: breathe}]]}\nself_harm: {}\n", encoding="utf-8"
    )
    with pytest.raises(ValueError):
        create_detector(tmp_path, **{PATTERNS_FILE_KEY: str(broken)})


def pipeline_names() -> list[str]:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    return [component["name"] for component in config["pipeline"]]


def test_detector_is_the_last_nlu_component() -> None:
    names = pipeline_names()
    assert names[-1] == DETECTOR_NAME
    assert names[-2] == "FallbackClassifier"


def test_rasa_accepts_the_pipeline() -> None:
    """Rasa builds and validates the training and prediction graphs (no training)."""
    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType
    from rasa.shared.utils.io import read_model_configuration

    config = read_model_configuration(PROJECT_ROOT / "config.yml")
    recipe = Recipe.recipe_for_name(config.get("recipe"))
    graph_config = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
    validation.validate(graph_config)
    assert any(node.uses is RedFlagDetector for node in graph_config.predict_schema.nodes.values())
