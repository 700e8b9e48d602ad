"""The bare Streamlit page the dashboard benchmark measures beside the dashboard: a title, one
multiselect and one metric, served the same way. Its first render is what Streamlit itself costs
on this machine (its JavaScript bundle, the websocket, one script run), before any page of ours;
a pick in the multiselect, until the metric shows the new count, is what one rerun costs."""

import streamlit as st

st.set_page_config(page_title="Streamlit floor", layout="wide")
st.title("Streamlit floor")
picked = st.multiselect("Grade", list("ABCDEFG"), placeholder="all grades")
st.metric("Grades picked", len(picked))
