"""The credit-risk dashboard: ``streamlit run capstone/dashboard_project/app.py``.

Serves the pipeline's current serving snapshot (``capstone/serving_snapshot.py``), never the
warehouse. ``make dashboard`` starts it on 127.0.0.1 at the settings' ``dashboard_port``;
``make run`` builds a snapshot first. Every page reads through ``queries.py``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from capstone.dashboard_project import queries, ui

# not "pages": Streamlit treats a pages/ folder beside the entry point as legacy pages until a
# run has called st.navigation, so a page URL as the first request after the start ran that
# file alone, without this script (seen: "no serving snapshot" on /monitoring)
VIEWS_DIR = Path(__file__).parent / "views"

st.set_page_config(page_title="Loan book credit risk", page_icon=":bar_chart:", layout="wide")

pages = [
    st.Page(
        VIEWS_DIR / "portfolio.py",
        title="Portfolio",
        icon=":material/account_balance:",
        default=True,
    ),
    st.Page(
        VIEWS_DIR / "risk_distribution.py", title="Risk distribution", icon=":material/bar_chart:"
    ),
    st.Page(VIEWS_DIR / "segments.py", title="Segments", icon=":material/pie_chart:"),
    st.Page(VIEWS_DIR / "model.py", title="Model", icon=":material/model_training:"),
    st.Page(VIEWS_DIR / "whatif.py", title="Applicant what-if", icon=":material/person_search:"),
    st.Page(VIEWS_DIR / "monitoring.py", title="Monitoring", icon=":material/monitor_heart:"),
    st.Page(
        VIEWS_DIR / "data_quality.py",
        title="Data quality and freshness",
        icon=":material/fact_check:",
    ),
]
page = st.navigation(pages)

state = queries.serving_state(ui.settings())
ui.publish_state(state)
if state.run_in_progress is not None:
    marker = state.run_in_progress
    shown = (
        f"from {state.snapshot.manifest['logical_date']} (run {state.snapshot.manifest['run_id']})"
        if state.snapshot
        else "none yet"
    )
    st.info(
        f"A pipeline run is under way (run {marker.get('run_id')}, started "
        f"{marker.get('started_at') or 'at an unknown time'}): showing the last good snapshot, "
        f"{shown}. The new one appears when the run publishes it.",
        icon=":material/sync:",
    )
if state.snapshot is None:
    st.title("Loan book credit risk")
    st.error(state.problem, icon=":material/error:")
    st.markdown(
        "The dashboard reads the risk pipeline's serving snapshot. Build one with "
        "`make run` (the whole path: object store, Airflow, both DAGs), then reload this page."
    )
    st.stop()

with st.sidebar:
    manifest = state.snapshot.manifest
    st.caption(
        f"Snapshot of {manifest['logical_date']}, model {manifest['model_name']} "
        f"v{manifest['model_version']}"
    )
page.run()
