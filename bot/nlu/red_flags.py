"""Rule-based red flags: emergencies and thoughts of suicide or self-harm.

``RedFlagDetector`` is the last component of the NLU pipeline. When a message describes an
emergency happening now ("she's having a seizure", "i cant breath") or thoughts of suicide or
self-harm ("i want to end it all"), it sets the intent to ``emergency`` or ``self_harm`` with
confidence 1.0, whatever DIET or the ``FallbackClassifier`` predicted before it. The safety
answers therefore never depend on a statistical classifier.

The phrases are spaCy ``Matcher`` token patterns in ``red_flags.yml`` (next to this module),
matched on lower-cased words, lookup lemmas and norms, so inflections ("coughed blood"),
contractions ("can't", "cant", "cannot") and common misspellings match. Choices, also
documented in the patterns file:

- Emergency phrases describe something happening now. A bare symptom word, as in "can it
  cause seizures?" or "symptoms like chest pain?", does not fire: the article lists these
  symptoms and people ask about them calmly.
- Self-harm phrases fire in any context, questions included: the crisis answer is the safe
  mistake. Explicit denials are the exception: "i'm not suicidal" and "i don't want to die"
  (fear of dying, common in people with cancer) do not fire. Any other red flag in the same
  message still does ("i'm not suicidal but i want to end it all").
- If a message has both kinds, ``emergency`` wins: it is danger now, and the emergency
  answer also tells people to call the emergency number.

The matcher runs on the spaCy doc that ``SpacyNLP`` put on the message. Without one (a
pipeline without ``SpacyNLP``), or if that doc has no lemmas or was not lower-cased, the
detector makes its own doc with ``spacy.blank("en")`` and a lookup lemmatizer, so it works
the same in any pipeline. The patterns are read when the component is created (at training
and at server start), not stored in the model: a changed patterns file needs no retraining.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from spacy.vocab import Vocab

logger = logging.getLogger(__name__)

EMERGENCY = "emergency"
SELF_HARM = "self_harm"
# In order of priority: the first kind found in a message wins.
KINDS = (EMERGENCY, SELF_HARM)
EXCEPTIONS = "exceptions"
PATTERNS_PATH = Path(__file__).with_name("red_flags.yml")
RED_FLAG = "red_flag"
PATTERNS_FILE_KEY = "patterns_file"

TokenPattern = list[dict[str, Any]]


@dataclass(frozen=True)
class RedFlag:
    """A red flag found in a message.

    kind (str): ``"emergency"`` or ``"self_harm"``, also the intent it sets.
    family (str): The group of patterns in ``red_flags.yml`` that matched, e.g. ``"seizure"``.
    phrase (str): The matched text.
    """

    kind: str
    family: str
    phrase: str


def load_patterns(path: Path = PATTERNS_PATH) -> dict[str, list[TokenPattern]]:
    """Read the patterns file.

    path (Path): A YAML file in the format described at the top of ``red_flags.yml``.
    RETURNS (dict): Matcher patterns by match key: ``"<kind>/<family>"`` for red flags and
        ``"exceptions"`` for the phrases that cancel the red flags they overlap.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    patterns: dict[str, list[TokenPattern]] = {
        f"{kind}/{family}": family_patterns
        for kind in KINDS
        for family, family_patterns in data[kind].items()
    }
    patterns[EXCEPTIONS] = data.get(EXCEPTIONS) or []
    return patterns


