"""The intent classifier: Rasa's logistic regression, on TF-IDF weighted n-gram counts.

Rasa's ``LogisticRegressionClassifier`` fits scikit-learn's ``LogisticRegression`` on the
sparse sentence features of the featurizers before it (word and character n-gram counts
here). Two things it does not do made it, and DIET before it, learn the team's way of writing
rather than patients' (docs/understanding.md):

- raw counts let long messages and frequent n-grams dominate. ``TfidfTransformer``
  (sublinear term frequency, inverse document frequency, each message scaled to unit length)
  weighs the rare, telling n-grams up, whatever the message's length. It runs on each
  featurizer's block of columns on its own (a ``ColumnTransformer``), so the words count as
  much as the far more numerous character n-grams;
- its regularisation is fixed at ``C=1``, far too strong for features of unit length.
  ``C`` is a config key here.

The subclass changes the scikit-learn estimator: a ``Pipeline`` of the two steps stands in for
the bare ``LogisticRegression``. Training, prediction and the intent ranking are Rasa's own.
The fitted weights are stored as plain arrays (NumPy, no pickle) rather than with ``skops``:
importing ``skops.io`` next to TensorFlow took several seconds of every server's start, and
Rasa's ``load`` refuses the TF-IDF weights' SciPy type, then silently starts an untrained
model. ``tests/test_linear_classifier.py`` pins what this relies on.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.extmath import softmax

from bot.nlu.component import RestoredComponent

WEIGHTS_FILE = "weights.npz"
TFIDF_DEFAULTS: dict[str, Any] = {
    "max_iter": 2000,
    # Inverse regularisation strength, for features scaled to unit length.
    "C": 100.0,
    "sublinear_tf": True,
    # TF-IDF and unit length for each featurizer's block of columns on its own. On the joint
    # matrix the character n-grams, far more numerous, drown the words in the length.
    "tfidf_per_featurizer": True,
}


def tfidf_blocks(widths: list[int], sublinear_tf: bool) -> list[tuple[str, Any, slice]]:
    """A ``ColumnTransformer``'s TF-IDF of each block of columns, the blocks ``widths`` wide."""
    ends = np.cumsum(widths)
    return [
        (f"block{i}", TfidfTransformer(sublinear_tf=sublinear_tf), slice(end - width, end))
        for i, (width, end) in enumerate(zip(widths, ends.tolist(), strict=True))
    ]


