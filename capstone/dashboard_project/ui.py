"""What every page shares: the settings, the snapshot being served, cached queries, formats.

The only module of the dashboard that caches: ``query`` wraps any function of ``queries`` in
``st.cache_data`` with a TTL, keyed on the snapshot folder. Published folders never change,
so a new snapshot is a new key and the TTL only bounds memory; the snapshot itself is resolved
again on every rerun (a symlink and a small manifest), so a new publication shows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from capstone.dashboard_project import queries
from Module_1_Foundations.common.settings import Settings, load_settings

CACHE_TTL_SECONDS = 300
SERVING_KEY = "_serving_folder"
BAND_COLOURS = {"approve": "#2e7d32", "review": "#f9a825", "decline": "#c62828"}
PSI_COLOURS = {"stable": "#2e7d32", "watch": "#f9a825", "shift": "#c62828"}
#: How tables show the query layer's money and rate columns: (label, number format).
COLUMN_FORMATS = {
    "exposure": ("exposure", "dollar"),
    "expected_loss": ("expected loss", "dollar"),
    "mean_pd": ("mean PD", "percent"),
    "default_rate": ("default rate", "percent"),
    "mean_true_pd": ("mean true PD", "percent"),
    "share_of_from_band": ("share of from band", "percent"),
}


def settings() -> Settings:
    """Read per rerun (cheap), so a changed environment needs no restart of the server."""
    return load_settings()


def publish_state(state: queries.ServingState) -> None:
    """app.py records which snapshot this rerun serves; the pages read it with ``folder()``."""
    st.session_state[SERVING_KEY] = str(state.snapshot.folder) if state.snapshot else None


def folder() -> str:
    value = st.session_state.get(SERVING_KEY)
    if not value:  # app.py stops before running a page when there is no snapshot
        st.error("no serving snapshot: run 'make run'")
        st.stop()
    return value


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _cached(name: str, snapshot_folder: str, args: tuple, kwargs: tuple) -> Any:
    return getattr(queries, name)(snapshot_folder, *args, **dict(kwargs))


def query(name: str, *args: Any, **kwargs: Any) -> Any:
    """``queries.<name>(current snapshot, *args, **kwargs)``, cached."""
    return _cached(name, folder(), tuple(args), tuple(sorted(kwargs.items())))


def money(value: float) -> str:
    if abs(value) >= 1e9:
        return f"${value / 1e9:,.2f} bn"
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.2f} M"
    return f"${value:,.0f}"


def pct(value: float, digits: int = 2) -> str:
    return f"{value * 100:.{digits}f} %"


def count(value: float) -> str:
    return f"{int(value):,}"


def every_label() -> alt.Axis:
    """A category axis naming every bar in full (Vega culls overlapping labels and truncates
    long ones by default): use with a fixed step per bar, ``height=alt.Step(BAR_STEP)``."""
    return alt.Axis(labelOverlap=False, labelLimit=0)


BAR_STEP = 24


def table(frame: pd.DataFrame, where: Any = st) -> None:
    """A query result as a table, its money and rate columns formatted (``COLUMN_FORMATS``)."""
    where.dataframe(
        frame,
        hide_index=True,
        column_config={
            column: st.column_config.NumberColumn(label, format=fmt)
            for column, (label, fmt) in COLUMN_FORMATS.items()
            if column in frame.columns
        },
    )


#: Rows a table shows before it scrolls (the dbt test list of a full build runs to a hundred).
VISIBLE_ROWS = 15
#: Pixels a row of ``st.table`` takes, and its header (for the scrolling height).
ROW_PX, HEADER_PX = 35, 38


def static_table(frame: pd.DataFrame, where: Any = st) -> None:
    """A small table as plain HTML (``st.table``), scrolling past :data:`VISIBLE_ROWS` rows.

    Not ``st.dataframe``: its grid is a chunk of JavaScript of its own, and loading it cost the
    Data quality page 0.3 s of its first render in a fresh browser (2.01 s against 1.70 s).
    """
    height = "content" if len(frame) <= VISIBLE_ROWS else HEADER_PX + VISIBLE_ROWS * ROW_PX
    # st.table prints a float with four decimals (a run's "60.0000" seconds), and a Styler
    # prints a timestamp with its microseconds: say how each is shown
    shown = {c: "{:%Y-%m-%d %H:%M:%S %Z}" for c in frame.select_dtypes(["datetime", "datetimetz"])}
    shown |= {c: "{:,.2f}" for c in frame.select_dtypes("floating")}
    shown |= {c: count for c in frame.select_dtypes("integer")}  # as the metrics show counts
    where.table(frame.style.format(shown, na_rep=""), hide_index=True, height=height)


def charts_and_table(
    charts: Sequence[alt.TopLevelMixin], frame: pd.DataFrame, widths: Sequence[int] | None = None
) -> None:
    """The pages' common block: charts side by side (``widths`` their shares), then the table
    of the numbers they draw."""
    cells = st.columns(list(widths) if widths else len(charts))
    for cell, chart in zip(cells, charts, strict=False):
        cell.altair_chart(chart, width="stretch")
    table(frame)
