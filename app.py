"""Streamlit entry point: ``streamlit run app.py``. Pages live in ``quiz/ui/``."""
import streamlit as st

from quiz.classroom import JOIN_PARAM
from quiz.store import StoreError
from quiz.ui import class_host, class_student, dashboard, library, review
from quiz.ui import author, exam, items

st.set_page_config(page_title="Case-based differential diagnosis", page_icon="🩺", layout="wide")

# ``/?join=CODE`` (the link and QR code an instructor projects) lands on the student's class page.
joining = JOIN_PARAM in st.query_params
pages = [
    st.Page(library.render, title="Cases", icon="📚", url_path="cases", default=not joining),
    exam.page(),
    st.Page(review.render, title="Review", icon="🔁", url_path="review"),
    st.Page(dashboard.render, title="My progress", icon="📈", url_path="progress"),
    st.Page(class_student.render, title="Join a class", icon="🙋", url_path="class", default=joining),
    st.Page(class_host.render, title="Teach a class", icon="🎓", url_path=class_host.URL_PATH),
    st.Page(author.render, title="Author", icon="✍️", url_path=author.URL_PATH),
    st.Page(items.render, title="Item analysis", icon="📊", url_path=items.URL_PATH),
]
page = st.navigation(pages)
try:
    page.run()
except StoreError as error:  # the database failed midway: say so in words, never as a traceback box
    st.error(str(error), icon="🛑")
