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

from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from bot.nlu.component import RestoredComponent

WEIGHTS_FILE = "weights.npz"
TFIDF_DEFAULTS: dict[str, Any] = {
    "max_iter": 2000,
    # Inverse regularisation strength, for features scaled to unit length.
    "C": 30.0,
    "sublinear_tf": True,
}


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
        self.clf: Pipeline = Pipeline([("tfidf", tfidf), ("regression", regression)])

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
