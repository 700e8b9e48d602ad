# Module 3: the dbt warehouse (DuckDB locally, BigQuery by configuration).
# Included by the root Makefile; targets run with the project's .venv.
M3_DBT := $(PY) -m Module_3_Analytics_Eng.dbt_runner
M3_PROJECT := Module_3_Analytics_Eng/dbt_project
DBT_DOCS_PORT ?= 8081

.PHONY: dbt-build dbt-docs dbt-docs-generate dbt-screenshots dbt-bigquery-check

dbt-build: setup ## build the dbt warehouse (DuckDB; generates + converts the loan book first if missing)
	$(M3_DBT) --ensure-lake -- build

dbt-docs-generate: setup
	$(M3_DBT) -- docs generate

dbt-docs: dbt-build dbt-docs-generate ## generate the dbt docs and serve them on 127.0.0.1:8081 (DBT_DOCS_PORT)
	$(M3_DBT) -- docs serve --host 127.0.0.1 --port $(DBT_DOCS_PORT) --no-browser

dbt-screenshots: setup system-deps dbt-build ## screenshot the dbt docs (lineage, a model page) with Playwright + chromium
	$(PY) -m Module_3_Analytics_Eng.docs_screenshots

dbt-bigquery-check: setup ## compile the project for BigQuery offline (dummy credentials) and parse it with sqlglot
	$(PYTEST) -q Module_3_Analytics_Eng/tests/test_bigquery_compile.py

# Module 3's own linters: sqlfluff (dbt templater) on the models and singular tests, and
# dbt-score on the project's metadata (descriptions, owners, key tests, model size; the project
# must score at least M3_DBT_SCORE_MIN of 10). Both need the profile's variables: a throwaway
# warehouse and dbt-score's manifest under the ignored target/ (the docs' manifest stays).
M3_LINT_DBT := $(M3_DBT) --duckdb-path $(M3_PROJECT)/target/sqlfluff.duckdb
M3_DBT_SCORE_MIN ?= 9.0
lint:: setup
	$(M3_LINT_DBT) --exec -- $(VENV)/bin/sqlfluff lint models tests/singular
	$(M3_LINT_DBT) -- --quiet parse --target-path target/dbt-score
	$(M3_LINT_DBT) --exec -- $(VENV)/bin/dbt-score lint --manifest target/dbt-score/manifest.json \
	  --fail-project-under $(M3_DBT_SCORE_MIN) --show failing-items
