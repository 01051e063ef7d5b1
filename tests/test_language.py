"""The other-language detector: clear other languages fire, English never does."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.language import LANGUAGE, OTHER_LANGUAGE, OtherLanguageDetector


@pytest.fixture(scope="module")
def detector() -> OtherLanguageDetector:
    return OtherLanguageDetector(OtherLanguageDetector.get_default_config())


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("mi madre tiene cáncer de mama y ahora está en los huesos", "es"),
        ("est-ce que le cancer peut revenir après la chimio ?", "fr"),
        ("meine Mutter hat Knochenmetastasen, was bedeutet das?", "de"),
        ("o câncer de mama pode se espalhar para o fígado?", "pt"),
        ("乳腺癌晚期能治好吗", "zh"),
        ("你好", "zh"),
        ("привет", "ru"),
        ("هل يمكن علاج سرطان الثدي النقيلي؟", "ar"),
        ("may kanser ang nanay ko sa suso, kumalat na daw sa buto", "tl"),
    ],
)
def test_other_languages_are_recognised(
    detector: OtherLanguageDetector, text: str, language: str
) -> None:
    assert detector.other_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "ok", "hi", "yes", "no", "si", "hola", "merci", "thx bye",
        "tamoxifen", "letrozole", "Ibrance", "Kisqali and letrozole", "Xgeva injections",
        "what dose of letrozole is normal", "kemo", "stayj 4", "brane", "wat is stayj 4 kanser",
        "mets in my lvier?", "wot r the simptoms", "is kemo gud for mets",
        "My danger for the cancer go to other organ, it depend on what?",
        "What is (are) Ehrlichiosis?", "How to prevent Lujo Hemorrhagic Fever (LUHF)?",
        "my oncologist Dr. Nguyen said Kisqali and letrozole",
        "zxq vbnm plok", "asdf qwer zxcv", "jkjkjk lolol hmmm", "lkj poi mnb",
    ],
)  # fmt: skip
def test_short_english_typos_drug_names_and_keyboard_mashing_are_not_other_languages(
    detector: OtherLanguageDetector, text: str
) -> None:
    assert detector.other_language(text) is None


def test_the_intent_becomes_other_language_and_keeps_the_prediction_second(
    detector: OtherLanguageDetector,
) -> None:
    message = Message(data={TEXT: "¿el cáncer de mama metastásico se puede curar?"})
    message.set(INTENT, {INTENT_NAME_KEY: "treatment", "confidence": 0.6})
    message.set(INTENT_RANKING_KEY, [{INTENT_NAME_KEY: "treatment", "confidence": 0.6}])
    detector.process([message])
    assert message.get(INTENT)[INTENT_NAME_KEY] == OTHER_LANGUAGE
    assert [e[INTENT_NAME_KEY] for e in message.get(INTENT_RANKING_KEY)] == [
        OTHER_LANGUAGE,
        "treatment",
    ]
    assert message.get(LANGUAGE) == "es"


def test_english_messages_are_left_alone(detector: OtherLanguageDetector) -> None:
    message = Message(data={TEXT: "can it spread to the liver"})
    message.set(INTENT, {INTENT_NAME_KEY: "where_it_spreads", "confidence": 0.9})
    detector.process([message])
    assert message.get(INTENT)[INTENT_NAME_KEY] == "where_it_spreads"
    assert message.get(LANGUAGE) is None
