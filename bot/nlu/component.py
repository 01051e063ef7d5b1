"""What the project's NLU components share: how Rasa creates them, and how it loads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from typing_extensions import Self


class ConfiguredComponent(GraphComponent):
    """A Rasa component built from its config; a trainable one also stores in its resource."""

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Self:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config, model_storage, resource)


class RestoredComponent(GraphComponent):
    """A trained component, loaded as Rasa creates it and then given back what it stored."""

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> Self:
        """Loads the trained component; a missing resource is an error, not a new model."""
        component = cls.create(config, model_storage, resource, execution_context)
        with model_storage.read_from(resource) as directory:
            component.restore(directory)
        return component

    def restore(self, directory: Path) -> None:
        """Takes back what training stored in ``directory``."""
        raise NotImplementedError
