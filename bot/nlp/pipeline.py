"""Build the project's spaCy pipeline and save it where Rasa's ``SpacyNLP`` loads it.

No trained spaCy pipeline can be downloaded here, so the pipeline is built in code:

- spaCy's English tokenizer (``spacy.blank("en")``);
- a lookup lemmatizer (tables from ``spacy-lookups-data``), so "spreads", "spreading" and
  "spread" share a feature in Rasa's count-vector featurizer;
- an entity ruler that tags the metastatic sites (``article/sites.yml``) as ``site``
  entities, with the canonical site as the entity id.

Rasa fingerprints ``SpacyNLP``'s ``model`` as a path string only, so the pipeline is saved
under a folder named by a hash of what it is built from; a changed pipeline gets a new path,
``config.yml`` is pointed at it, and ``rasa train`` retrains.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler, Lemmatizer

from bot import PROJECT_ROOT
from bot.article import sites

BUILD_DIR = PROJECT_ROOT / "build" / "spacy"
CONFIG_PATH = PROJECT_ROOT / "config.yml"
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


def build() -> Language:
    """The pipeline, built from ``spacy.blank("en")`` and rule-based components."""
    nlp = spacy.blank("en")
    lemmatizer = cast(Lemmatizer, nlp.add_pipe("lemmatizer", config={"mode": "lookup"}))
    nlp.initialize()
    lemma_table = lemmatizer.lookups.get_table("lemma_lookup")
    for word in KEEP_AS_IS:
        lemma_table[word] = word
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}))
    ruler.add_patterns(site_patterns())
    nlp.meta["name"] = "mbc_sites"
    nlp.meta["description"] = "Blank English pipeline with the metastatic-site entity ruler."
    return nlp


def content_hash() -> str:
    """A short hash of everything the pipeline is built from."""
    digest = hashlib.sha256()
    digest.update(spacy.__version__.encode())
    digest.update(Path(__file__).read_bytes())
    # The patterns, not all of sites.yml: editing a reply's wording there needs no retraining.
    digest.update(json.dumps(site_patterns(), sort_keys=True).encode())
    return digest.hexdigest()[:12]


def pipeline_path() -> Path:
    return BUILD_DIR / f"mbc-{content_hash()}"


def config_model_path(config_text: str) -> str | None:
    """The ``model`` path that ``config.yml`` gives ``SpacyNLP``."""
    match = re.search(r"- name: SpacyNLP\s*\n\s*model: \"?([^\"\n]+)\"?", config_text)
    return match.group(1) if match else None


def point_config_at(path: Path) -> bool:
    """Make ``config.yml`` load ``path``; True if the file had to change."""
    relative = path.relative_to(PROJECT_ROOT).as_posix()
    text = CONFIG_PATH.read_text(encoding="utf-8")
    current = config_model_path(text)
    if current is None:
        raise SystemExit(f"{CONFIG_PATH} has no SpacyNLP component with a model path")
    if current == relative:
        return False
    CONFIG_PATH.write_text(text.replace(current, relative, 1), encoding="utf-8")
    return True


def main() -> None:
    path = pipeline_path()
    if path.exists():
        print(f"spaCy pipeline up to date: {path.relative_to(PROJECT_ROOT)}")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        build().to_disk(path)
        print(f"spaCy pipeline built: {path.relative_to(PROJECT_ROOT)}")
    if point_config_at(path):
        print(
            f"config.yml now loads {path.relative_to(PROJECT_ROOT)}: commit config.yml",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
