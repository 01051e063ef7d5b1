"""Rule-based red flags: emergencies and thoughts of suicide or self-harm.

``RedFlagDetector`` is the last component of the NLU pipeline. When a message describes an
emergency happening now ("she's having a seizure", "i cant breath", "temp 38.4, chemo 8 days
ago, shivering") or thoughts of suicide or self-harm ("i want to end it all"), it sets the
intent to ``emergency`` or ``self_harm`` with confidence 1.0, whatever the intent classifier or the
``FallbackClassifier`` predicted before it. The safety answers therefore never depend on a
statistical classifier.

The phrases are spaCy ``Matcher`` token patterns in ``red_flags.yml`` (next to this module),
matched on lower-cased words, lookup lemmas and norms, so inflections ("coughed blood"),
contractions ("can't", "cant", "cannot") and common misspellings match. Choices, also
documented in the patterns file:

- Emergency phrases describe something happening now. A bare symptom word, as in "can it
  cause seizures?" or "symptoms like chest pain?", does not fire: the article lists these
  symptoms and people ask about them calmly.
- Some warning signs of metastatic disease are combinations: back pain with leg weakness
  (spinal cord compression), a fever during chemotherapy. Such a family lists groups
  (``all_of``) and fires when every group matches somewhere in the message, in any order.
- Temperatures and counts are read from the words: the token attributes ``rf_celsius``
  ("38,5", "101.2f", "39 degrees" as degrees Celsius) and ``rf_number`` ("25", "twenty"),
  compared in the patterns (``{"_": {"rf_celsius": {">=": 38}}}``).
- Exceptions are phrases that look like a red flag but are not one: denials, fear of dying,
  guilt, dosage questions (``exceptions``), and past or stable events, questions about
  symptoms, negations (``emergency_exceptions``, which never hide a self-harm phrase: "if i
  get worse i will kill myself"). A red flag inside an exception is ignored.
- Self-harm phrases fire in any context, questions included: the crisis answer is the safe
  mistake. Explicit denials are the exception ("i'm not suicidal", "i don't want to die").
- If a message has both kinds, ``emergency`` wins: it is danger now, and the emergency
  answer also tells people to call the emergency number.
- If the classifier predicted ``emergency`` or ``self_harm`` but no red flag fired, and every
  alarm word of the message ("seizure", "die") is inside an exception ("a seizure two weeks
  ago, she's stable now", "am i going to die"), that prediction is a false alarm: the next
  intent of the ranking replaces it (config ``demote_explained_alarms``).

The matcher runs on the spaCy doc that ``SpacyNLP`` put on the message. Without one (a
pipeline without ``SpacyNLP``), or if that doc has no lemmas or was not lower-cased, the
detector makes its own doc with ``spacy.blank("en")`` and a lookup lemmatizer, so it works
the same in any pipeline. The patterns are read when the component is created;
``fingerprint_addon`` hashes the patterns file, so a changed file retrains the model.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
import yaml
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
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
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans
from spacy.vocab import Vocab

from bot.nlu.component import ConfiguredComponent

logger = logging.getLogger(__name__)

EMERGENCY = "emergency"
SELF_HARM = "self_harm"
# In order of priority: the first kind found in a message wins.
KINDS = (EMERGENCY, SELF_HARM)
EXCEPTIONS = "exceptions"
# Exceptions that cancel emergencies only, never a self-harm phrase.
EMERGENCY_EXCEPTIONS = "emergency_exceptions"
ALARM_WORDS = "alarm_words"
ALL_OF = "all_of"
# The one group of a family that is a plain list of patterns.
ANY_PHRASE = "phrase"
PATTERNS_PATH = Path(__file__).with_name("red_flags.yml")
RED_FLAG = "red_flag"
PATTERNS_FILE_KEY = "patterns_file"
DEMOTE_KEY = "demote_explained_alarms"
GAP = "GAP"
COMMAS = "COMMAS"
_NO_PUNCTUATION = {"IS_PUNCT": False}
_NO_SENTENCE_END = {"IS_SENT_START": False, "ORTH": {"NOT_IN": [".", "!", "?", "..."]}}

TokenPattern = list[dict[str, Any]]


@dataclass(frozen=True)
class Family:
    """A family of red-flag patterns in ``red_flags.yml``.

    kind (str): ``"emergency"`` or ``"self_harm"``.
    name (str): The family's name, e.g. ``"seizure"``.
    groups (dict): Patterns by group. The family fires when every group matches; a plain
        list of patterns is one group, ``"phrase"``.
    """

    kind: str
    name: str
    groups: dict[str, list[TokenPattern]]

    def label(self, group: str) -> str:
        """The match key of a group's patterns: ``"<kind>/<family>/<group>"``."""
        return f"{self.kind}/{self.name}/{group}"


