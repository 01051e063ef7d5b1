"""Every path the project's code uses, in one place.

Paths are absolute, built from the repository root, so a command works from any folder.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The article and the facts derived from it.
ARTICLE_DIR = PROJECT_ROOT / "article"
ARTICLE = ARTICLE_DIR / "metastatic-breast-cancer.txt"
ARTICLE_SOURCE = ARTICLE_DIR / "source.yml"
SITES = ARTICLE_DIR / "sites.yml"

# What Rasa trains and runs with.
CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
CREDENTIALS = PROJECT_ROOT / "credentials.yml"
TELEGRAM_CREDENTIALS = PROJECT_ROOT / "credentials.telegram.yml"
DATA_DIR = PROJECT_ROOT / "data"
NLU_DATA = DATA_DIR / "nlu.yml"
RULES = DATA_DIR / "rules.yml"
STORIES = DATA_DIR / "stories.yml"
MODEL = PROJECT_ROOT / "models" / "mbc.tar.gz"
SPACY_PIPELINE = PROJECT_ROOT / "build" / "spacy" / "mbc"
# Wheels downloaded for their data only (GloVe vectors: bot/nlu/vectors.py).
WHEELS_DIR = PROJECT_ROOT / "build" / "wheels"

# Tests and their data.
TESTS_DIR = PROJECT_ROOT / "tests"
TEST_STORIES = TESTS_DIR / "test_stories.yml"
HELDOUT = TESTS_DIR / "nlu" / "heldout.yml"
INDEPENDENT_HELDOUT_DIR = TESTS_DIR / "nlu" / "independent"

# What the running servers and the tools write.
VAR_DIR = PROJECT_ROOT / "var"
LOG_DIR = VAR_DIR / "log"
TRACKER_DB = VAR_DIR / "tracker.db"
REPORTS_DIR = PROJECT_ROOT / "reports"
