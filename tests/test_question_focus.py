"""Question focus: the question sentences of a long message are classified too."""

from __future__ import annotations

import pytest
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language

from bot.nlu import pipeline
from bot.nlu.question_focus import (
    QUESTION_FOCUS,
    SENTENCE_OF,
    QuestionFocus,
    QuestionSentenceSplitter,
    question_sentences,
)

LONG = (
    "my mom was diagnosed in 2016. she had surgery and chemo. "
    "now they found spots on her liver. what does that mean for her?"
)


@pytest.fixture(scope="module")
def nlp() -> Language:
    return pipeline.build()


def with_doc(nlp: Language, text: str) -> Message:
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text))
    return message


def predicted(message: Message, intent: str, confidence: float) -> None:
    entry = {INTENT_NAME_KEY: intent, "confidence": confidence}
    message.set(INTENT, entry)
    message.set(INTENT_RANKING_KEY, [entry])


def test_only_question_sentences_of_a_long_message_are_candidates(nlp: Language) -> None:
    assert [s.text for s in question_sentences(nlp(LONG))] == ["what does that mean for her?"]
    assert [s.text for s in question_sentences(nlp("i had chemo. how is it back"))] == [
        "how is it back"
    ]
    assert question_sentences(nlp("what does it mean for her?")) == []


def test_the_splitter_appends_one_message_per_question_sentence(nlp: Language) -> None:
    whole = with_doc(nlp, LONG)
    batch = QuestionSentenceSplitter({}).process([whole])
    assert batch[0] is whole
    assert [(m.get(TEXT), m.get(SENTENCE_OF)) for m in batch[1:]] == [
        ("what does that mean for her?", 0)
    ]
    assert batch[1].get(SPACY_DOCS[TEXT]).text == "what does that mean for her?"


def run_focus(nlp: Language, whole_confidence: float, sentence_confidence: float) -> Message:
    whole = with_doc(nlp, LONG)
    batch = QuestionSentenceSplitter({}).process([whole])
    predicted(batch[0], "treatment", whole_confidence)
    predicted(batch[1], "site_symptoms", sentence_confidence)
    focus = QuestionFocus(QuestionFocus.get_default_config())
    result = focus.process(batch)
    assert result == [whole]
    return whole


def test_a_confident_question_sentence_decides_the_intent(nlp: Language) -> None:
    whole = run_focus(nlp, whole_confidence=0.95, sentence_confidence=0.7)
    assert whole.get(INTENT)[INTENT_NAME_KEY] == "site_symptoms"
    assert whole.get(QUESTION_FOCUS) == "what does that mean for her?"


def test_an_unsure_question_sentence_wins_only_when_more_confident(nlp: Language) -> None:
    assert run_focus(nlp, 0.9, 0.4).get(INTENT)[INTENT_NAME_KEY] == "treatment"
    assert run_focus(nlp, 0.3, 0.4).get(INTENT)[INTENT_NAME_KEY] == "site_symptoms"