@dataclass(frozen=True)
class Patterns:
    """Everything in ``red_flags.yml``, with ``{GAP: n}`` expanded."""

    families: list[Family]
    exceptions: list[TokenPattern]
    emergency_exceptions: list[TokenPattern]
    alarm_words: list[TokenPattern]


@dataclass(frozen=True)
class RedFlag:
    """A red flag found in a message.

    kind (str): ``"emergency"`` or ``"self_harm"``, also the intent it sets.
    family (str): The group of patterns in ``red_flags.yml`` that matched, e.g. ``"seizure"``.
    phrase (str): The matched text; for a combination, each group's text joined by " + ".
    """

    kind: str
    family: str
    phrase: str


@dataclass(frozen=True)
class Reading:
    """What the matcher read in a message.

    red_flag (RedFlag | None): The red flag, if there is one.
    explained (bool): No red flag, an exception matched, and every alarm word is inside an
        exception: a safety intent predicted for this message would be a false alarm.
    """

    red_flag: RedFlag | None
    explained: bool


def load_patterns(path: Path = PATTERNS_PATH) -> Patterns:
    """Read the patterns file.

    path (Path): A YAML file in the format described at the top of ``red_flags.yml``.
    RETURNS (Patterns): Its families, exceptions and alarm words, ready for the Matcher.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    families = [
        Family(kind, name, _groups(spec))
        for kind in KINDS
        for name, spec in (data.get(kind) or {}).items()
    ]
    return Patterns(
        families=families,
        exceptions=_expand_all(data.get(EXCEPTIONS) or []),
        emergency_exceptions=_expand_all(data.get(EMERGENCY_EXCEPTIONS) or []),
        alarm_words=_expand_all(data.get(ALARM_WORDS) or []),
    )


def _groups(spec: list[TokenPattern] | dict[str, Any]) -> dict[str, list[TokenPattern]]:
    if isinstance(spec, dict):
        return {group: _expand_all(patterns) for group, patterns in spec[ALL_OF].items()}
    return {ANY_PHRASE: _expand_all(spec)}


def _expand_all(patterns: list[Any]) -> list[TokenPattern]:
    """Expand gaps, and flatten lists of patterns included by alias into the list."""
    expanded: list[TokenPattern] = []
    for pattern in patterns:
        if pattern and isinstance(pattern[0], list):
            expanded += _expand_all(pattern)
        else:
            expanded.append(_expand_gaps(pattern))
    return expanded


def _expand_gaps(pattern: TokenPattern) -> TokenPattern:
    """Replace each ``{GAP: n, ...}`` by n optional words with its other keys.

    The words are no punctuation, or, with ``COMMAS: true``, no end of a sentence.
    """
    expanded: TokenPattern = []
    for token in pattern:
        if GAP in token:
            word = {key: value for key, value in token.items() if key not in (GAP, COMMAS)}
            boundary = _NO_SENTENCE_END if token.get(COMMAS) else _NO_PUNCTUATION
            expanded += [{**boundary, **word, "OP": "?"}] * int(token[GAP])
        else:
            expanded.append(token)
    return expanded


# --- numbers and temperatures in words -------------------------------------------------

# "38.4", "38,5", "101.2f", "39c", "38.5°c", "38.5deg": a number and, maybe, a unit.
_TEMPERATURE = re.compile(r"^(\d{2,3}(?:[.,]\d{1,2})?)(°|º|deg|degrees)?([cf])?$")
_NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "dozen": 12}
# Body temperatures: outside these ranges a number is not a temperature.
_CELSIUS_RANGE = (34.0, 43.0)
_FAHRENHEIT_RANGE = (93.0, 110.0)


@functools.lru_cache(maxsize=4096)
def read_temperature(text: str) -> tuple[float, bool]:
    """A word as a body temperature in degrees Celsius, and whether it carries a unit.

    text (str): One lower-case token, e.g. ``"38,5"``, ``"101.2f"``, ``"39°c"``.
    RETURNS (tuple): (degrees Celsius, or NaN if the word is not a body temperature;
        True if the word itself has a unit such as ``c``, ``f`` or ``°``).
    """
    match = _TEMPERATURE.match(text)
    if match is None:
        return math.nan, False
    value = float(match.group(1).replace(",", "."))
    symbol, scale = match.group(2), match.group(3)
    has_unit = bool(symbol or scale)
    if scale != "f" and _CELSIUS_RANGE[0] <= value <= _CELSIUS_RANGE[1]:
        return value, has_unit
    if scale != "c" and _FAHRENHEIT_RANGE[0] <= value <= _FAHRENHEIT_RANGE[1]:
        return round((value - 32) * 5 / 9, 2), has_unit
    return math.nan, False


@functools.lru_cache(maxsize=4096)
def read_number(text: str) -> float:
    """A count in digits or words ("25", "twenty"), or NaN."""
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return math.nan


def _celsius(token: Token) -> float:
    return read_temperature(token.lower_)[0]


def _has_unit(token: Token) -> bool:
    return read_temperature(token.lower_)[1]


def _number(token: Token) -> float:
    return read_number(token.lower_)


# NaN compares false with everything, so a word that is not a number matches no comparison.
Token.set_extension("rf_celsius", getter=_celsius, force=True)
Token.set_extension("rf_unit", getter=_has_unit, force=True)
Token.set_extension("rf_number", getter=_number, force=True)


@functools.cache
def fallback_pipeline() -> Language:
    """The pipeline for messages without a usable spaCy doc: tokenizer and lookup lemmas."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


