"""Model: ROC, calibration, confusion matrix, scratch vs scikit-learn, lineage and versions."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from capstone.dashboard_project import ui

st.title("Model")
lineage = ui.query("champion_lineage")
models = ui.query("candidate_models")
if not models:
    st.warning("This snapshot holds no holdout predictions.")
    st.stop()
model = st.selectbox(
    "Candidate",
    models,
    key="model_candidate",
    help="The champion is listed first; the others are the run's challengers and baselines.",
)

st.subheader("Holdout metrics: from scratch versus scikit-learn")
metrics = ui.query("model_metrics")
st.dataframe(metrics, hide_index=True)

left, right = st.columns(2)
roc = ui.query("roc_points", model)
diagonal = pd.DataFrame({"fpr": [0.0, 1.0], "tpr": [0.0, 1.0]})
left.altair_chart(
    (
        alt.Chart(roc, title=f"ROC curve, {model}")
        .mark_line()
        .encode(
            x=alt.X("fpr:Q", title="False positive rate"),
            y=alt.Y("tpr:Q", title="True positive rate"),
            tooltip=["fpr", "tpr", "threshold"],
        )
        + alt.Chart(diagonal).mark_line(strokeDash=[4, 4], color="grey").encode(x="fpr", y="tpr")
    ).properties(height=320),
    width="stretch",
)
calibration = ui.query("calibration", model)
long = calibration.melt(
    id_vars=["decile", "mean_pd"],
    value_vars=["observed_rate", "mean_true_pd"],
    var_name="against",
    value_name="rate",
)
long["against"] = long["against"].map(
    {"observed_rate": "observed default rate", "mean_true_pd": "generator's true PD"}
)
top = float(max(calibration[["mean_pd", "observed_rate", "mean_true_pd"]].max().max(), 0.01))
ideal = pd.DataFrame({"mean_pd": [0.0, top], "rate": [0.0, top]})
right.altair_chart(
    (
        alt.Chart(long, title="Calibration by decile of predicted PD")
        .mark_line(point=True)
        .encode(
            x=alt.X("mean_pd:Q", title="Mean predicted PD", axis=alt.Axis(format="%")),
            y=alt.Y("rate:Q", title="Rate", axis=alt.Axis(format="%")),
            color=alt.Color("against:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=[
                "decile",
                "against",
                alt.Tooltip("mean_pd", format=".2%"),
                alt.Tooltip("rate", format=".2%"),
            ],
        )
        + alt.Chart(ideal).mark_line(strokeDash=[4, 4], color="grey").encode(x="mean_pd", y="rate")
    ).properties(height=320),
    width="stretch",
)

st.subheader("Confusion matrix")
threshold = st.slider(
    "Predict a default from PD",
    0.01,
    0.99,
    float(ui.settings().pd_decline_from),
    step=0.01,
    key="model_threshold",
)
cm = ui.query("confusion", model, threshold)
cols = st.columns(4)
cols[0].metric("True positives (defaults caught)", ui.count(cm["tp"]))
cols[1].metric("False positives (good loans flagged)", ui.count(cm["fp"]))
cols[2].metric("False negatives (defaults missed)", ui.count(cm["fn"]))
cols[3].metric("True negatives", ui.count(cm["tn"]))
flagged = cm["tp"] + cm["fp"]
defaults = cm["tp"] + cm["fn"]
st.caption(
    f"Precision {cm['tp'] / flagged:.1%}" if flagged else "Precision: no loan flagged",
)
st.caption(f"Recall {cm['tp'] / defaults:.1%}" if defaults else "Recall: no default in holdout")

st.subheader("Champion lineage")
if lineage:
    facts = {
        "version": lineage.get("version"),
        "model": lineage.get("model"),
        "aliases": lineage.get("aliases"),
        "data snapshot (lake manifest sha256)": lineage.get("lake_snapshot_id"),
        "dbt manifest sha256": lineage.get("dbt_manifest_sha256"),
        "git commit": lineage.get("git_commit"),
        "MLflow run": lineage.get("mlflow_run_id"),
        "promotion reason": lineage.get("decision_reason"),
    }
    st.table(pd.DataFrame({"": list(facts), "value": [str(v) for v in facts.values()]}))
else:
    st.info("The registry has no version in this snapshot.")
st.subheader("Version history")
st.dataframe(ui.query("model_versions"), hide_index=True)
