"""Text that came from a person (a URL, a typed code, a nickname) shown safely, and clock times.

Streamlit's alert boxes render their body as Markdown: a join code such as
``[Session moved: log in again](https://evil.example)`` taken from the URL would become a live
link in the app's own red box. :func:`plain` escapes every ASCII punctuation mark (CommonMark
allows a backslash before any of them), so no link, image, emphasis or directive can form. Bare
URLs are linked after parsing (GFM autolink literals), escapes or not, so an invisible word
joiner (U+2060) also goes after every ``:``, ``@`` and ``www``: the text looks as typed, and no
``https://``, ``www.`` or e-mail address in it is recognised.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_AUTOLINK = re.compile(r"(:|@|(?i:www)(?=\.))")
WORD_JOINER = "\u2060"


def plain(text: str) -> str:
    """``text`` as Markdown that renders as itself, with nothing a renderer would turn into a link."""
    text = _AUTOLINK.sub(lambda m: m.group(1) + WORD_JOINER, text)
    return _PUNCTUATION.sub(r"\\\1", text)


_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=\w)[*_](?!\w)|`")


def unformatted(text: str) -> str:
    """Authored Markdown as the words it renders, on one line: for places that show text as typed
    (a picker's options), where ``**45-year-old man**`` would keep its asterisks."""
    return " ".join(_EMPHASIS.sub("", text).split())


def error(message: str, icon: str = "🚫") -> None:
    st.error(plain(message), icon=icon)


def warning(message: str, icon: str | None = None) -> None:
    st.warning(plain(message), icon=icon)


def local_time(moment: datetime) -> str:
    """``HH:MM:SS`` in the viewer's time zone (from the browser), or UTC when it is unknown."""
    try:
        name = st.context.timezone
    except Exception:  # no browser context (a script run outside a session)
        name = None
    zone = timezone.utc
    if isinstance(name, str) and name:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    stamp = moment.astimezone(zone).strftime("%H:%M:%S")
    return stamp if zone is not timezone.utc else f"{stamp} UTC"
