"""The project's spaCy pipeline: built in code, fingerprinted by content, loaded by Rasa."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from bot import paths
from bot.article import sites
from bot.nlu import pipeline
from bot.nlu.spacy_nlp import SpacyNLP


@pytest.fixture(scope="module")
def nlp() -> Language:
    return pipeline.build()


def test_the_built_pipeline_is_the_one_the_sources_describe() -> None:
    assert pipeline.built_hash() == pipeline.content_hash(), "run `make spacy`"


def test_the_training_fingerprint_follows_the_built_pipeline(tmp_path: Path) -> None:
    """A pipeline rebuilt in place at the same path changes Rasa's fingerprint, so it retrains."""
    relative = paths.SPACY_PIPELINE.relative_to(paths.PROJECT_ROOT).as_posix()
    assert SpacyNLP.fingerprint_addon({"model": relative}) == pipeline.content_hash()
    other = tmp_path / "other"
    nlp = pipeline.build()
    nlp.meta[pipeline.CONTENT_HASH_KEY] = "changed"
    nlp.to_disk(other)
    assert SpacyNLP.fingerprint_addon({"model": str(other)}) == "changed"
    assert SpacyNLP.fingerprint_addon({"model": str(tmp_path / "missing")}) is None


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("it spread to my Lungs", "lung"),
        ("pulmonary mets", "lung"),
        ("what about the liver?", "liver"),
        ("hepatic lesions", "liver"),
        ("my mom's cancer is in her spine", "bones"),
        ("pain in my hip", "bones"),
        ("and the brain", "brain"),
        ("it is in her lymph nodes", pipeline.NOT_COVERED_ID),
    ],
)
def test_entity_ruler_tags_sites_with_their_canonical_id(
    nlp: Language, text: str, site: str
) -> None:
    entities = [(ent.label_, ent.ent_id_) for ent in nlp(text).ents]
    assert entities == [(pipeline.SITE_LABEL, site)]


def test_every_site_word_is_recognised(nlp: Language) -> None:
    for site, entry in sites()["sites"].items():
        for word in entry["words"]:
            ids = [ent.ent_id_ for ent in nlp(f"what about {word}").ents]
            assert ids == [site], word


def test_liver_keeps_its_lemma(nlp: Language) -> None:
    """The lookup table turns "liver" into "live", which means something else entirely."""
    assert [token.lemma_ for token in nlp("liver spreads")] == ["liver", "spread"]
