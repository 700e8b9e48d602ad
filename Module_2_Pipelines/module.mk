# Module 2: Airflow 3 on this machine, and the daily loan-book ETL DAG.
# Included by the root Makefile; targets run with the project's .venv.
M2_LOCAL := $(PY) -m Module_2_Pipelines.airflow_local
DATE ?=
M2_TRIGGER_ARGS := $(if $(DATE),--date $(DATE)) $(if $(filter command line,$(origin LOANS)),--loans $(LOANS))

.PHONY: airflow-up airflow-down airflow-status dag-trigger etl-run

airflow-up: setup ## start Airflow standalone on 127.0.0.1:8080 (HDP_AIRFLOW_PORT), print the admin login
	@$(M2_LOCAL) up

airflow-down: setup ## stop Airflow and every process it started
	@$(M2_LOCAL) down

airflow-status: setup ## is Airflow running and healthy? components, admin login (exit 1 if not)
	@$(M2_LOCAL) status

dag-trigger: setup ## unpause + trigger the loan-book DAG via the REST API and wait (DATE=2024-01-10 LOANS=5000)
	@$(M2_LOCAL) trigger $(M2_TRIGGER_ARGS)

etl-run: setup ## run the same ETL for one date without Airflow (DATE=2024-01-10)
	$(PY) -m Module_2_Pipelines.etl --date $(or $(DATE),2024-01-10)

# Module 2's own linter: Airflow 3 idioms (ruff's AIR rules) on the DAG code
lint:: setup
	$(RUFF) check --select AIR Module_2_Pipelines
