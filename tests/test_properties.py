"""Whatever an author's editor does to a vignette, ``parse_case`` answers with located problems.

Each test mutates the valid vignette :data:`factories.MINIMAL_CASE` (delete a key,
rename a key, change a value's type, insert random text or bytes, duplicate a line,
truncate, swap lines) and checks that ``parse_case`` either accepts the result or
returns problems that each name a line (>= 1, within the file) and a field or message.
It must never raise.
"""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factories
from quiz.content import loader

CATALOGUE = factories.catalogue_entries()
TEXT = factories.minimal_case()
LINES = TEXT.splitlines(keepends=True)
KEY_LINES = [i for i, line in enumerate(LINES) if re.match(r"^\s*(?:- )?[a-z_]+:", line)]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
    st.sampled_from(["[]", "{}", "[a, b]", "{a: 1}", "~", "''", '"x"', "yes", "no", "on", "0x_", "1e400",
                     "!!int x", "!!python/name:os.system", "*anchor", "&a x", "<<: *a", "|", ">-", "-", "?", ":",
                     "TODO", "10:30", "2020-01-01", "\t", "'unclosed", '"unclosed', "[unclosed", "{a: [}", "\\x00"]),
    st.text(max_size=30),
)


def check(raw: bytes) -> None:
    parsed = loader.parse_case(raw, "thigh-lump.yaml", CATALOGUE, stem="thigh-lump")
    lines = max(1, raw.count(b"\n") + 1)
    if parsed.model is None:
        assert any(p.severity == "error" for p in parsed.problems)
    for problem in parsed.problems:
        assert 1 <= problem.line <= lines + 1, (problem, lines)
        assert problem.column >= 1
        assert problem.field or problem.message
        assert problem.message and "\n" not in problem.message
        assert problem.severity in ("error", "warning")


def text_of(lines: list[str]) -> bytes:
    return "".join(lines).encode("utf-8")


@FAST
@given(st.sampled_from(KEY_LINES))
def test_delete_a_key(index):
    lines = list(LINES)
    del lines[index]
    check(text_of(lines))


@FAST
@given(st.sampled_from(KEY_LINES), st.from_regex(r"[A-Za-z_][A-Za-z0-9_ -]{0,12}", fullmatch=True))
def test_rename_a_key(index, name):
    lines = list(LINES)
    lines[index] = re.sub(r"[a-z_]+(?=:)", name, lines[index], count=1)
    check(text_of(lines))


@FAST
@given(st.sampled_from(KEY_LINES), values)
def test_change_a_value(index, value):
    lines = list(LINES)
    head = re.match(r"^(\s*(?:- )?[a-z_]+:)", lines[index]).group(1)
    lines[index] = f"{head} {value}\n"
    check(text_of(lines))


@FAST
@given(st.integers(0, len(TEXT)), st.text(min_size=1, max_size=40))
def test_insert_random_text(position, text):
    check((TEXT[:position] + text + TEXT[position:]).encode("utf-8"))


@FAST
@given(st.integers(0, len(TEXT.encode())), st.binary(min_size=1, max_size=40))
def test_insert_random_bytes(position, data):
    raw = TEXT.encode()
    check(raw[:position] + data + raw[position:])


@FAST
@given(st.integers(0, len(LINES) - 1), st.integers(1, 3))
def test_duplicate_a_line(index, times):
    lines = list(LINES)
    lines[index:index] = [lines[index]] * times
    check(text_of(lines))


@FAST
@given(st.integers(0, len(TEXT.encode())))
def test_truncate(length):
    check(TEXT.encode()[:length])


@FAST
@given(st.integers(0, len(LINES) - 1), st.integers(0, len(LINES) - 1))
def test_swap_lines(first, second):
    lines = list(LINES)
    lines[first], lines[second] = lines[second], lines[first]
    check(text_of(lines))


@FAST
@given(st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "swap", "indent", "dedent"]),
                          st.integers(0, len(LINES) - 1), st.integers(0, len(LINES) - 1)), min_size=1, max_size=6))
def test_several_line_edits(edits):
    lines = list(LINES)
    for kind, a, b in edits:
        a, b = a % len(lines), b % len(lines)
        if kind == "delete" and len(lines) > 1:
            del lines[a]
        elif kind == "duplicate":
            lines.insert(a, lines[a])
        elif kind == "swap":
            lines[a], lines[b] = lines[b], lines[a]
        elif kind == "indent":
            lines[a] = "  " + lines[a]
        elif kind == "dedent":
            lines[a] = lines[a][2:] if lines[a].startswith("  ") else lines[a]
    check(text_of(lines))


def test_the_unmutated_vignette_is_valid():
    parsed = loader.parse_case(TEXT.encode(), "thigh-lump.yaml", CATALOGUE, stem="thigh-lump")
    assert parsed.model is not None and parsed.problems == []
