"""One message the assistant sends, with where its words come from: the staff tools' one type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sourced:
    """A message's exact text and buttons, and its provenance from ``domain.yml`` metadata.

    source: The response or custom action that sends it.
    passages: The verbatim article passages it is drawn from.
    not_from_article: Why it is not drawn from the article, for the few messages that are not.
    """

    source: str
    text: str
    buttons: list[dict[str, Any]]
    passages: list[str]
    not_from_article: str | None

    @classmethod
    def of(
        cls, source: str, text: str, buttons: list[dict[str, Any]] | None, metadata: Any
    ) -> Sourced:
        """A message whose provenance is in ``metadata`` (a response's ``metadata`` block)."""
        metadata = metadata or {}
        return cls(
            source=source,
            text=text,
            buttons=buttons or [],
            passages=list(metadata.get("passages") or []),
            not_from_article=metadata.get("not_from_article"),
        )