class RedFlagMatcher:
    """Finds red flags in spaCy docs, with the patterns of ``red_flags.yml``."""

    def __init__(self, patterns: Patterns) -> None:
        """Initialize the matcher.

        patterns (Patterns): The patterns, as ``load_patterns`` returns them.
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
            for family in self.patterns.families:
                for group, group_patterns in family.groups.items():
                    matcher.add(family.label(group), group_patterns)
            matcher.add(EXCEPTIONS, self.patterns.exceptions)
            matcher.add(EMERGENCY_EXCEPTIONS, self.patterns.emergency_exceptions)
            matcher.add(ALARM_WORDS, self.patterns.alarm_words)
            self._matchers[id(vocab)] = (vocab, matcher)
        return self._matchers[id(vocab)][1]

    def __call__(self, doc: Doc) -> RedFlag | None:
        """Find the red flag in a doc.

        doc (Doc): A lower-cased doc with lookup lemmas.
        RETURNS (RedFlag | None): The red flag of the highest-priority kind (the family that
            matched first), or None if there is none.
        """
        return self.read(doc).red_flag

    def read(self, doc: Doc) -> Reading:
        """Find the red flag in a doc, and whether its alarm words are all explained."""
        spans = self.matcher_for(doc.vocab)(doc, as_spans=True)
        by_label: dict[str, list[Span]] = {}
        for span in spans:
            by_label.setdefault(span.label_, []).append(span)
        anywhere = by_label.pop(EXCEPTIONS, [])
        emergencies_only = anywhere + by_label.pop(EMERGENCY_EXCEPTIONS, [])
        alarms = by_label.pop(ALARM_WORDS, [])
        flags: dict[str, list[Span]] = {}
        for label, found in by_label.items():
            exceptions = emergencies_only if label.startswith(f"{EMERGENCY}/") else anywhere
            kept = [span for span in found if not _inside_any(span, exceptions)]
            if kept:
                flags[label] = kept
        red_flag = self._first_red_flag(flags)
        explained = (
            red_flag is None
            and bool(emergencies_only)
            and all(_inside_any(alarm, emergencies_only) for alarm in alarms)
        )
        return Reading(red_flag, explained)

    def _first_red_flag(self, flags: dict[str, list[Span]]) -> RedFlag | None:
        """The family of the highest-priority kind whose groups all matched, earliest first."""
        for kind in KINDS:
            found = [
                (family, spans)
                for family in self.patterns.families
                if family.kind == kind and (spans := _group_spans(family, flags))
            ]
            if found:
                family, spans = min(found, key=lambda item: item[1][0].start)
                phrase = " + ".join(span.text for span in spans)
                return RedFlag(kind=kind, family=family.name, phrase=phrase)
        return None

    def find_in_text(self, text: str) -> RedFlag | None:
        """Find the red flag in a text, with the fallback pipeline."""
        return self(fallback_pipeline()(text.lower()))


def _group_spans(family: Family, flags: dict[str, list[Span]]) -> list[Span]:
    """The first, longest match of each group of a family, in text order; [] if one has none."""
    labels = [family.label(group) for group in family.groups]
    if not all(label in flags for label in labels):
        return []
    return sorted((filter_spans(flags[label])[0] for label in labels), key=lambda s: s.start)


def _inside_any(span: Span, others: list[Span]) -> bool:
    return any(other.start <= span.start and span.end <= other.end for other in others)


def patterns_hash(path: Path) -> str:
    """A hash of a patterns file's content."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagDetector(ConfiguredComponent, IntentClassifier):
    """Overrides the intent with ``emergency`` or ``self_harm`` when a red flag is found.

    Sets ``intent`` to the red flag's kind with confidence 1.0, puts the intent predicted
    before it second in ``intent_ranking``, and adds the output property
    ``red_flag: {"kind": ..., "phrase": ...}``. A predicted safety intent whose alarm words
    are all explained by exceptions is replaced by the next intent of the ranking. Other
    messages are unchanged.
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
            # Replace a predicted safety intent that the exceptions explain (a false alarm).
            DEMOTE_KEY: True,
        }

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """A hash of the patterns file, so that changed patterns retrain the model."""
        return patterns_hash(_patterns_path(config))

    @staticmethod
    def required_packages() -> list[str]:
        """Lists required dependencies (see parent class for full docstring)."""
        return ["spacy"]

    def __init__(self, config: dict[str, Any], *storage: Any) -> None:
        """Initialize the detector with its config; it reads its patterns file."""
        super().__init__(config, *storage)
        self.matcher = RedFlagMatcher(load_patterns(_patterns_path(config)))

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intent of messages that contain a red flag; clear false alarms.

        messages (list[Message]): The messages, as the components before this one left them.
        RETURNS (list[Message]): The same messages, changed in place.
        """
        for message in messages:
            reading = self.read(message)
            if reading.red_flag is not None:
                # Kind and pattern family only: the phrase is health information.
                logger.debug(
                    f"Red flag '{reading.red_flag.kind}' ({reading.red_flag.family}) found."
                )
                _set_red_flag(message, reading.red_flag)
            elif reading.explained and self.component_config.get(DEMOTE_KEY, True):
                _demote_safety_intent(message)
        return messages

    def find(self, message: Message) -> RedFlag | None:
        """The red flag in a message's text, or None."""
        return self.read(message).red_flag

    def read(self, message: Message) -> Reading:
        """What the matcher reads in a message's text."""
        text = message.get(TEXT)
        if not text:
            return Reading(None, False)
        doc = message.get(SPACY_DOCS[TEXT])
        if not _is_usable(doc):
            doc = fallback_pipeline()(text.lower())
        return self.matcher.read(doc)


