"""Monitoring: PSI of the score and each feature between runs; predicted vs observed by vintage."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from capstone.dashboard_project import queries, ui

st.title("Monitoring")
st.caption(
    f"Population stability index against the previous run: below {queries.PSI_WATCH} stable, "
    f"below {queries.PSI_SHIFT} watch, from {queries.PSI_SHIFT} a shift worth a look."
)
psi = ui.query("psi_table")
if psi.empty:
    st.info("No previous run to compare with yet.")
else:
    score = psi[psi["variable"] == "score"]
    shifted = int((psi["band"] == "shift").sum())
    cols = st.columns(3)
    if not score.empty:
        cols[0].metric(
            "PSI of the score",
            f"{score['psi'].iloc[0]:.4f}",
            score["band"].iloc[0],
            delta_color="off",
        )
    cols[1].metric("Variables watched", ui.count((psi["band"] == "watch").sum()))
    cols[2].metric("Variables shifted", ui.count(shifted))
    bands = pd.DataFrame({"psi": [queries.PSI_WATCH, queries.PSI_SHIFT]})
    bars = (
        alt.Chart(psi, title="PSI by variable")
        .mark_bar()
        .encode(
            x=alt.X("psi:Q", title="PSI"),
            y=alt.Y("variable:N", sort="-x", title=None, axis=ui.every_label()),
            color=alt.Color(
                "band:N",
                scale=alt.Scale(domain=list(ui.PSI_COLOURS), range=list(ui.PSI_COLOURS.values())),
            ),
            tooltip=["variable", alt.Tooltip("psi:Q", format=".4f"), "band"],
        )
    )
    rules = alt.Chart(bands).mark_rule(strokeDash=[4, 4]).encode(x="psi:Q")
    ui.charts_and_table([(bars + rules).properties(height=alt.Step(ui.BAR_STEP))], psi)

st.subheader("Predicted versus observed default rate by vintage")
vintages = ui.query("predicted_vs_observed")
long = vintages.melt(
    id_vars=["vintage", "loans"],
    value_vars=["mean_pd", "observed_rate", "mean_true_pd"],
    var_name="measure",
    value_name="rate",
)
long["measure"] = long["measure"].map(
    {"mean_pd": "predicted PD", "observed_rate": "observed so far", "mean_true_pd": "true PD"}
)
st.altair_chart(
    alt.Chart(long)
    .mark_line(point=True)
    .encode(
        x=alt.X("vintage:T", title="Issue month"),
        y=alt.Y("rate:Q", title="Rate", axis=alt.Axis(format="%")),
        color=alt.Color("measure:N", legend=alt.Legend(orient="bottom", title=None)),
        tooltip=["vintage:T", "measure", alt.Tooltip("rate:Q", format=".2%"), "loans"],
    )
    .properties(height=320),
    width="stretch",
)
st.caption(
    "Young vintages sit below their PD: a lifetime PD is reached only as the loans age "
    "(see the vintage curves on the Segments page)."
)
