"""The baseline to beat: TF-IDF on words and characters, and a linear SVM, trained on ``data/``.

If Rasa does not beat a linear model on word and character n-grams, its extra cost buys
nothing; ``make eval`` puts the two side by side on every held-out set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.evaluation.examples import Example

NAME = "TF-IDF + linear SVM"
RANDOM_SEED = 42


def trained_baseline(training: Sequence[Example]) -> Callable[[Sequence[str]], list[str]]:
    """A classifier trained on ``training``: it returns the intent of each text it is given."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            # Character n-grams inside word boundaries carry typos.
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)),
        ]
    )
    classifier = LinearSVC(C=1.0, class_weight="balanced", random_state=RANDOM_SEED)
    model = make_pipeline(features, classifier)
    model.fit([e.text for e in training], [e.intent for e in training])
    return lambda texts: [str(label) for label in model.predict(list(texts))]
