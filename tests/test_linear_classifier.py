"""The intent classifier, and the upstream behaviour of Rasa's class that it relies on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from bot.nlu.linear_classifier import TfidfLogisticRegressionClassifier

EXAMPLES = {
    "where_it_spreads": [
        "where does it spread",
        "which organs does it go to",
        "where can it spread",
    ],
    "was_it_my_fault": ["was this my fault", "did i cause it", "is it my fault it spread"],
    "greet": ["hello", "hi there", "good morning"],
}
CHARACTERS = {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4}
CONTEXT = ExecutionContext(GraphSchema({}), "test")


class Featurizers:
    """Rasa's whitespace tokenizer, word and character n-gram counts, trained on the examples."""

    def __init__(self, storage: LocalModelStorage) -> None:
        self.tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
        self.counts = [
            CountVectorsFeaturizer.create(
                {**CountVectorsFeaturizer.get_default_config(), **config},
                storage,
                Resource(name),
                CONTEXT,
            )
            for name, config in [("words", {}), ("chars", CHARACTERS)]
        ]

    def training_data(self) -> TrainingData:
        messages = [
            Message(data={TEXT: text, INTENT: intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
        data = TrainingData(training_examples=messages)
        self.tokenizer.process_training_data(data)
        for counts in self.counts:
            counts.train(data)
            counts.process_training_data(data)
        return data

    def message(self, text: str) -> Message:
        message = Message(data={TEXT: text})
        self.tokenizer.process([message])
        for counts in self.counts:
            counts.process([message])
        return message

    def widths(self) -> list[int]:
        """The width of each featurizer's sentence features: its vocabulary."""
        message = self.message("hi")
        return [f.features.shape[1] for f in message.features if f.type == "sentence"]


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def trained(
    storage: LocalModelStorage, cls: type[LogisticRegressionClassifier], featurizers: Featurizers
) -> Resource:
    resource = Resource(cls.__name__)
    classifier = cls.create(cls.get_default_config(), storage, resource, CONTEXT)
    classifier.train(featurizers.training_data())
    return resource


def test_the_estimator_is_tfidf_per_featurizer_then_logistic_regression(
    storage: LocalModelStorage,
) -> None:
    featurizers = Featurizers(storage)
    config = {**TfidfLogisticRegressionClassifier.get_default_config(), "C": 7.0}
    classifier = TfidfLogisticRegressionClassifier.create(config, storage, Resource("c"), CONTEXT)
    classifier.train(featurizers.training_data())
    assert isinstance(classifier.clf, Pipeline)
    column_transformer, regression = (step for _, step in classifier.clf.steps)
    assert isinstance(column_transformer, ColumnTransformer)
    blocks = classifier.clf.tfidf_transformers()
    words, chars = featurizers.widths()
    assert [columns for _, columns in blocks] == [slice(0, words), slice(words, words + chars)]
    assert all(isinstance(tfidf, TfidfTransformer) and tfidf.sublinear_tf for tfidf, _ in blocks)
    assert isinstance(regression, LogisticRegression) and regression.C == 7.0
    assert regression.class_weight == "balanced"


@pytest.mark.parametrize("per_featurizer", [True, False])
def test_each_block_or_the_whole_row_has_unit_length(
    storage: LocalModelStorage, per_featurizer: bool
) -> None:
    featurizers = Featurizers(storage)
    config = {
        **TfidfLogisticRegressionClassifier.get_default_config(),
        "tfidf_per_featurizer": per_featurizer,
    }
    classifier = TfidfLogisticRegressionClassifier.create(config, storage, Resource("c"), CONTEXT)
    classifier.train(featurizers.training_data())
    features = classifier._create_X([featurizers.message("where does it spread")])
    weighted = classifier.clf.named_steps["tfidf"].transform(features)
    words = featurizers.widths()[0]
    block_lengths = [sp.linalg.norm(weighted[:, :words]), sp.linalg.norm(weighted[:, words:])]
    if per_featurizer:
        assert block_lengths == pytest.approx([1.0, 1.0])
    else:
        assert np.hypot(*block_lengths) == pytest.approx(1.0)


def test_trained_saved_and_loaded_it_ranks_intents_as_rasa_does(
    storage: LocalModelStorage,
) -> None:
    featurizers = Featurizers(storage)
    resource = trained(storage, TfidfLogisticRegressionClassifier, featurizers)
    config = TfidfLogisticRegressionClassifier.get_default_config()
    loaded = TfidfLogisticRegressionClassifier.load(config, storage, resource, CONTEXT)
    message = loaded.process([featurizers.message("is it my fault")])[0]
    ranking = message.get(INTENT_RANKING_KEY)
    assert message.get(INTENT)[INTENT_NAME_KEY] == "was_it_my_fault"
    assert [item["name"] for item in ranking][0] == "was_it_my_fault"
    assert sorted((item["confidence"] for item in ranking), reverse=True) == [
        item["confidence"] for item in ranking
    ]
    assert sum(item["confidence"] for item in ranking) == pytest.approx(1.0)


def test_a_missing_model_is_an_error_not_an_untrained_classifier(
    storage: LocalModelStorage,
) -> None:
    config = TfidfLogisticRegressionClassifier.get_default_config()
    with pytest.raises(ValueError):  # Rasa's ModelStorage: no such resource
        TfidfLogisticRegressionClassifier.load(config, storage, Resource("never_trained"), CONTEXT)


def test_loaded_weights_give_the_same_probabilities(storage: LocalModelStorage) -> None:
    featurizers = Featurizers(storage)
    config = TfidfLogisticRegressionClassifier.get_default_config()
    resource = Resource("classifier")
    fitted = TfidfLogisticRegressionClassifier.create(config, storage, resource, CONTEXT)
    fitted.train(featurizers.training_data())
    loaded = TfidfLogisticRegressionClassifier.load(config, storage, resource, CONTEXT)
    texts = ["where does it go", "hi", "my fault?", "something else entirely"]
    features = fitted._create_X([featurizers.message(text) for text in texts])
    assert list(loaded.clf.classes_) == list(fitted.clf.classes_)
    assert np.allclose(loaded.clf.predict_proba(features), fitted.clf.predict_proba(features))
    scikit_learns = Pipeline(loaded.clf.steps)  # the restored ColumnTransformer's own path
    assert np.allclose(scikit_learns.predict_proba(features), fitted.clf.predict_proba(features))


def test_multinomial_probabilities_come_from_the_stored_weights_alone() -> None:
    """Pins scikit-learn: a regression given coef_, intercept_ and classes_ predicts."""
    regression = LogisticRegression(max_iter=1000).fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])
    rebuilt = LogisticRegression()
    rebuilt.coef_, rebuilt.intercept_ = regression.coef_, regression.intercept_
    rebuilt.classes_ = regression.classes_
    assert np.allclose(rebuilt.predict_proba([[1.5]]), regression.predict_proba([[1.5]]))


@pytest.mark.parametrize("per_featurizer", [True, False])
@pytest.mark.parametrize("sublinear_tf", [True, False])
def test_probabilities_are_scikit_learns(
    storage: LocalModelStorage, per_featurizer: bool, sublinear_tf: bool
) -> None:
    featurizers = Featurizers(storage)
    config = {
        **TfidfLogisticRegressionClassifier.get_default_config(),
        "tfidf_per_featurizer": per_featurizer,
        "sublinear_tf": sublinear_tf,
    }
    classifier = TfidfLogisticRegressionClassifier.create(config, storage, Resource("c"), CONTEXT)
    classifier.train(featurizers.training_data())
    texts = ["where does it go", "hi", "my fault?", "zzz", "where where where does it spread"]
    features = classifier._create_X([featurizers.message(text) for text in texts])
    pipeline = Pipeline(classifier.clf.steps)  # scikit-learn's own prediction, same weights
    assert classifier.clf.fast_path_applies(features.shape[1])
    assert np.allclose(classifier.clf.predict_proba(features), pipeline.predict_proba(features))


def test_the_feature_matrix_is_rasas(storage: LocalModelStorage) -> None:
    featurizers = Featurizers(storage)
    classifier = TfidfLogisticRegressionClassifier.create(
        TfidfLogisticRegressionClassifier.get_default_config(), storage, Resource("c"), CONTEXT
    )
    messages = [featurizers.message(text) for text in ["where does it go", "hi", "zzz"]]
    ours = classifier._create_X(messages)
    upstream = LogisticRegressionClassifier._create_X(classifier, messages)
    assert ours.shape == upstream.shape and (ours != upstream).nnz == 0
