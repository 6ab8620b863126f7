"""Matching evidence quotes against a report's extracted text.

Text pulled from PDFs breaks lines and words where the page did, swaps '-' for
non-breaking hyphens and leaves markdown marks behind; quotes are compared
after normalising both sides the same way, and case is kept.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u00ad": "", "\u00a0": " ", "\u2009": " "})
_TAGS = re.compile(r"</?[a-zA-Z][^>]*>")
_MARKS = re.compile(r"[*_`#]|\\(?=[_\\*])")
_WORD_HYPHEN = re.compile(r"(?<=[A-Za-z])- ?(?=[A-Za-z])")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Fold the layout noise of extracted text so a quote can be found in it."""
    text = text.translate(_HYPHENS)
    text = _TAGS.sub("", text)
    text = _MARKS.sub("", text)
    text = _SPACE.sub(" ", text)
    # "reli- able" (a word broken at a line end) and "single-fraction" (a compound
    # broken at its hyphen) cannot be told apart, so hyphens between letters are dropped.
    text = _WORD_HYPHEN.sub("", text)
    return text.strip()


@lru_cache(maxsize=64)
def _source_text(path: str, mtime_ns: int) -> str:
    return normalise(Path(path).read_text(encoding="utf-8", errors="replace"))


def source_text(path: Path) -> str:
    """The normalised text of a source report, cached until the file changes."""
    return _source_text(str(path), path.stat().st_mtime_ns)


def quote_found(quote: str, normalised_source: str) -> bool:
    return normalise(quote) in normalised_source
