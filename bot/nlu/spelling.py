"""Misspelt words: a word the training data never uses becomes its nearest training word.

"how dos brest canser turn into metastatc" shares few word n-grams with any training line, and
the classifier then asks the person to rephrase. ``SpellingCorrector`` comes right after the
tokenizer. For each token of a message it does not know, it finds the nearest word of the
training data with SymSpell (``symspellpy``; edit distance 1 for words of up to
``short_word_length`` letters, else ``max_edit_distance``), the most frequent at that distance,
and the featurizers see that word instead ("canser" -> "cancer", "metastatc" -> "metastatic").

It leaves alone:
- words of the training data, misspelt or not ("lvier" is one);
- English words, from the frequency dictionary that ships with ``symspellpy`` (82,765
  words of SCOWL found in Google Books), so that "lumbar" or "colour" is never turned into
  "number" or "colon";
- words shorter than ``min_length``, numbers and punctuation.

Only the tokens change. The spaCy doc keeps the words as written, so the site entities, the
domain gate and the red flags still read what the person wrote. Training examples are not
changed: their words are the vocabulary.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.shared.utils.io import dump_obj_as_json_to_file, read_json_file
from symspellpy import SymSpell, Verbosity

from bot.nlu.component import ConfiguredComponent, RestoredComponent

logger = logging.getLogger(__name__)

VOCABULARY_FILE = "vocabulary.json"
ENGLISH_DICTIONARY = "frequency_dictionary_en_82_765.txt"


@functools.cache
def english_words() -> frozenset[str]:
    """The words of the English frequency dictionary that ships with ``symspellpy``."""
    text = resources.files("symspellpy").joinpath(ENGLISH_DICTIONARY).read_text("utf-8")
    return frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)


def word_counts(tokens: Iterable[Token]) -> Counter[str]:
    """How often each alphabetic token occurs, lower case."""
    return Counter(token.text.lower() for token in tokens if token.text.isalpha())


def message_tokens(message: Message) -> list[Token]:
    tokens: list[Token] = message.get(TOKENS_NAMES[TEXT]) or []
    return tokens


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SpellingCorrector(ConfiguredComponent, RestoredComponent):
    """Replaces each unknown, non-English token with the nearest word of the training data."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {
            # Chosen by cross-validation on data/ and a dev set (docs/understanding.md).
            "min_length": 4,
            "short_word_length": 5,
            "max_edit_distance": 2,
        }

    def __init__(self, config: dict[str, Any], *storage: Any) -> None:
        super().__init__(config, *storage)
        self.learn(Counter())

    def learn(self, vocabulary: Counter[str]) -> None:
        """Take ``vocabulary`` and index it for SymSpell's lookups."""
        self.vocabulary = vocabulary
        self.symspell = SymSpell(
            max_dictionary_edit_distance=self.component_config["max_edit_distance"]
        )
        for word, count in vocabulary.items():
            self.symspell.create_dictionary_entry(word, count)

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the vocabulary: every alphabetic token of the training examples."""
        examples = training_data.training_examples
        self.learn(word_counts(token for e in examples for token in message_tokens(e)))
        if self._model_storage is None or self._resource is None:
            raise RuntimeError("SpellingCorrector trains only as Rasa creates it, with its storage")
        with self._model_storage.write_to(self._resource) as directory:
            dump_obj_as_json_to_file(directory / VOCABULARY_FILE, dict(self.vocabulary))
        return self._resource

    def restore(self, directory: Path) -> None:
        """The vocabulary learned in training, indexed now, as is the English word list, rather
        than at the first message (about 0.4 s)."""
        self.learn(Counter(read_json_file(directory / VOCABULARY_FILE)))
        english_words()

    def process(self, messages: list[Message]) -> list[Message]:
        """Correct the tokens of each message; the text and the spaCy doc stay as written."""
        for message in messages:
            for token in message_tokens(message):
                correction = self.correction(token.text.lower())
                if correction is not None:
                    token.text = token.lemma = correction
        return messages

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 - one corrector for the server's life
    def correction(self, word: str) -> str | None:
        """The training word ``word`` most likely misspells, or None to keep it."""
        config = self.component_config
        if (
            len(word) < config["min_length"]
            or not word.isalpha()
            or word in self.vocabulary
            or word in english_words()
        ):
            return None
        short = len(word) <= config["short_word_length"]
        distance = 1 if short else config["max_edit_distance"]
        suggestions = self.symspell.lookup(word, Verbosity.TOP, max_edit_distance=distance)
        return suggestions[0].term if suggestions else None
