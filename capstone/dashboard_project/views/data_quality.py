"""Data quality and freshness: DAG runs, row reconciliation, dbt tests, the snapshot's age."""

from __future__ import annotations

import streamlit as st

from capstone.dashboard_project import queries, ui

st.title("Data quality and freshness")
facts = queries.snapshot_facts(ui.folder())  # not cached: the age changes every second
cols = st.columns(4)
cols[0].metric("Snapshot age", queries.describe_age(facts["age_seconds"]))
cols[1].metric("Logical date", str(facts["logical_date"]))
cols[2].metric("Model", f"{facts['model_name']} v{facts['model_version']}")
cols[3].metric("Loans in the snapshot", ui.count(facts["rows"].get("loans", 0)))
st.caption(f"Snapshot {facts['snapshot_id']}, published {facts['created_at']:%Y-%m-%d %H:%M:%S %Z}")

st.subheader("Last DAG runs")
runs = ui.query("dag_runs")
if runs.empty:
    st.info("No DAG run recorded in this snapshot.")
else:
    ui.static_table(runs)

st.subheader("Row counts from raw CSV to Parquet to marts")
recon = ui.query("reconciliation")
broken = recon[~recon["reconciles"]]
if broken.empty:
    which = "The table reconciles" if len(recon) == 1 else f"All {len(recon)} tables reconcile"
    st.success(f"{which}: raw rows = Parquet rows + rejects + duplicates removed.")
else:
    st.error(f"{len(broken)} table(s) do not reconcile: {', '.join(broken['table_name'])}")
ui.static_table(recon)

st.subheader("dbt tests of the last build")
counts = ui.query("dbt_test_counts")
cols = st.columns(max(len(counts), 1))
for cell, (status, n) in zip(cols, sorted(counts.items()), strict=False):
    cell.metric(f"Tests {status}", ui.count(n))
ui.static_table(ui.query("dbt_tests"))
