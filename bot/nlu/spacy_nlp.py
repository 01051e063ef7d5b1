"""Rasa's ``SpacyNLP``, with the project pipeline's content hash in the training fingerprint.

Rasa fingerprints ``SpacyNLP`` by its ``model`` path string only, so rebuilding the pipeline
in place would not retrain. :meth:`SpacyNLP.fingerprint_addon` is Rasa's extension point for
exactly this: it adds the hash that ``bot/nlu/pipeline.py`` stores in the pipeline's
``meta.json``. The class keeps Rasa's name, because the other spaCy components find their
model provider by the class name ``SpacyNLP``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils

from bot import paths
from bot.nlu.pipeline import built_hash


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.MODEL_LOADER,
        DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    ],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """Loads the project's spaCy pipeline once for every spaCy component after it."""

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        model = Path(config.get("model") or paths.SPACY_PIPELINE)
        if not model.is_absolute():
            model = paths.PROJECT_ROOT / model
        return built_hash(model)
