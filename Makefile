# The two commands a newcomer needs: `make run` and `make test` (README.md).
# Every step is idempotent: a stamp file or Rasa's own fingerprint skips what is done.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
VENV_STAMP := $(VENV)/.installed
SPACY_STAMP := build/spacy/.built
NODE_STAMP := node_modules/.installed
MODEL := models/mbc.tar.gz
LOG_DIR := var/log

# The servers' settings and their defaults live in bot/settings.py, not here.
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONDONTWRITEBYTECODE := 1

# Rasa 3.6 supports Python up to 3.10, and the code and the lock need 3.10 exactly.
# `.python-version` makes pyenv pick it; PYTHON=... names another 3.10.
PYTHON ?= $(shell command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys' 2>/dev/null && echo python3.10)
PYTHON_IS_310 = $(shell $(PYTHON) -c 'import sys; print(sys.version_info[:2] == (3, 10))' 2>/dev/null)

TRAINING_INPUTS := config.yml domain.yml $(wildcard data/*.yml) $(SPACY_STAMP) \
	$(wildcard bot/nlu/*.py bot/nlu/*.yml bot/policies/*.py)

.PHONY: help python-check setup venv spacy train run cluster serving-packages shell validate lint format unit pytest test-stories test lock clean browser \
	retention eval bench profile ask review node

help:
	@echo "make run     set everything up, train if needed, serve the assistant"
	@echo "make test    set everything up, then lint, validate, pytest and conversation tests"
	@echo "make cluster make run's layout on PostgreSQL: Redis, REPLICAS Rasa servers, HAProxy on 5005"
	@echo "make shell   talk to the assistant in the terminal (rasa shell)"
	@echo "make lock    recompile requirements.lock from requirements.in"
	@echo "make retention DAYS=30  delete conversations whose last message is over 30 days old"
	@echo "make eval    answer quality on the held-out sets (reports/eval.md)"
	@echo "make bench   speed and cost in conversations of 25 and 60 messages (reports/bench.md)"
	@echo "make profile where a message's time goes, early and late in a conversation"
	@echo "make ask Q=\"where does it spread?\"  what the assistant answers, and why (staff)"
	@echo "make review  every answer with its sources, for clinical sign-off (reports/review.md)"

setup: venv spacy

venv: $(VENV_STAMP)

# Checked at every run, even with the venv installed, so a wrong PYTHON=... stops at once.
python-check:
	@if [ "$(PYTHON_IS_310)" != "True" ]; then \
	  echo "Python 3.10 is needed (Rasa 3.6 and this project's lock), but '$(or $(PYTHON),python3.10)'" \
	       "is not it. Install CPython 3.10 (pyenv install 3.10) or name one with" \
	       "PYTHON=/path/to/python3.10." >&2; exit 1; fi

$(VENV_STAMP): requirements.lock | python-check
	@echo "Installing the pinned dependencies into $(VENV) with $$($(PYTHON) --version) ..."
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	@mkdir -p $(LOG_DIR)
	@$(PY) -m pip install --no-deps --prefer-binary -r requirements.lock > $(LOG_DIR)/install.log 2>&1 \
	  || { tail -40 $(LOG_DIR)/install.log; exit 1; }
	@touch $@

spacy: $(SPACY_STAMP)

$(SPACY_STAMP): $(VENV_STAMP) bot/nlu/pipeline.py bot/nlu/vectors.py article/sites.yml
	@$(PY) -m bot.nlu.pipeline
	@touch $@

train: $(MODEL)

$(MODEL): $(VENV_STAMP) $(TRAINING_INPUTS)
	@mkdir -p $(LOG_DIR)
	@echo "Training (about 2 minutes; log: $(LOG_DIR)/train.log) ..."
	@$(RASA) train --fixed-model-name mbc --out models > $(LOG_DIR)/train.log 2>&1 \
	  || { tail -40 $(LOG_DIR)/train.log; exit 1; }
	@touch $@

# REPLICAS Rasa processes (default: one per core) behind HAProxy on RASA_PORT, a private Redis as
# the lock store, SQLite as the tracker store (bot/serve.py).
run: setup serving-packages train
	@$(PY) -m bot.serve

# A local production layout: PostgreSQL, Redis, REPLICAS Rasa servers on RASA_PORT+1..N behind
# HAProxy on RASA_PORT, the action server, the widget page (bot/serving/cluster.py). Ctrl-C stops all.
cluster: setup serving-packages train
	@$(PY) -m bot.serving.cluster

# The private Redis and HAProxy of make run, and PostgreSQL of make cluster: Debian packages that a
# fresh machine gets here (needs root), as `make browser` gets Chromium.
SERVING_PACKAGES := redis-server postgresql haproxy
serving-packages:
	@command -v redis-server >/dev/null && command -v haproxy >/dev/null \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(SERVING_PACKAGES) >/dev/null; \
	  else echo "make run and make cluster need: sudo apt-get install $(SERVING_PACKAGES)" >&2; exit 1; fi; }

# Redis and the action server run in the background while `rasa shell` has the terminal.
shell: setup serving-packages train
	@$(PY) -m bot.serve --shell

validate: setup
	@mkdir -p $(LOG_DIR)
	@$(RASA) data validate --fail-on-warnings > $(LOG_DIR)/validate.log 2>&1 \
	  || { cat $(LOG_DIR)/validate.log; exit 1; }
	@echo "rasa data validate: ok"

lint: venv
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

format: venv
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

# The fast tests only: no servers, no browser (the pytest markers in pyproject.toml).
unit: setup
	@$(VENV)/bin/pytest -q -m "not e2e and not browser and not slow"

pytest: setup serving-packages train node
	@$(VENV)/bin/pytest -q

# --e2e: each story's user text goes through the trained NLU pipeline, so a wrong intent or
# entity fails the story, as does a wrong action.
test-stories: setup train
	@$(RASA) test core --e2e --model $(MODEL) --stories tests/test_stories.yml \
	  --out results/core --fail-on-prediction-errors > $(LOG_DIR)/test-core.log 2>&1 \
	  || { tail -60 $(LOG_DIR)/test-core.log; cat results/core/failed_test_stories.yml 2>/dev/null; exit 1; }
	@echo "rasa test core --e2e: all conversation tests passed, through NLU"

# The browser tests drive Debian's Chromium; a fresh machine gets it here (needs root).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "The browser tests need Chromium: sudo apt-get install chromium chromium-driver" >&2; exit 1; fi; }

# axe-core for the browser tests' accessibility check: the versions pinned in package-lock.json.
node: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq npm >/dev/null; \
	  else echo "The browser tests need npm: sudo apt-get install npm" >&2; exit 1; fi; }
	@mkdir -p $(LOG_DIR)
	@npm ci --no-audit --no-fund > $(LOG_DIR)/npm.log 2>&1 || { tail -20 $(LOG_DIR)/npm.log; exit 1; }
	@touch $@

test: setup browser node serving-packages lint validate train pytest test-stories

lock: venv
	@$(PY) -m pip install --quiet uv
	@$(VENV)/bin/uv pip compile requirements.in --python-version 3.10 --override overrides.txt \
	  --no-header -o requirements.lock
	@echo "requirements.lock recompiled; run make to install it."

# Privacy: delete conversations idle for more than DAYS days from the tracker store. Run daily.
retention: venv
	@if [ -z "$(DAYS)" ]; then echo "Usage: make retention DAYS=30" >&2; exit 2; fi
	@$(PY) -m bot retention --days "$(DAYS)"

# Answer quality on the two held-out sets, side by side, through the REST channel, with a
# TF-IDF baseline (docs/evaluation.md). Exits 1 if an emergency or self-harm message is missed.
eval: setup train
	@$(PY) -m bot eval

# Speed and cost in conversations of 25 and 60 messages, 1 Sanic worker and all cores
# (docs/evaluation.md; a few minutes). BENCH_URL=... measures a running server instead;
# CLUSTER_URL=... adds a `make cluster` load balancer; BENCH_ARGS passes more options.
bench: setup train
	@$(PY) -m bot bench $(if $(BENCH_URL),--url $(BENCH_URL)) \
	  $(if $(CLUSTER_URL),--cluster-url $(CLUSTER_URL)) $(BENCH_ARGS)

# Where a message's time goes, turns 1-5 against 56-60 (reports/profile.md).
profile: setup train
	@$(PY) -m bot profile

# Support staff: what the assistant does with one message, and why; the model runs in this
# process, no servers (bot/staff/ask.py). Q is read from the environment so quotes survive.
# Q is checked before anything else runs, so a forgotten Q does not start training.
ifneq ($(filter ask,$(MAKECMDGOALS)),)
ifeq ($(strip $(Q)),)
$(error Usage: make ask Q="where does it spread?")
endif
endif
ask: setup train
	@$(PY) -m bot ask "$$Q"

# Every answer with example questions and source passages, for a clinician to sign off
# (bot/staff/review.py). Reads the project's files: no model needed.
review: setup
	@$(PY) -m bot review

clean:
	rm -rf build models results .rasa var/log
