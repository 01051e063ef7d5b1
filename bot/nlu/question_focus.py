"""Long messages: classify the sentence that holds the question, as well as the whole message.

People often write two to five sentences of their story before the question ("My mum was
diagnosed in 2015. She had surgery and chemo. Now they found spots on her liver. What does
that mean for her?"). In the whole message the background words drown out the question. Two
components, one on each side of the featurizers and the intent classifier, let Rasa classify
the question sentences too, with the same tokenizer,
featurizers and intent classifier as every message:

- ``QuestionSentenceSplitter`` comes right after ``SpacyNLP``. For a message of two or more
  sentences (spaCy's ``sentencizer`` in the project pipeline), it appends one message per
  question sentence to the batch, each with its own spaCy doc;
- ``QuestionFocus`` comes after the intent classifier and entity extractors. It takes the
  sentence messages out of the batch again and gives the message the intent and ranking of
  its most confident question sentence (output property ``question_focus``) when that
  sentence's confidence is at least ``min_sentence_confidence``, or higher than the whole
  message's. Entities stay those of the whole message.

Everything after ``QuestionFocus`` (the fallback classifier, the red-flag detector) sees the
whole message as before: an emergency told in the background still raises the alarm. In
training, neither component does anything: they are not trainable and only run on messages
the model predicts.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from spacy.tokens import Doc, Span

from bot.nlu.component import ConfiguredComponent

# Set on a sentence message: the position of its whole message in the batch.
SENTENCE_OF = "question_focus_sentence_of"
QUESTION_FOCUS = "question_focus"
QUESTION_START = re.compile(
    r"^\W*(how|what|whats|what's|why|where|when|which|who|is|are|am|can|could|does|do|did|"
    r"will|would|should|has|have|may|might|was|were|any|anything)\b"
)


def is_question(sentence: Span) -> bool:
    """A sentence that asks: ends with "?" or starts like a question."""
    text = sentence.text.strip()
    return text.endswith("?") or QUESTION_START.match(text.lower()) is not None


def question_sentences(doc: Doc) -> list[Span]:
    """The question sentences of a doc of two or more sentences; none for one sentence."""
    sentences = list(doc.sents) if doc.has_annotation("SENT_START") else []
    if len(sentences) < 2:
        return []
    return [sentence for sentence in sentences if is_question(sentence)]


def sentence_message(sentence: Span, position: int) -> Message:
    """A message for one sentence of the message at ``position`` in the batch."""
    message = Message(data={TEXT: sentence.text, SENTENCE_OF: position})
    message.set(SPACY_DOCS[TEXT], sentence.as_doc())
    return message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionSentenceSplitter(ConfiguredComponent):
    """Appends a message for each question sentence of a multi-sentence message."""

    def process(self, messages: list[Message]) -> list[Message]:
        """The messages, followed by one message per question sentence."""
        sentences = [
            sentence_message(sentence, position)
            for position, message in enumerate(messages)
            if message.get(SPACY_DOCS[TEXT]) is not None
            for sentence in question_sentences(message.get(SPACY_DOCS[TEXT]))
        ]
        return [*messages, *sentences]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionFocus(ConfiguredComponent, IntentClassifier):
    """Gives a message the intent of its question sentence (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # The classifier is often confidently wrong on the whole of a long message, so a
            # question sentence this confident wins even when the whole message looks more
            # confident.
            "min_sentence_confidence": 0.5,
        }

    def process(self, messages: list[Message]) -> list[Message]:
        """The whole messages only, each with its question sentence's intent if it wins."""
        whole = [message for message in messages if message.get(SENTENCE_OF) is None]
        best: dict[int, Message] = {}
        for sentence in messages:
            position = sentence.get(SENTENCE_OF)
            if position is not None and (
                position not in best or confidence(sentence) > confidence(best[position])
            ):
                best[position] = sentence
        for position, sentence in best.items():
            if self.wins(sentence, whole[position]):
                focus(whole[position], sentence)
        return whole

    def wins(self, sentence: Message, message: Message) -> bool:
        threshold = self.component_config["min_sentence_confidence"]
        return confidence(sentence) >= threshold or confidence(sentence) > confidence(message)


def confidence(message: Message) -> float:
    return float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)


def focus(message: Message, sentence: Message) -> None:
    message.set(INTENT, sentence.get(INTENT), add_to_output=True)
    message.set(INTENT_RANKING_KEY, sentence.get(INTENT_RANKING_KEY), add_to_output=True)
    message.set(QUESTION_FOCUS, sentence.get(TEXT), add_to_output=True)
