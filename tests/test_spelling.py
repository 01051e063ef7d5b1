"""The spelling corrector (bot/nlu/spelling.py): which words it corrects, and which it leaves."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.spelling import SpellingCorrector, english_words

TRAINING_LINES = [
    "how does breast cancer turn into metastatic cancer",
    "what are the symptoms in the liver",
    "are there support groups",
    "my lvier hurts",
]


def tokenized(text: str) -> Message:
    message = Message(data={TEXT: text})
    words, start = [], 0
    for word in text.split():
        words.append(Token(word, start))
        start += len(word) + 1
    message.set(TOKENS_NAMES[TEXT], words)
    return message


@pytest.fixture(scope="module")
def corrector(tmp_path_factory: pytest.TempPathFactory) -> SpellingCorrector:
    storage = LocalModelStorage(tmp_path_factory.mktemp("spelling"))
    resource = Resource("spelling")
    context = ExecutionContext(GraphSchema({}), "test")
    config = SpellingCorrector.get_default_config()
    trained = SpellingCorrector.create(config, storage, resource, context)
    trained.train(TrainingData([tokenized(line) for line in TRAINING_LINES]))
    return SpellingCorrector.load(config, storage, resource, context)


def corrected(corrector: SpellingCorrector, text: str) -> str:
    [message] = corrector.process([tokenized(text)])
    return " ".join(token.text for token in message.get(TOKENS_NAMES[TEXT]))


def test_misspelt_words_become_the_nearest_training_word(corrector: SpellingCorrector) -> None:
    assert corrected(corrector, "how dos breast canser turn into metastatc") == (
        "how dos breast cancer turn into metastatic"
    )
    assert corrected(corrector, "r any suport groops") == "r any support groups"
    assert corrected(corrector, "wat are the sympotms") == "wat are the symptoms"


def test_training_words_english_words_and_short_words_stay(corrector: SpellingCorrector) -> None:
    assert "lumbar" in english_words() and "colour" in english_words()
    kept = "my lvier and lumbar colour dos 2015 in-between"
    assert corrected(corrector, kept) == kept


def test_the_text_stays_as_written(corrector: SpellingCorrector) -> None:
    [message] = corrector.process([tokenized("canser metastatc")])
    assert message.get(TEXT) == "canser metastatc"
    assert [token.lemma for token in message.get(TOKENS_NAMES[TEXT])] == ["cancer", "metastatic"]


def test_a_word_far_from_every_training_word_is_kept(corrector: SpellingCorrector) -> None:
    assert corrected(corrector, "xylophonist qwzrtp") == "xylophonist qwzrtp"


def test_short_words_allow_one_edit_only(corrector: SpellingCorrector) -> None:
    # "livr" is one edit from "liver"; "suprt" two from "support", too many for five letters.
    assert corrected(corrector, "livr suprt") == "liver suprt"


def test_the_vocabulary_is_stored_with_the_model(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("spelling")
    context = ExecutionContext(GraphSchema({}), "test")
    config = SpellingCorrector.get_default_config()
    SpellingCorrector.create(config, storage, resource, context).train(
        TrainingData([tokenized("metastatic cancer cancer")])
    )
    loaded = SpellingCorrector.load(config, storage, resource, context)
    assert loaded.vocabulary == {"metastatic": 1, "cancer": 2}
