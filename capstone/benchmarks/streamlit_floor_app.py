"""The bare Streamlit page the dashboard benchmark measures beside the dashboard: a title and
one metric, served the same way. Its first render is what Streamlit itself costs on this
machine (its JavaScript bundle, the websocket, one script run), before any page of ours."""

import streamlit as st

st.set_page_config(page_title="Streamlit floor", layout="wide")
st.title("Streamlit floor")
st.metric("Loans", "1")
