"""What every page needs: settings, the content folder, the store and the learner's name."""
from __future__ import annotations

import streamlit as st

from .. import loader, settings
from ..loader import Content
from ..store import Store, StoreError, open_store

LEARNER_PARAM = "learner"


def content() -> Content:
    """The content folder as it is now: files are re-read only when they change."""
    config = settings.current()
    return loader.load_content(config.content_dir, sources=config.sources_dir)


def store() -> Store | None:
    """The progress store, or None after telling the user why it cannot be used."""
    try:
        return open_store(settings.current().database_url)
    except StoreError as error:
        st.error(str(error), icon="🛑")
        return None


def learner_name() -> str | None:
    """The display name progress is kept under; kept in the URL so a refresh keeps it."""
    name = st.query_params.get(LEARNER_PARAM, "").strip()
    with st.sidebar:
        typed = st.text_input("Your display name", value=name, max_chars=40, key="learner-name",
                              help="Progress is saved under this name on this server. No account needed.")
    typed = typed.strip()
    if typed != name:
        if typed:
            st.query_params[LEARNER_PARAM] = typed
        else:
            st.query_params.pop(LEARNER_PARAM, None)
    return typed or None


def content_notice(current: Content) -> None:
    """Tell authors which files failed validation, without hiding the valid cases."""
    if not current.errors:
        return
    files = sorted({p.file for p in current.errors})
    with st.expander(f"⚠️ {len(files)} content file(s) have errors and are not shown (for authors)"):
        st.caption("Fix these and the cases appear without a restart. `python -m quiz validate` prints the same list.")
        st.code("\n".join(str(p) for p in current.errors), language=None)
