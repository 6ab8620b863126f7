"""Test learners: a fixed browser key per name, as the app's cookie would hold it (no Streamlit here)."""
from __future__ import annotations

import base64
import hashlib

from quiz import store


def learner_key(name: str) -> str:
    """The browser key a test gives the learner it calls ``name``: fixed per name, of a real key's form.
    The name is only the test's handle; the app never sees it."""
    digest = hashlib.sha256(f"test learner {name}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def learner_of(db: store.Store, name: str) -> int:
    """The stored id of the test learner ``name``, created if new."""
    return db.learner_for_key(learner_key(name), create=True)
