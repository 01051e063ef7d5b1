"""A baseline to beat: TF-IDF features and two simple scikit-learn classifiers.

Trained on ``data/`` and scored on the same held-out set as Rasa, in the same run. If DIET does
not clearly beat a linear model on word and character n-grams, its extra cost buys nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sklearn.base import ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.evaluation.examples import Example
from bot.evaluation.metrics import Prediction

RANDOM_SEED = 42


def tfidf_features() -> FeatureUnion:
    """Word uni- and bigrams, plus character 2- to 5-grams inside word boundaries (typos)."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )


def linear_classifier() -> ClassifierMixin:
    return LinearSVC(C=1.0, class_weight="balanced", random_state=RANDOM_SEED)


def nearest_neighbour() -> ClassifierMixin:
    return KNeighborsClassifier(n_neighbors=1, metric="cosine")


BASELINES: dict[str, Callable[[], ClassifierMixin]] = {
    "TF-IDF + linear SVM": linear_classifier,
    "TF-IDF + 1-nearest neighbour": nearest_neighbour,
}


def predict(
    make_classifier: Callable[[], ClassifierMixin],
    training: Sequence[Example],
    test: Sequence[Example],
) -> list[Prediction]:
    """Train on ``training`` and predict the intent of each message in ``test``."""
    model = Pipeline([("features", tfidf_features()), ("classifier", make_classifier())])
    model.fit([e.text for e in training], [e.intent for e in training])
    predicted = model.predict([e.text for e in test])
    return [
        Prediction(e.text, e.intent, str(label)) for e, label in zip(test, predicted, strict=True)
    ]


def baseline_predictions(
    training: Sequence[Example], test: Sequence[Example]
) -> dict[str, list[Prediction]]:
    """Each baseline's predictions for ``test``, by the baseline's name."""
    return {name: predict(make, training, test) for name, make in BASELINES.items()}
