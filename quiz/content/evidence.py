"""Matching evidence quotes against a report's extracted text, and helping when one is not found.

Text pulled from PDFs breaks lines and words where the page did, swaps '-' for
non-breaking hyphens or dashes, uses curly quotes and ligatures, and leaves markdown
marks behind; quotes are compared after normalising both sides the same way, and
case is kept. When a quote is not found, :func:`explain_missing` says where the
nearest passage of the source is, where the two first differ and which look-alike
characters stand on either side, so an author can fix the quote without hunting.
"""
from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

#: Characters folded before comparing: the hyphen and dash family to '-', curly quotes to
#: straight ones, soft hyphens dropped. Everything else goes through NFKC, which turns
#: ligatures (ﬁ), non-breaking and thin spaces and full-width forms into their plain letters.
_FOLDED = {
    **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"},
    **{c: "'" for c in "\u2018\u2019\u201a\u201b\u2032"},
    **{c: '"' for c in "\u201c\u201d\u201e\u201f\u2033"},
    "\u00ad": "",
}


class _Fold(dict):
    """``str.translate`` table that folds each character once and remembers it."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = _FOLDED.get(char)
        if folded is None:
            folded = unicodedata.normalize("NFKC", char) if code > 127 else char
            folded = "".join(_FOLDED.get(c, c) for c in folded)
        self[code] = folded
        return folded


_FOLD = _Fold()
_TAGS = re.compile(r"</?[a-zA-Z][^>]*>")
_MARKS = re.compile(r"[*_`#]|\\(?=[_\\*])")
_WORD_HYPHEN = re.compile(r"(?<=[A-Za-z])- ?(?=[A-Za-z])")
_SPACE = re.compile(r"\s+")
# In this order: the regular expressions of ``normalise`` and what each match becomes.
_STEPS = ((_TAGS, ""), (_MARKS, ""), (_SPACE, " "), (_WORD_HYPHEN, ""))


def normalise(text: str) -> str:
    """Fold the layout noise of extracted text so a quote can be found in it."""
    text = text.translate(_FOLD)
    for pattern, replacement in _STEPS:
        # "reli- able" (a word broken at a line end) and "single-fraction" (a compound
        # broken at its hyphen) cannot be told apart, so hyphens between letters are dropped.
        text = pattern.sub(replacement, text)
    return text.strip()


def normalise_mapped(text: str) -> tuple[str, list[int]]:
    """:func:`normalise` that also says, for each character it returns, where it came from in ``text``."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for folded in _FOLD[ord(char)]:
            chars.append(folded)
            origin.append(index)
    folded_text = "".join(chars)
    for pattern, replacement in _STEPS:
        pieces, places, last = [], [], 0
        for match in pattern.finditer(folded_text):
            pieces.append(folded_text[last:match.start()])
            places.extend(origin[last:match.start()])
            pieces.append(replacement)
            places.extend([origin[match.start()]] * len(replacement))
            last = match.end()
        pieces.append(folded_text[last:])
        places.extend(origin[last:])
        folded_text, origin = "".join(pieces), places
    start = len(folded_text) - len(folded_text.lstrip())
    end = len(folded_text.rstrip())
    return folded_text[start:end], origin[start:end]


@lru_cache(maxsize=64)
def _source(path: str, mtime_ns: int) -> tuple[str, str, tuple[int, ...]]:
    raw = Path(path).read_text(encoding="utf-8", errors="replace")
    normalised, origin = normalise_mapped(raw)
    return raw, normalised, tuple(origin)


def source_text(path: Path) -> str:
    """The normalised text of a source report, cached until the file changes."""
    return _source(str(path), path.stat().st_mtime_ns)[1]


def quote_found(quote: str, normalised_source: str) -> bool:
    return normalise(quote) in normalised_source


#: One folder, several, or a ``os.pathsep``-separated string of folders; None for no quote checks.
Sources = str | Path | Sequence[str | Path] | None


def folders(sources: Sources) -> tuple[Path, ...]:
    """The sources folders, in search order, from None, one path, a sequence of paths, or a
    ``QUIZ_SOURCES_DIR``-style string of folders separated by ``os.pathsep``."""
    if not sources:
        return ()
    if isinstance(sources, (str, Path)):
        return tuple(Path(part) for part in str(sources).split(os.pathsep) if part)
    return tuple(path for item in sources for path in folders(item))


def find_source(name: str, sources: Sources) -> tuple[Path | None, str]:
    """The report text ``name`` in the first sources folder that has it, or None and why not.

    The name must stay inside its folder: an absolute path or ``..`` would make the quote check
    an oracle for any file on the server.
    """
    searched = folders(sources)
    for folder in searched:
        base = folder.resolve()
        target = (base / name).resolve()
        if not target.is_relative_to(base):
            return None, "must name a file inside the sources folder; quotes not checked"
        if target.is_file():
            return target, ""
    where = ", ".join(str(f) for f in searched)
    return None, f"source text {name} not found in {where}; quotes not checked"


# --- help for a quote that is not found ---------------------------------------------------

@dataclass(frozen=True)
class Nearest:
    """The passage of a source that is closest to a quote, and where the two first differ."""

    passage: str  # as it stands in the source file
    similarity: float  # 0-1, difflib's ratio over the normalised texts
    agreed: str  # the normalised text both share before the first difference
    quote_goes_on: str
    source_goes_on: str
    lookalikes: tuple[str, ...]  # e.g. 'the source has EN DASH (U+2013) in "tomography–computed"'


def _longest_found(part_of, length: int, text: str) -> int:
    """The largest k with ``part_of(k)`` in ``text`` (the property shrinks with k, so bisect)."""
    low, high = 0, length
    while low < high:
        middle = (low + high + 1) // 2
        if part_of(middle) in text:
            low = middle
        else:
            high = middle - 1
    return low