@functools.cache
def fallback_pipeline() -> Language:
    """The pipeline for messages without a usable spaCy doc: tokenizer and lookup lemmas."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class RedFlagMatcher:
    """Finds red flags in spaCy docs, with the patterns of ``red_flags.yml``."""

    def __init__(self, patterns: dict[str, list[TokenPattern]]) -> None:
        """Initialize the matcher.

        patterns (dict): Matcher patterns by match key, as ``load_patterns`` returns them.
        """
        self.patterns = patterns
        # A Matcher only works on docs of its own vocab; Rasa's doc and the fallback
        # pipeline's doc have different ones. The vocab is kept so its id stays unique.
        self._matchers: dict[int, tuple[Vocab, Matcher]] = {}
        # Build once now, so a broken patterns file fails at startup, not on a message.
        self.matcher_for(fallback_pipeline().vocab)

    def matcher_for(self, vocab: Vocab) -> Matcher:
        """The spaCy ``Matcher`` with all patterns, for docs of ``vocab``."""
        if id(vocab) not in self._matchers:
            matcher = Matcher(vocab, validate=True)
            for key, key_patterns in self.patterns.items():
                matcher.add(key, key_patterns)
            self._matchers[id(vocab)] = (vocab, matcher)
        return self._matchers[id(vocab)][1]

    def __call__(self, doc: Doc) -> RedFlag | None:
        """Find the red flag in a doc.

        doc (Doc): A lower-cased doc with lookup lemmas.
        RETURNS (RedFlag | None): The red flag of the highest-priority kind (its earliest,
            longest match), or None if there is none.
        """
        spans = self.matcher_for(doc.vocab)(doc, as_spans=True)
        exceptions = [span for span in spans if span.label_ == EXCEPTIONS]
        flags = [
            span
            for span in spans
            if span.label_ != EXCEPTIONS and not _overlaps_any(span, exceptions)
        ]
        for kind in KINDS:
            of_kind = [span for span in flags if span.label_.startswith(f"{kind}/")]
            if of_kind:
                first = filter_spans(of_kind)[0]
                family = first.label_.split("/", 1)[1]
                return RedFlag(kind=kind, family=family, phrase=first.text)
        return None

    def find_in_text(self, text: str) -> RedFlag | None:
        """Find the red flag in a text, with the fallback pipeline."""
        return self(fallback_pipeline()(text.lower()))


def _overlaps_any(span: Span, others: list[Span]) -> bool:
    return any(other.start < span.end and span.start < other.end for other in others)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagDetector(GraphComponent, IntentClassifier):
    """Overrides the intent with ``emergency`` or ``self_harm`` when a red flag is found.

    Sets ``intent`` to the red flag's kind with confidence 1.0, puts the intent predicted
    before it second in ``intent_ranking``, and adds the output property
    ``red_flag: {"kind": ..., "phrase": ...}``. Messages without a red flag are unchanged.
    """

    @classmethod
    def required_components(cls) -> list[type]:
        """Components that must come before this one: none, it is independent by design."""
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # A patterns file in the format of red_flags.yml; None: the one in this package.
            PATTERNS_FILE_KEY: None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Lists required dependencies (see parent class for full docstring)."""
        return ["spacy"]

    def __init__(self, config: dict[str, Any], matcher: RedFlagMatcher) -> None:
        """Initialize the detector with its config and the matcher it uses."""
        self.component_config = config
        self.matcher = matcher

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        """Creates a new component (see parent class for full docstring)."""
        path = Path(config.get(PATTERNS_FILE_KEY) or PATTERNS_PATH)
        return cls(config, RedFlagMatcher(load_patterns(path)))

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intent of messages that contain a red flag.

        messages (list[Message]): The messages, as the components before this one left them.
        RETURNS (list[Message]): The same messages, changed in place.
        """
        for message in messages:
            red_flag = self.find(message)
            if red_flag is not None:
                # Kind and pattern family only: the phrase is health information.
                logger.debug(f"Red flag '{red_flag.kind}' ({red_flag.family}) found.")
                _set_red_flag(message, red_flag)
        return messages

    def find(self, message: Message) -> RedFlag | None:
        """The red flag in a message's text, or None."""
        text = message.get(TEXT)
        if not text:
            return None
        doc = message.get(SPACY_DOCS[TEXT])
        if not _is_usable(doc):
            doc = fallback_pipeline()(text.lower())
        return self.matcher(doc)


def _is_usable(doc: Doc | None) -> bool:
    """Whether a doc from ``SpacyNLP`` has what the patterns need: lemmas, lower case."""
    return doc is not None and doc.has_annotation("LEMMA") and doc.text == doc.text.lower()


def _set_red_flag(message: Message, red_flag: RedFlag) -> None:
    flagged = {INTENT_NAME_KEY: red_flag.kind, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = _ranking_with(flagged, message.get(INTENT), message.get(INTENT_RANKING_KEY) or [])
    message.set(INTENT, flagged, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(RED_FLAG, {"kind": red_flag.kind, "phrase": red_flag.phrase}, add_to_output=True)


def _ranking_with(
    flagged: dict[str, Any], original: dict[str, Any] | None, ranking: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ranking with ``flagged`` first and the originally predicted intent second."""
    original_name = original.get(INTENT_NAME_KEY) if original else None
    replaced = {flagged[INTENT_NAME_KEY], original_name}
    rest = [intent for intent in ranking if intent.get(INTENT_NAME_KEY) not in replaced]
    second = (
        [original] if original and original_name not in (None, flagged[INTENT_NAME_KEY]) else []
    )
    return [flagged, *second, *rest]
