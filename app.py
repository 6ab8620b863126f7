"""Streamlit entry point: ``streamlit run app.py``. Pages live in ``quiz/ui/``."""
import streamlit as st

from quiz.classroom import JOIN_PARAM
from quiz.store import StoreError
from quiz.ui import class_host, class_present, class_student, dashboard, library, review
from quiz.ui import author, exam, items, signin, streamlit_patches

streamlit_patches.install()  # once per process: a race in Streamlit's server could leave a page blank (B5)

st.set_page_config(page_title="Case-based differential diagnosis", page_icon="🩺", layout="wide")

PAGES = [  # (render, title, icon, url_path), in menu order
    (library.render, "Cases", "📚", "cases"),
    (review.render, "Review", "🔁", "review"),
    (dashboard.render, "My progress", "📈", "progress"),
    (class_student.render, "Join a class", "🙋", "class"),
    (class_host.render, "Teach a class", "🎓", class_host.URL_PATH),
    (author.render, "Author", "✍️", author.URL_PATH),
    (items.render, "Item analysis", "📊", items.URL_PATH),
]
# Opened from "Teach a class" for the projector; not in the menu (the page hides the sidebar).
PRESENTER = st.Page(class_present.render, title="Presenter view", icon="📽️", url_path=class_host.PRESENT_PATH,
                    visibility="hidden")

# ``/?join=CODE`` (the link and QR code an instructor projects) lands on the student's class page.
home = "class" if JOIN_PARAM in st.query_params else "cases"
pages = []
for render, title, icon, url_path in PAGES:
    if url_path == home:
        # Streamlit serves the default page at the root only, so the page's own path (``/cases``,
        # ``/class?join=...``) is kept by a hidden twin; the menu shows the root entry.
        pages.append(st.Page(render, title=title, icon=icon, url_path=f"{url_path}-home", default=True))
        pages.append(st.Page(render, title=title, icon=icon, url_path=url_path, visibility="hidden"))
    else:
        pages.append(st.Page(render, title=title, icon=icon, url_path=url_path))
    if url_path == "cases":
        pages.append(exam.page())  # one Page object: the study pages switch to it
page = st.navigation([*pages, PRESENTER])
signin.sidebar_control()  # only with [auth] in .streamlit/secrets.toml: sign in / sign out
try:
    page.run()
except StoreError as error:  # the database failed midway: say so in words, never as a traceback box
    st.error(str(error), icon="🛑")
