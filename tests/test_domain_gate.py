"""The domain gate, trained on the project's data with the project's spaCy pipeline (vectors)."""

from __future__ import annotations

import pytest
import spacy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from spacy.language import Language

from bot import paths
from bot.nlu.domain_gate import DOMAIN_GATE, DomainGate
from bot.nlu.question_focus import QUESTION_FOCUS


@pytest.fixture(scope="module")
def nlp() -> Language:
    if not (paths.SPACY_PIPELINE / "meta.json").exists():
        pytest.fail("No spaCy pipeline: run `make spacy` (make test does).")
    return spacy.load(paths.SPACY_PIPELINE)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> DomainGate:
    storage = LocalModelStorage(tmp_path_factory.mktemp("gate"))
    resource = Resource("domain_gate")
    context = ExecutionContext(GraphSchema({}), "test")
    trained = DomainGate.create(DomainGate.get_default_config(), storage, resource, context)
    trained.train(load_data(str(paths.NLU_DATA)))
    return DomainGate.load(DomainGate.get_default_config(), storage, resource, context)


def classified(
    nlp: Language, text: str, intent: str = "symptoms", confidence: float = 0.6
) -> Message:
    message = Message(data={TEXT: text})
    message.set(SPACY_DOCS[TEXT], nlp(text.lower()))
    message.set(INTENT, {INTENT_NAME_KEY: intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{INTENT_NAME_KEY: intent, "confidence": confidence}])
    return message


@pytest.mark.parametrize(
    "text",
    [
        "How do you catch hepatitis?",
        "What exactly is sleep paralysis?",
        "is tuberculosis contagious",
        "how do i treat eczema",
        "what is osteoporosis",
    ],
)
def test_questions_about_other_conditions_are_out_of_scope(
    nlp: Language, gate: DomainGate, text: str
) -> None:
    message = classified(nlp, text)
    gate.process([message])
    assert message.get(INTENT)[INTENT_NAME_KEY] == "out_of_scope"
    assert message.get(DOMAIN_GATE)
    assert message.get(INTENT_RANKING_KEY)[1][INTENT_NAME_KEY] == "symptoms"


def test_a_confident_classifier_is_not_overruled(nlp: Language, gate: DomainGate) -> None:
    message = classified(nlp, "How do you catch hepatitis?", confidence=0.95)
    gate.process([message])
    assert message.get(INTENT)[INTENT_NAME_KEY] == "symptoms"
    assert message.get(DOMAIN_GATE) is None


@pytest.mark.parametrize(
    "text",
    [
        "can it spread to my liver",
        "what is stage 4 breast cancer",
        "kemo made me so tired, is that normal",
        "i had a lumpectomy years ago, how is it back?",
        "what are the symptoms of metastisized brest cancer",
        "do i need a pet scan",
        "my mum has headaches, could it be in her brain?",
        "what does a bone scan show",
    ],
)
def test_in_scope_questions_pass(nlp: Language, gate: DomainGate, text: str) -> None:
    message = classified(nlp, text)
    gate.process([message])
    assert message.get(INTENT)[INTENT_NAME_KEY] == "symptoms"
    assert message.get(DOMAIN_GATE) is None


def test_only_the_question_sentence_counts_in_a_long_message(
    nlp: Language, gate: DomainGate
) -> None:
    message = classified(nlp, "i also have hepatitis. can it spread to my liver?")
    message.set(QUESTION_FOCUS, "can it spread to my liver?")
    gate.process([message])
    assert message.get(INTENT)[INTENT_NAME_KEY] == "symptoms"


def test_the_vocabulary_is_stored_with_the_model(gate: DomainGate) -> None:
    assert "metastatic" in gate.known and "spread" in gate.known
