"""The intent classifier: Rasa's logistic regression, on TF-IDF weighted n-gram counts.

Rasa's ``LogisticRegressionClassifier`` fits scikit-learn's ``LogisticRegression`` on the
sparse sentence features of the featurizers before it (word and character n-gram counts
here). Two things it does not do made it, and DIET before it, learn the team's way of writing
rather than patients' (docs/understanding.md):

- raw counts let long messages and frequent n-grams dominate. ``TfidfTransformer``
  (sublinear term frequency, inverse document frequency, each message scaled to unit length)
  weighs the rare, telling n-grams up, whatever the message's length;
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
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.extmath import softmax

from bot.nlu.component import RestoredComponent

WEIGHTS_FILE = "weights.npz"
TFIDF_DEFAULTS: dict[str, Any] = {
    "max_iter": 2000,
    # Inverse regularisation strength, for features scaled to unit length.
    "C": 30.0,
    "sublinear_tf": True,
}


class TfidfLogisticRegression(Pipeline):
    """scikit-learn's ``Pipeline`` of ``TfidfTransformer`` then multinomial ``LogisticRegression``,
    with the prediction done in a few NumPy operations on the fitted weights.

    A request brings one message, and for one message scikit-learn's checks on each call cost
    several times the arithmetic: about 1 ms a message (docs/deployment.md).
    ``tests/test_linear_classifier.py`` pins the result to scikit-learn's own.
    """

    def fit(self, *args: Any, **kwargs: Any) -> TfidfLogisticRegression:
        self.__dict__.pop("_weights", None)
        super().fit(*args, **kwargs)
        return self

    @functools.cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The idf of each feature, the coefficients as features x classes in C order (scipy
        copies them on every product otherwise), and the intercepts."""
        tfidf, regression = self.named_steps["tfidf"], self.named_steps["regression"]
        coefficients = np.ascontiguousarray(regression.coef_.T)
        return np.asarray(tfidf.idf_), coefficients, regression.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        tfidf, regression = self.named_steps["tfidf"], self.named_steps["regression"]
        if not softmax_over_classes(regression) or tfidf.norm != "l2":
            return super().predict_proba(X)
        idf, coefficients, intercepts = self._weights
        weighted = sp.csr_matrix(X, dtype=np.float64, copy=True)
        if tfidf.sublinear_tf:
            np.log(weighted.data, out=weighted.data)
            weighted.data += 1
        weighted.data *= idf[weighted.indices]
        rows = np.repeat(np.arange(weighted.shape[0]), np.diff(weighted.indptr))
        norms = np.sqrt(np.bincount(rows, weights=weighted.data**2, minlength=weighted.shape[0]))
        weighted.data /= norms[rows]
        return softmax(np.asarray(weighted @ coefficients) + intercepts)


def sentence_features(message: Message) -> list[Any]:
    """The message's sentence-level feature matrices of its text, sparse first, in Rasa's order."""
    features = [
        feature
        for feature in message.features
        if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE
    ]
    return [f.features for f in features if f.is_sparse()] + [
        f.features for f in features if f.is_dense()
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
        tfidf = TfidfTransformer(sublinear_tf=self.config["sublinear_tf"])
        self.clf: Pipeline = TfidfLogisticRegression([("tfidf", tfidf), ("regression", regression)])

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
        tfidf, regression = self.clf.named_steps["tfidf"], self.clf.named_steps["regression"]
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(
                directory / WEIGHTS_FILE,
                idf=tfidf.idf_,
                coef=regression.coef_,
                intercept=regression.intercept_,
                classes=regression.classes_,
            )

    def restore(self, directory: Path) -> None:
        """The fitted weights, as ``persist`` stored them."""
        with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as weights:
            self.clf.named_steps["tfidf"].idf_ = weights["idf"]
            regression = self.clf.named_steps["regression"]
            regression.coef_ = weights["coef"]
            regression.intercept_ = weights["intercept"]
            regression.classes_ = weights["classes"]
