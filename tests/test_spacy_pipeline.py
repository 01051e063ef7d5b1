"""The project's spaCy pipeline: built in code, versioned by content, loaded by Rasa."""

from __future__ import annotations

import pytest
from spacy.language import Language

from bot import PROJECT_ROOT
from bot.article import sites
from bot.nlp import pipeline


@pytest.fixture(scope="module")
def nlp() -> Language:
    return pipeline.build()


def test_config_loads_the_pipeline_built_from_the_current_sources() -> None:
    configured = pipeline.config_model_path(pipeline.CONFIG_PATH.read_text(encoding="utf-8"))
    expected = pipeline.pipeline_path().relative_to(PROJECT_ROOT).as_posix()
    assert configured == expected, "the pipeline changed: run `make spacy` and commit config.yml"


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
