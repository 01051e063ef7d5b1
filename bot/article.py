"""The article the assistant answers from, and the facts derived from it."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT

ARTICLE_DIR = PROJECT_ROOT / "article"
ARTICLE_PATH = ARTICLE_DIR / "metastatic-breast-cancer.txt"
SOURCE_PATH = ARTICLE_DIR / "source.yml"
SITES_PATH = ARTICLE_DIR / "sites.yml"


def normalise_space(text: str) -> str:
    """Collapse runs of white space, so a passage matches across line breaks."""
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def article_text() -> str:
    """The article, with white space normalised."""
    return normalise_space(ARTICLE_PATH.read_text(encoding="utf-8"))


def is_verbatim(passage: str) -> bool:
    """True if ``passage`` occurs word for word in the article."""
    return bool(passage.strip()) and normalise_space(passage) in article_text()


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@lru_cache(maxsize=1)
def source() -> dict[str, Any]:
    """Publisher, author, review date and references of the article."""
    data: dict[str, Any] = load_yaml(SOURCE_PATH)
    return data


@lru_cache(maxsize=1)
def sites() -> dict[str, Any]:
    """The metastatic sites the article names, with their words and symptoms."""
    data: dict[str, Any] = load_yaml(SITES_PATH)
    return data