def _patterns_path(config: dict[str, Any]) -> Path:
    return Path(config.get(PATTERNS_FILE_KEY) or PATTERNS_PATH)


def _is_usable(doc: Doc | None) -> bool:
    """Whether a doc from ``SpacyNLP`` has what the patterns need: lemmas, lower case."""
    return doc is not None and doc.has_annotation("LEMMA") and doc.text == doc.text.lower()


def _set_red_flag(message: Message, red_flag: RedFlag) -> None:
    flagged = {INTENT_NAME_KEY: red_flag.kind, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = _ranking_with(flagged, message.get(INTENT), message.get(INTENT_RANKING_KEY) or [])
    message.set(INTENT, flagged, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
    message.set(RED_FLAG, {"kind": red_flag.kind, "phrase": red_flag.phrase}, add_to_output=True)


def _demote_safety_intent(message: Message) -> None:
    """Replace a predicted ``emergency`` or ``self_harm`` by the next intent of the ranking."""
    predicted = message.get(INTENT) or {}
    if predicted.get(INTENT_NAME_KEY) not in KINDS:
        return
    ranking = message.get(INTENT_RANKING_KEY) or []
    ordinary = [intent for intent in ranking if intent.get(INTENT_NAME_KEY) not in KINDS]
    if not ordinary:
        return
    logger.debug(f"Predicted '{predicted[INTENT_NAME_KEY]}' explained by exceptions: demoted.")
    safety = [intent for intent in ranking if intent.get(INTENT_NAME_KEY) in KINDS]
    message.set(INTENT, ordinary[0], add_to_output=True)
    message.set(INTENT_RANKING_KEY, [ordinary[0], *safety, *ordinary[1:]], add_to_output=True)


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
