"""Applicant what-if: the champion's PD, band and expected loss for one applicant, and why.

The form's fields are the champion's own inputs (its scoring spec says their types, categories
and valid ranges), and scoring goes through the pipeline's ``ScoringSpec``: the dashboard never
scores with a formula of its own. A field that does not parse or lies outside the training
range is refused with a message right under it; nothing is scored until every field is valid.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from capstone.dashboard_project import queries, ui

st.title("Applicant what-if")
settings = ui.settings()
fields = ui.query("whatif_fields")
model = ui.query("champion_lineage")
st.caption(
    f"Scored by the champion ({model.get('model', 'unknown')} v{model.get('version', '?')}). "
    "Leave a number blank to use the training median. The loan is assumed fully drawn: "
    "EAD = loan amount."
)

slots: dict[str, object] = {}
raw: dict[str, object] = {}
typed = [f for f in fields if not f["derived"]]
derived = [f for f in fields if f["derived"]]
with st.form("whatif_form"):
    columns = st.columns(3)
    for i, field in enumerate(typed):
        cell = columns[i % 3]
        name = field["name"]
        label = name.replace("_", " ")
        if field["type"] == "category":
            raw[name] = cell.selectbox(label, field["categories"], key=f"whatif_{name}")
        else:
            raw[name] = cell.text_input(
                label,
                value=queries.format_number(field["default"], field["integer"]),
                key=f"whatif_{name}",
                help=f"valid range {queries.format_number(field['min'], field['integer'])} to "
                f"{queries.format_number(field['max'], field['integer'])}",
            )
        slots[name] = cell.empty()  # the field's error, if any, appears right below it
    if derived:
        st.caption(
            "Derived from the inputs above (as the feature mart derives them), updated when the "
            "applicant is scored:"
        )
        # the values the inputs above held when this run started (the submitted ones)
        shown, _ = queries.parse_applicant(fields, raw)
        columns = st.columns(3)
        for i, field in enumerate(derived):
            cell = columns[i % 3]
            name = field["name"]
            value = shown.get(name)
            cell.text_input(
                name.replace("_", " "),
                value="" if value is None else queries.format_number(value, False),
                placeholder="from the training median",
                disabled=True,
                help=f"from {', '.join(queries.DERIVED_INPUTS[name]).replace('_', ' ')}",
            )
            slots[name] = cell.empty()
    submitted = st.form_submit_button("Score applicant", type="primary")

if submitted:
    record, errors = queries.parse_applicant(fields, raw)
    for name, message in errors.items():
        slots[name].error(message, icon=":material/error:")
    if errors:
        st.error(f"{len(errors)} field(s) need a valid value before the applicant can be scored.")
    else:
        result = ui.query(
            "score_applicant",
            tuple(sorted(record.items())),
            settings.lgd,
            settings.pd_review_from,
            settings.pd_decline_from,
        )
        cols = st.columns(3)
        cols[0].metric("Probability of default", ui.pct(result["pd"]))
        cols[1].metric("Decision band", result["band"].capitalize())
        cols[2].metric("Expected loss", ui.money(result["expected_loss"]))
        st.subheader("Why")
        reasons = pd.DataFrame(result["reasons"])
        if reasons.empty:
            st.write("No input raises this applicant's risk above the average training loan.")
        else:
            what = (
                "contribution to the log-odds against the average training loan"
                if result["algorithm"] == "logistic"
                else "rise in PD at this split of the decision path"
            )
            st.altair_chart(
                alt.Chart(reasons, title=f"Top reasons ({what})")
                .mark_bar(color="#c62828")
                .encode(
                    x=alt.X("contribution:Q", title=what),
                    y=alt.Y("reason:N", sort="-x", title=None, axis=ui.every_label()),
                    tooltip=["reason", alt.Tooltip("contribution:Q", format=".4f")],
                )
                .properties(height=alt.Step(ui.BAR_STEP)),
                width="stretch",
            )
            st.dataframe(reasons, hide_index=True)
