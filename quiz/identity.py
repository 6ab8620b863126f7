"""Who a learner is: a random secret kept by their browser, never the name they type.

A learner's record is found by the SHA-256 of their key (only the hash is stored), so knowing a
display name, or reading the database, gives no way into anyone's progress. The display name is a
label only: cleaned of look-alike tricks (invisible and bidi-control characters, compatibility
forms) so that what one learner sees is what was typed, and never used to find a record.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from urllib.parse import parse_qs, urlsplit

#: Longest display name kept, in characters (the sidebar box allows the same).
MAX_NAME = 40
#: Characters Unicode puts in no category of its own but that change nothing visible or that reorder
#: text: zero-width spaces and joiners, the byte-order mark, bidi overrides and isolates (category
#: Cf), plus the few invisible ones outside Cf.
_INVISIBLE_EXTRA = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u034f", "\u180e"}
#: A browser key as :func:`new_key` makes it (URL-safe base64), with room for longer ones.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,128}")
#: Where a key travels in a "continue on another device" link: ``/?resume=KEY``.
RESUME_PARAM = "resume"


class IdentityError(ValueError):
    """A pasted key or link that cannot be a learner's key; the message says what to do."""


def new_key() -> str:
    """A new learner key: 256 random bits, URL-safe, made on a browser's first visit."""
    return secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """What the database keeps of a key (hex SHA-256): enough to find the record, useless to open it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _shown(char: str) -> str:
    """A space for any space, nothing for an invisible, control, private-use or unpaired character."""
    if char.isspace():
        return " "
    if unicodedata.category(char) in ("Cf", "Cc", "Co", "Cs", "Cn") or char in _INVISIBLE_EXTRA:
        return ""
    return char


def display_label(name: str | None) -> str:
    """A display name as it is shown: NFKC, invisible and bidi-control characters removed, spaces
    collapsed, at most :data:`MAX_NAME` characters. Case is kept ("Ana" stays "Ana")."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(_shown(ch) for ch in text)
    text = " ".join(text.split())  # every run of whitespace (tabs, newlines, NBSP) one space
    return text[:MAX_NAME].strip()


def normalise_name(name: str | None) -> str:
    """A display name for comparison: :func:`display_label`, case-folded. "Alice", "ALICE",
    "Alice\\u200b" and "Ａｌｉｃｅ" are one label. Labels are not unique and never find a record."""
    return display_label(name).casefold()


def parse_key(text: str | None) -> str:
    """The key in what a learner pasted: the key itself, or a whole ``…?resume=KEY`` link."""
    pasted = (text or "").strip()
    if not pasted:
        raise IdentityError("Paste the code or the whole link from “Continue on another device”.")
    if "?" in pasted or "/" in pasted or "=" in pasted:
        values = parse_qs(urlsplit(pasted).query).get(RESUME_PARAM) or parse_qs(pasted.lstrip("?")).get(RESUME_PARAM)
        if not values:
            raise IdentityError("This link has no resume code in it. Copy the link again from “Continue on "
                                "another device” on the My progress page.")
        pasted = values[0].strip()
    if not _KEY_PATTERN.fullmatch(pasted):
        raise IdentityError("This is not a resume code: it should be 43 letters, digits, “-” or “_”. "
                            "Copy it again, whole.")
    return pasted


def is_browser_key(text: str | None) -> bool:
    """Whether ``text`` has the form of a browser key (a cookie value, a ``?resume=`` value)."""
    return bool(text) and _KEY_PATTERN.fullmatch(text) is not None
