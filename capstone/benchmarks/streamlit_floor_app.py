"""The bare Streamlit page the dashboard benchmark measures beside the dashboard, served the
same way: a title and one metric. Its first render is what Streamlit itself costs on this
machine (its JavaScript bundle, the websocket, one script run), before any page of ours.

With ``?pick=1`` in the URL the page also shows one multiselect (a widget loads code of its own,
so the first-render floor goes without it): a pick, until the metric shows the new count, is
what one rerun costs, the floor of an interaction."""

import streamlit as st

st.set_page_config(page_title="Streamlit floor", layout="wide")
st.title("Streamlit floor")
picked = (
    st.multiselect("Grade", list("ABCDEFG"), placeholder="all grades")
    if "pick" in st.query_params
    else []
)
st.metric("Grades picked", len(picked))
