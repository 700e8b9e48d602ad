# The learning path's commands. `make help` lists them; `make run` and `make test` set
# everything up themselves (uv, the locked environment, system packages they need).
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

UV_VERSION := 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff
LOANS ?= 10000
SEED ?= 42

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export PYTHONDONTWRITEBYTECODE := 1

TEST_PATHS := $(wildcard */tests)
NOTEBOOKS := $(wildcard */ml_practice_notebooks/*.ipynb)
NOTEBOOK_SOURCES := $(wildcard */ml_practice_notebooks/[0-9][0-9]_*.py)

.PHONY: help setup system-deps run generate public-data test lint format requirements notebooks bench clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(CURDIR)/.tools/bin/uv:
	@echo "uv not found: installing uv $(UV_VERSION) into .tools/"
	@python3 -m venv $(CURDIR)/.tools 2>/dev/null || { [ "$$(id -u)" = 0 ] \
	  && apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null \
	  && python3 -m venv $(CURDIR)/.tools; } \
	  || { echo "error: python3 cannot create a venv: install python3-venv, then rerun"; exit 1; }
	$(CURDIR)/.tools/bin/pip install --quiet uv==$(UV_VERSION)

SYNC_FLAGS ?=
setup: | $(UV) ## install uv if missing and sync the locked environment (idempotent, seconds)
	@$(UV) sync --frozen --quiet --compile-bytecode $(SYNC_FLAGS)
	@$(PY) -c "import Module_1_Foundations, capstone" \
	  || { echo "error: the project is not importable from .venv: run 'make distclean setup'"; exit 1; }

system-deps: ## Debian packages the browser tests need (chromium), installed when missing
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "error: chromium is missing: run 'sudo apt-get install -y chromium'"; exit 1; fi; }

generate: setup ## generate the synthetic loan book into data/raw/loanbook (LOANS=10000 SEED=42)
	$(PY) -m Module_1_Foundations.datasets.loanbook_generator --loans $(LOANS) --seed $(SEED)

public-data: setup ## export the real public credit data sets into data/raw/public
	$(PY) -m Module_1_Foundations.datasets.public_credit_data --dataset all

RUN_ARGS ?=
run: setup ## the whole path: object store, Airflow, ETL -> Asset -> risk model DAG, then the dashboard (Ctrl-C stops all)
	@$(PY) -m capstone.run_all $(RUN_ARGS)

lint:: setup ## ruff lint + format check, and every module's own linters
	$(RUFF) check .
	$(RUFF) format --check .

format: setup ## apply ruff fixes and formatting
	$(RUFF) check --fix .
	$(RUFF) format .

requirements: setup ## regenerate requirements.txt from uv.lock
	$(UV) export --frozen --all-groups --no-hashes --quiet -o requirements.txt

test: setup system-deps lint ## lint and run every test (unit, slow, browser, e2e) and the notebooks
	$(PYTEST) $(TEST_PATHS) $(if $(NOTEBOOKS),--nbmake --nbmake-kernel=python3 $(NOTEBOOKS))

notebooks: setup ## execute Module 4's notebook sources (ml_practice_notebooks/NN_*.py) into the committed .ipynb
	$(VENV)/bin/jupytext --to ipynb --execute $(NOTEBOOK_SOURCES)

bench: setup ## run every benchmark (each prints its table of side-by-side ratios)
	@set -e; for b in $(sort $(wildcard */benchmarks/bench_*.py)); do \
	  echo "=== $$b"; $(PY) $$b; done

clean: ## remove generated data, logs and caches (keeps .venv and service state)
	find data/raw data/processed -mindepth 1 ! -name README.md -exec rm -rf {} +
	find . -path ./.venv -prune -o -path ./.tools -prune -o -path '*/logs/*' -type f ! -name README.md ! -name 'example_*' -print -delete
	rm -rf .pytest_cache .ruff_cache

distclean: clean ## also remove .venv, .tools and all service state (.state)
	rm -rf .venv .tools .state

include $(sort $(wildcard */module.mk))
