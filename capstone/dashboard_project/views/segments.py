"""Segments: default rate, predicted PD and EL side by side per segment; vintage curves."""

from __future__ import annotations

import altair as alt
import streamlit as st

from capstone.dashboard_project import queries, ui

st.title("Segments")


# each block a fragment: its widget reruns the block alone, not the page (nor the app's shell)
@st.fragment
def drill_down() -> None:
    dimension = st.selectbox("Drill down by", list(queries.DIMENSIONS), key="segments_dimension")
    table = ui.query("segment_table", dimension)
    st.caption(f"Segments by {dimension}: {len(table)}, {ui.count(table['loans'].sum())} loans")

    long = table.melt(
        id_vars="segment",
        value_vars=["default_rate", "mean_pd", "mean_true_pd"],
        var_name="measure",
        value_name="rate",
    )
    labels = {
        "default_rate": "observed default rate",
        "mean_pd": "mean predicted PD",
        "mean_true_pd": "mean true PD (generator)",
    }
    long["measure"] = long["measure"].map(labels)
    rates = (
        alt.Chart(long, title=f"Default rate and PD by {dimension}")
        .mark_bar()
        .encode(
            x=alt.X("segment:N", title=dimension),
            xOffset="measure:N",
            y=alt.Y("rate:Q", title=None, axis=alt.Axis(format="%")),
            color=alt.Color("measure:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["segment", "measure", alt.Tooltip("rate:Q", format=".2%")],
        )
        .properties(height=300)
    )
    losses = (
        alt.Chart(table, title=f"Expected loss by {dimension}")
        .mark_bar(color="#c62828")
        .encode(
            x=alt.X("segment:N", title=dimension),
            y=alt.Y("expected_loss:Q", title="Expected loss ($)", axis=alt.Axis(format="$,.3s")),
            tooltip=["segment", alt.Tooltip("expected_loss:Q", format="$,.0f"), "loans"],
        )
        .properties(height=300)
    )
    ui.charts_and_table([rates, losses], table)


@st.fragment
def vintage_curves() -> None:
    st.subheader("Vintage default curves")
    by = st.radio("Vintages by", ["quarter", "month"], horizontal=True, key="segments_vintage_by")
    curves = ui.query("vintage_curves", by)
    st.altair_chart(
        alt.Chart(curves)
        .mark_line()
        .encode(
            x=alt.X("months_on_book:Q", title="Months on book"),
            y=alt.Y(
                "cumulative_default_rate:Q",
                title="Cumulative default rate",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("vintage:N", title="Vintage", scale=alt.Scale(scheme="viridis")),
            tooltip=[
                "vintage",
                "months_on_book",
                "loans",
                alt.Tooltip("cumulative_default_rate:Q", format=".2%"),
            ],
        )
        .properties(height=320),
        width="stretch",
    )


drill_down()
vintage_curves()
