"""Portfolio: exposure, live loans, default rate and expected loss now, and by month."""

from __future__ import annotations

import altair as alt
import streamlit as st

from capstone.dashboard_project import ui

st.title("Portfolio")


# a fragment: a filter change reruns the figures alone, not the page (nor the app's shell)
@st.fragment
def figures() -> None:
    options = ui.query("filter_options")
    left, middle, right = st.columns([2, 1, 1])
    span = left.date_input(
        "Months",
        value=(options["first_month"], options["last_month"]),
        min_value=options["first_month"],
        max_value=options["last_month"],
        key="portfolio_months",
        help="Issue months for the headline figures; month ends for the trends.",
    )
    grades = middle.multiselect(
        "Grade", options["grades"], key="portfolio_grades", placeholder="all grades"
    )
    regions = right.multiselect(
        "Region", options["regions"], key="portfolio_regions", placeholder="all regions"
    )
    # a half-picked range (first date only) filters from that date on
    start, end = (span[0], span[1]) if len(span) == 2 else (span[0], options["last_month"])

    kpis = ui.query("portfolio_kpis", tuple(grades), tuple(regions), start, end)
    lgd = ui.settings().lgd
    cols = st.columns(4)
    cols[0].metric("Exposure (EAD of live loans)", ui.money(kpis["exposure"]))
    cols[1].metric("Live loans", ui.count(kpis["live_loans"]))
    cols[2].metric("Default rate (observed)", ui.pct(kpis["default_rate"]))
    cols[3].metric("Expected loss (PD x LGD x EAD)", ui.money(kpis["expected_loss"]))
    st.caption(
        f"{ui.count(kpis['loans'])} loans issued in the selection; EL uses LGD {lgd:.0%} "
        f"(setting HDP_LGD) and the champion's PD; "
        f"exposure-weighted mean PD {ui.pct(kpis['mean_pd'])}."
    )

    trend = ui.query("portfolio_trend", tuple(grades), tuple(regions), start, end)
    if trend.empty:
        st.warning("No month in the selection: widen the months or clear a filter.")
    else:
        charts = (
            ("exposure", "Exposure ($)", "$,.3s"),
            ("live_loans", "Live loans", ",d"),
            ("default_rate", "Cumulative default rate", ".2%"),
            ("expected_loss", "Expected loss ($)", "$,.3s"),
        )
        rows = [st.columns(2), st.columns(2)]
        for (column, title, fmt), cell in zip(charts, [c for r in rows for c in r], strict=True):
            chart = (
                alt.Chart(trend, title=title)
                .mark_line(point=False)
                .encode(
                    x=alt.X("month:T", title="Month end"),
                    y=alt.Y(f"{column}:Q", title=None, axis=alt.Axis(format=fmt)),
                    tooltip=[alt.Tooltip("month:T"), alt.Tooltip(f"{column}:Q", format=fmt)],
                )
                .properties(height=220)
            )
            cell.altair_chart(chart, width="stretch")


figures()
