# Capstone: the credit-risk dashboard and the services `make run` starts.
# Included by the root Makefile; targets run with the project's .venv.
CAP_SERVER := $(PY) -m capstone.dashboard_project.server

.PHONY: dashboard dashboard-status stop screenshots dbt-manifest

dashboard: setup ## serve the dashboard alone on the current snapshot (127.0.0.1:$HDP_DASHBOARD_PORT); Ctrl-C stops it
	@$(CAP_SERVER) serve

dashboard-status: setup ## is the dashboard running and healthy? (exit 1 if not)
	@$(CAP_SERVER) status

stop: setup ## stop every service: the dashboard, Airflow and the object store (data kept)
	@$(PY) -m capstone.run_all stop

screenshots: setup system-deps ## regenerate the dashboard's README screenshots (the browser test, on a sample snapshot)
	DASHBOARD_SCREENSHOTS=$(CURDIR)/capstone/dashboard_project/screenshots \
	  $(PYTEST) -q capstone/tests/test_dashboard_browser.py

dbt-manifest: setup ## parse the dbt project into the manifest the risk DAG renders from (only when stale)
	$(PY) -m capstone.risk_model_pipeline.dbt_manifest

# Airflow parses the capstone's DAG too, and cosmos renders it from the dbt manifest: make it first
airflow-up: dbt-manifest
