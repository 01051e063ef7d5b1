"""Messages written in another language get the intent ``other_language``.

The assistant answers in English only. A message in Spanish or Chinese would otherwise get
whatever English intent its few shared character n-grams suggest, or the "please rephrase"
fallback, which the person cannot act on. ``LanguageDetector`` runs after the intent
classifiers and before the red-flag detector (red flags always win), and overrides the intent
with ``other_language`` when the message is clearly in another language.

The detector is Lingua (``lingua-language-detector``, Apache-2.0, models in the wheel), in
its low-accuracy mode (trigram models only: 44 MB instead of 570 MB) and limited to the
languages patients here are most likely to write in. Short English, typos, "ok", "hi" and
drug names must never be taken for another language. Lingua alone, on short texts, took 29
of 2,322 English lines (training data, held-out set, MedQuAD questions) for another
language, so a message in Latin letters is another language only if all of these hold:

- it has at least ``min_words`` words of two or more letters;
- Lingua's top language is not English, with confidence at least ``min_confidence``, and
  its confidence in English is at most ``max_english_confidence``;
- under ``max_stop_word_share`` of its words are English stop words (spaCy's list): "what
  dose of letrozole is normal" is English whatever the trigrams of "letrozole" say;
- every word of three or more letters has a vowel: Lingua's confidences are relative, so
  keyboard mashing ("zxq vbnm plok", "asdf qwer zxcv") gets a confident "Tagalog"; it must
  get the "please rephrase" fallback instead.

With these, none of the 2,322 English lines fires, and 47 of 48 messages in 20 other
languages do. A message written mostly in another script (Chinese, Arabic, Cyrillic ...)
is another language at any length.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.lang.en.stop_words import STOP_WORDS

from bot.nlu.component import ConfiguredComponent
from bot.nlu.overrides import override_intent

logger = logging.getLogger(__name__)

OTHER_LANGUAGE = "other_language"
LANGUAGE = "language"
# English first; then the languages most spoken at home by people who are not native
# English speakers in English-speaking countries.
DEFAULT_LANGUAGES = (
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "ro", "el", "ru", "uk", "tr", "ar", "he",
    "fa", "ur", "hi", "bn", "pa", "zh", "ja", "ko", "vi", "tl", "id", "sw", "so",
)  # fmt: skip
WORD = re.compile(r"[^\W\d_]{2,}")
VOWELS = set("aeiouy")


@functools.cache
def lingua_detector(languages: tuple[str, ...]) -> LanguageDetector:
    """Lingua's detector for ``languages`` (ISO 639-1 codes), models loaded now."""
    chosen = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in languages
    ]
    return (
        LanguageDetectorBuilder.from_languages(*chosen)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def latin_share(text: str) -> float:
    """The share of the letters in ``text`` that are Latin letters (1.0 without letters)."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 1.0
    latin = sum(unicodedata.name(char, "").startswith("LATIN") for char in letters)
    return latin / len(letters)


def has_vowel(word: str) -> bool:
    """Whether a word in Latin letters has a vowel, accents aside ("mẹ", "câncer")."""
    base = unicodedata.normalize("NFD", word.lower())
    return any(char in VOWELS for char in base)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class OtherLanguageDetector(ConfiguredComponent, IntentClassifier):
    """Sets the intent ``other_language`` for a message written in another language.

    Adds the output property ``language`` (ISO 639-1 code) when it does; other messages are
    unchanged.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # ISO 639-1 codes Lingua chooses between; English must be one of them.
            "languages": list(DEFAULT_LANGUAGES),
            # For a message in Latin letters (see the module docstring):
            "min_words": 3,
            "min_confidence": 0.7,
            "max_english_confidence": 0.01,
            "max_stop_word_share": 0.2,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Lists required dependencies (see parent class for full docstring)."""
        return ["lingua"]

    def __init__(self, config: dict[str, Any], *storage: Any) -> None:
        """Initialize the component and load Lingua's models."""
        super().__init__(config, *storage)
        self.detector = lingua_detector(tuple(config["languages"]))

    def process(self, messages: list[Message]) -> list[Message]:
        """Set ``other_language`` on the messages written in another language."""
        for message in messages:
            language = self.other_language(message.get(TEXT) or "")
            if language is not None:
                logger.debug(f"Message in another language ({language}).")
                override_intent(message, OTHER_LANGUAGE)
                message.set(LANGUAGE, language, add_to_output=True)
        return messages

    def other_language(self, text: str) -> str | None:
        """The ISO 639-1 code of the language ``text`` is written in, if it is not English."""
        mostly_latin = latin_share(text) >= 0.5
        if mostly_latin and not self.could_be_other_language(WORD.findall(text)):
            return None
        confidences = {
            value.language: value.value
            for value in self.detector.compute_language_confidence_values(text)
        }
        if not confidences:
            return None
        top = max(confidences, key=confidences.__getitem__)
        if top == Language.ENGLISH:
            return None
        if mostly_latin and not self.confident(confidences[top], confidences[Language.ENGLISH]):
            return None
        return top.iso_code_639_1.name.lower()

    def could_be_other_language(self, words: list[str]) -> bool:
        """Whether words in Latin letters are enough, and few enough English stop words."""
        if len(words) < self.component_config["min_words"]:
            return False
        stop_words = sum(word.lower() in STOP_WORDS for word in words)
        if stop_words / len(words) >= self.component_config["max_stop_word_share"]:
            return False
        return all(has_vowel(word) for word in words if len(word) >= 3)

    def confident(self, top: float, english: float) -> bool:
        config = self.component_config
        return top >= config["min_confidence"] and english <= config["max_english_confidence"]
