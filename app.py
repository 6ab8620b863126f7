"""Streamlit entry point: ``streamlit run app.py``. Pages live in ``quiz/ui/``."""
import streamlit as st

from quiz.ui import dashboard, library, review

st.set_page_config(page_title="Case-based differential diagnosis", page_icon="🩺", layout="wide")

pages = [
    st.Page(library.render, title="Cases", icon="📚", url_path="cases", default=True),
    st.Page(review.render, title="Review", icon="🔁", url_path="review"),
    st.Page(dashboard.render, title="My progress", icon="📈", url_path="progress"),
]
st.navigation(pages).run()