class TfidfLogisticRegression(Pipeline):
    """scikit-learn's ``Pipeline`` of a TF-IDF per block of columns (``ColumnTransformer``) then
    multinomial ``LogisticRegression``, with the prediction done in a few NumPy operations on
    the fitted weights.

    A request brings one message, and for one message scikit-learn's checks on each call cost
    several times the arithmetic: about 1 ms a message (docs/deployment.md).
    ``tests/test_linear_classifier.py`` pins the result to scikit-learn's own.
    """

    def fit(self, *args: Any, **kwargs: Any) -> TfidfLogisticRegression:
        self.__dict__.pop("_weights", None)
        super().fit(*args, **kwargs)
        return self

    @functools.cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The first column of each block, the idf of each feature, the coefficients as
        features x classes in C order (scipy copies them on every product otherwise), and the
        intercepts."""
        regression = self.named_steps["regression"]
        blocks = self.tfidf_transformers()
        starts = np.array([columns.start for _, columns in blocks])
        idf = np.concatenate([tfidf.idf_ for tfidf, _ in blocks])
        coefficients = np.ascontiguousarray(regression.coef_.T)
        return starts, idf, coefficients, regression.intercept_

    def tfidf_transformers(self) -> list[tuple[TfidfTransformer, slice]]:
        """Each block's fitted ``TfidfTransformer`` and its columns, in column order."""
        return [
            (tfidf, columns)
            for _, tfidf, columns in self.named_steps["tfidf"].transformers_
            if isinstance(tfidf, TfidfTransformer)
        ]

    def fast_path_applies(self, n_features: int) -> bool:
        """Whether the NumPy prediction computes what scikit-learn's would."""
        blocks = self.tfidf_transformers()
        column_transformer = self.named_steps["tfidf"]
        return (
            softmax_over_classes(self.named_steps["regression"])
            and not column_transformer.transformer_weights
            and sum(columns.stop - columns.start for _, columns in blocks) == n_features
            and all(tfidf.norm == "l2" for tfidf, _ in blocks)
            and len({tfidf.sublinear_tf for tfidf, _ in blocks}) == 1
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        if not self.fast_path_applies(X.shape[1]):
            return super().predict_proba(X)
        starts, idf, coefficients, intercepts = self._weights
        weighted = sp.csr_matrix(X, dtype=np.float64, copy=True)
        if self.tfidf_transformers()[0][0].sublinear_tf:
            np.log(weighted.data, out=weighted.data)
            weighted.data += 1
        weighted.data *= idf[weighted.indices]
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        # Each (row, block) pair is scaled to unit length on its own.
        cells = rows * len(starts) + np.searchsorted(starts, weighted.indices, side="right") - 1
        squares = np.bincount(cells, weights=weighted.data**2, minlength=X.shape[0] * len(starts))
        weighted.data /= np.sqrt(squares)[cells]
        return softmax(np.asarray(weighted @ coefficients) + intercepts)


def sentence_features(message: Message) -> list[Any]:
    """The message's sentence-level feature matrices of its text, sparse first, in Rasa's order."""
    features = text_sentence_features(message)
    return [f.features for f in features if f.is_sparse()] + [
        f.features for f in features if f.is_dense()
    ]


def sparse_widths(message: Message) -> list[int]:
    """The number of columns of each featurizer's sparse sentence features, in Rasa's order."""
    return [f.features.shape[1] for f in text_sentence_features(message) if f.is_sparse()]


def text_sentence_features(message: Message) -> list[Features]:
    """The message's sentence-level features of its text, in the featurizers' order."""
    return [
        feature
        for feature in message.features
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE
    ]


def softmax_over_classes(regression: LogisticRegression) -> bool:
    """Whether scikit-learn's ``predict_proba`` is the softmax of the scores of 3+ classes."""
    if len(regression.classes_) <= 2 or regression.multi_class in ("ovr", "warn"):
        return False
    return regression.multi_class == "multinomial" or regression.solver != "liblinear"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TfidfLogisticRegressionClassifier(RestoredComponent, LogisticRegressionClassifier):
    """``LogisticRegressionClassifier`` with TF-IDF weighting and a configurable ``C``."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (see parent class for full docstring)."""
        return {**LogisticRegressionClassifier.get_default_config(), **TFIDF_DEFAULTS}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)  # merges the default config
        regression: LogisticRegression = self.clf
        regression.set_params(C=self.config["C"])
        # The blocks' columns are known once the featurizers have run (``set_blocks``).
        tfidf = ColumnTransformer([], remainder="passthrough", sparse_threshold=1.0)
        self.clf: Pipeline = TfidfLogisticRegression([("tfidf", tfidf), ("regression", regression)])

    def set_blocks(self, widths: list[int]) -> None:
        """One TF-IDF per featurizer's columns, or one for them all; dense ones pass through."""
        if not self.config["tfidf_per_featurizer"]:
            widths = [sum(widths)]
        blocks = tfidf_blocks(widths, self.config["sublinear_tf"])
        self.clf.set_params(tfidf__transformers=blocks)

    def train(self, training_data: TrainingData) -> Resource:
        """Rasa's training, with the TF-IDF blocks of the featurizers' columns."""
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if examples:
            self.set_blocks(sparse_widths(examples[0]))
        return super().train(training_data)

    def _create_X(self, messages: list[Message]) -> sp.csr_matrix:
        """Rasa's matrix: each message's sentence features, sparse then dense, as one row.

        Rasa's own builds it through ``Message.get_sparse_features``, which also deep-copies
        every message's sequence features: two thirds of the classifier's time.
        """
        rows = [sentence_features(message) for message in messages]
        if not all(rows):
            return super()._create_X(messages)
        return sp.bmat(rows, format="csr")

    def persist(self) -> None:
        """Stores the fitted weights as NumPy arrays."""
        blocks = self.clf.tfidf_transformers()
        regression = self.clf.named_steps["regression"]
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / WEIGHTS_FILE,
                widths=[columns.stop - columns.start for _, columns in blocks],
                n_features=self.clf.named_steps["tfidf"].n_features_in_,
                idf=np.concatenate([tfidf.idf_ for tfidf, _ in blocks]),
                coef=regression.coef_,
                intercept=regression.intercept_,
                classes=regression.classes_,
            )

    def restore(self, directory: Path) -> None:
        """The fitted weights, as ``persist`` stored them.

        The ``ColumnTransformer`` learns its columns from an empty row, then each block is
        given its stored idf.
        """
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
            blocks = tfidf_blocks(weights["widths"].tolist(), self.config["sublinear_tf"])
            column_transformer = self.clf.named_steps["tfidf"]
            column_transformer.set_params(transformers=blocks)
            column_transformer.fit(sp.csr_matrix((1, int(weights["n_features"]))))
            for tfidf, columns in self.clf.tfidf_transformers():
                tfidf.idf_ = weights["idf"][columns.start : columns.stop]
            regression = self.clf.named_steps["regression"]
            regression.coef_ = weights["coef"]
            regression.intercept_ = weights["intercept"]
            regression.classes_ = weights["classes"]