def _starts(quote: str, source: str) -> set[int]:
    """Places in ``source`` where a passage like ``quote`` may begin: its longest found prefix and
    suffix, and each long word of the quote, aligned to where that word stands in the quote."""
    starts = set()
    prefix = _longest_found(lambda k: quote[:k], len(quote), source)
    if prefix:
        starts.add(source.find(quote[:prefix]))
    suffix = _longest_found(lambda k: quote[len(quote) - k:], len(quote), source)
    if suffix:
        starts.add(source.find(quote[len(quote) - suffix:]) + suffix - len(quote))
    for word in re.finditer(r"[A-Za-z0-9]{5,}", quote):
        at = source.find(word.group())
        hits = 0
        while at != -1 and hits < 5:
            starts.add(at - word.start())
            at = source.find(word.group(), at + 1)
            hits += 1
        if len(starts) > 60:
            break
    return {max(0, s) for s in starts}


def _named(char: str) -> str:
    return f"{unicodedata.name(char, 'UNNAMED CHARACTER')} (U+{ord(char):04X})"


def _survives(char: str) -> bool:
    """True for a character that normalising leaves outside ASCII, so it must match exactly."""
    return any(ord(c) > 127 for c in _FOLD[ord(char)])


def _lookalikes(quote: str, passage: str) -> tuple[str, ...]:
    """Characters that normalising keeps (e.g. a micro sign or a multiplication sign) standing on
    one side only, named, with a few letters around them. Dashes, curly quotes, ligatures and
    special spaces are folded before comparing, so they never cause a miss and are not listed."""
    out = []
    for side, text, other in (("the source has", passage, quote), ("the quote has", quote, passage)):
        for char in dict.fromkeys(c for c in text if ord(c) > 127 and _survives(c) and c not in other):
            at = text.index(char)
            around = " ".join(text[max(0, at - 12): at + 13].split())
            out.append(f'{side} {_named(char)} in "{around}"')
    return tuple(out)


def nearest(quote: str, path: Path) -> Nearest | None:
    """The passage of the source at ``path`` closest to ``quote``, or None when nothing is close."""
    raw, source, origin = _source(str(path), path.stat().st_mtime_ns)
    wanted = normalise(quote)
    if not wanted or not source:
        return None
    best: tuple[float, int] | None = None
    for start in _starts(wanted, source):
        window = source[start:start + len(wanted)]
        matcher = difflib.SequenceMatcher(None, wanted, window, autojunk=False)
        if best is not None and matcher.quick_ratio() <= best[0]:
            continue
        ratio = matcher.ratio()
        if best is None or ratio > best[0]:
            best = (ratio, start)
    if best is None or best[0] < 0.5:
        return None
    ratio, start = best
    # align the passage's start with the quote's: a window found from the quote's end starts early
    # or late by the words the quote adds or lacks
    window = source[start:start + len(wanted)]
    blocks = [b for b in difflib.SequenceMatcher(None, wanted, window, autojunk=False).get_matching_blocks() if b.size >= 3]
    if blocks:
        start = max(0, start + blocks[0].b - blocks[0].a)
    end = min(len(source), start + len(wanted))
    # a quote with words missing or added ends elsewhere: run on to the end of the next word or two
    following = source.find(" ", min(len(source), end + max(8, len(wanted) // 10)))
    end = len(source) if following == -1 else following
    agreed = 0
    while agreed < len(wanted) and start + agreed < len(source) and wanted[agreed] == source[start + agreed]:
        agreed += 1
    if agreed < len(wanted):  # show the difference from the start of the word it falls in
        agreed = wanted.rfind(" ", 0, agreed) + 1
    passage = raw[origin[start]: origin[end - 1] + 1] if end > start else ""
    return Nearest(
        passage=" ".join(passage.split()),
        similarity=round(ratio, 2),
        agreed=wanted[:agreed],
        quote_goes_on=wanted[agreed:agreed + 30],
        source_goes_on=source[start + agreed:start + agreed + 30],
        lookalikes=_lookalikes(quote, passage),
    )


def explain_missing(quote: str, path: Path) -> str:
    """What an author needs to fix a quote that is not in the source: a first line and indented details."""
    lines = [f'quote not found in {path.name}: "{quote}"']
    found = nearest(quote, path)
    if found is None:
        lines.append("  no passage of the source is close to it: check source.text_file, or copy the words from the report")
        return "\n".join(lines)
    lines.append(f'  nearest passage ({found.similarity:.0%} alike): "{found.passage}"')
    if found.agreed:
        where = f'after "{" ".join(found.agreed.split()[-4:])}"'
    else:
        where = "at the first word"
    lines.append(f'  first difference {where}: the quote goes on "{found.quote_goes_on}", '
                 f'the source goes on "{found.source_goes_on}"')
    if found.lookalikes:
        lines.append("  look-alike characters: " + "; ".join(found.lookalikes))
    return "\n".join(lines)


def search(words: str, path: Path, *, limit: int = 5, width: int = 240) -> list[str]:
    """Passages of the source that contain ``words`` (normalised, case ignored), as they stand in the file."""
    raw, source, origin = _source(str(path), path.stat().st_mtime_ns)
    wanted = normalise(words).lower()
    if len(wanted) < 3:
        return []
    lowered = source.lower()
    out, at = [], lowered.find(wanted)
    while at != -1 and len(out) < limit:
        start = max(0, at - (width - len(wanted)) // 2)
        end = min(len(source), start + max(width, len(wanted)))
        out.append(" ".join(raw[origin[start]: origin[end - 1] + 1].split()))
        at = lowered.find(wanted, at + len(wanted))
    return out
