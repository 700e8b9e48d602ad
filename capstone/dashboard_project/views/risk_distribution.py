"""Risk distribution: PD bands, the score histogram, band migration between scoring runs."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from capstone.dashboard_project import ui

st.title("Risk distribution")
settings = ui.settings()
review, decline = settings.pd_review_from, settings.pd_decline_from
st.caption(
    f"Bands from settings: approve below PD {review:.0%}, review from {review:.0%}, decline from "
    f"{decline:.0%} (HDP_PD_REVIEW_FROM, HDP_PD_DECLINE_FROM). Live loans only."
)

bands = ui.query("band_summary")
cols = st.columns(max(len(bands), 1))
total = bands["loans"].sum()
for cell, row in zip(cols, bands.itertuples(), strict=False):
    cell.metric(
        f"{row.band.capitalize()} band",
        ui.count(row.loans),
        f"{row.loans / total:.1%} of live loans" if total else None,
        delta_color="off",
    )
ui.table(bands)


# a fragment: moving the slider redraws the histogram alone, not the page
@st.fragment
def histogram() -> None:
    bins = st.slider("Histogram bins", 10, 100, 50, step=10, key="risk_bins")
    counts = ui.query("score_histogram", review, decline, bins)
    colour = alt.Color(
        "band:N",
        scale=alt.Scale(domain=list(ui.BAND_COLOURS), range=list(ui.BAND_COLOURS.values())),
    )
    bars = (
        alt.Chart(counts, title="Predicted PD of live loans")
        .mark_bar()
        .encode(
            x=alt.X("pd_from:Q", bin="binned", title="PD", axis=alt.Axis(format="%")),
            x2="pd_to:Q",
            y=alt.Y("loans:Q", title="Loans"),
            color=colour,
            tooltip=["pd_from:Q", "pd_to:Q", "loans:Q", "band:N"],
        )
    )
    rules = (
        alt.Chart(pd.DataFrame({"pd": [review, decline]}))
        .mark_rule(strokeDash=[4, 4])
        .encode(x="pd:Q")
    )
    st.altair_chart((bars + rules).properties(height=300), width="stretch")


histogram()

st.subheader("Migration between the last two scoring runs")
migration = ui.query("band_migration")
if migration.empty:
    st.info("Only one scoring run so far: migration appears after the next run.")
else:
    order = ["approve", "review", "decline"]
    heat = (
        alt.Chart(migration)
        .mark_rect()
        .encode(
            x=alt.X("to_band:N", sort=order, title="Band now"),
            y=alt.Y("from_band:N", sort=order, title="Band in the previous run"),
            color=alt.Color("share_of_from_band:Q", title="Share", scale=alt.Scale(scheme="blues")),
            tooltip=[
                "from_band",
                "to_band",
                "loans",
                alt.Tooltip("share_of_from_band", format=".1%"),
            ],
        )
    )
    text = heat.mark_text(baseline="middle").encode(text="loans:Q", color=alt.value("black"))
    moved = migration[migration["from_band"] != migration["to_band"]]["loans"].sum()
    st.metric("Loans that changed band", ui.count(moved))
    ui.charts_and_table([(heat + text).properties(height=220)], migration)
