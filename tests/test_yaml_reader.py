"""The safe YAML reader: plain data only, every value located, every hostile trick refused."""
from __future__ import annotations

import time

import pytest
import yaml

from quiz.content import yaml_reader
from quiz.content.yaml_reader import MAX_BYTES, MAX_DEPTH, MAX_NODES, YamlProblem, decode, read


@pytest.fixture(params=["libyaml", "python"], autouse=True)
def parser(request, monkeypatch):
    """Run every test with the C parser (when PyYAML has it) and with the pure-Python fallback."""
    if request.param == "libyaml":
        if not yaml.__with_libyaml__:
            pytest.skip("PyYAML is built without libyaml")
        monkeypatch.setattr(yaml_reader, "_Loader", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(yaml_reader, "_Loader", yaml.SafeLoader)
    return request.param


def problem(text: str) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        read(text)
    assert "\n" not in info.value.message
    return info.value


# --- plain data --------------------------------------------------------------

def test_plain_values():
    data = read(
        "text: A lump\nint: 12\nfloat: 1.5\nyes_no: true\nfalsy: false\nnothing: ~\nempty:\n"
        "quoted: 'no'\ndouble: \"on\"\nclock: 10:30\ndate: 2020-01-02\nhex: 0x1F\n"
        "block: |\n  two\n  lines\nfolded: >-\n  one\n  line\n"
    ).data
    assert data == {
        "text": "A lump", "int": 12, "float": 1.5, "yes_no": True, "falsy": False, "nothing": None, "empty": None,
        "quoted": "no", "double": "on", "clock": "10:30", "date": "2020-01-02", "hex": 31,
        "block": "two\nlines\n", "folded": "one line",
    }
    assert type(data["int"]) is int and type(data["text"]) is str


@pytest.mark.parametrize("text", ["0x_", "0b_", "._", "0o17", "+.5e+3", "1e5", "1_000_"])
def test_number_lookalikes_that_are_not_numbers_stay_text(text):
    value = read(f"a: {text}").data["a"]
    assert value == text or isinstance(value, (int, float))


def test_explicit_core_tags():
    assert read("a: !!str 12\nb: !!int 7\nc: ! 12\nd: !!float 2\n").data == {"a": "12", "b": 7, "c": "12", "d": 2.0}
    assert read("a: !!map {b: !!seq [1]}").data == {"a": {"b": [1]}}
    found = problem("a: !!int abc")
    assert (found.line, found.column) == (1, 4) and "'abc' is not a valid integer" in found.message
    assert "not a valid number" in problem("a: !!float abc").message


def test_plain_scalar_memo_does_not_change_results():
    first = read("a: 12\nb: null\nc: yes_text\n").data
    again = read("a: 12\nb: null\nc: yes_text\n").data
    assert first == again == {"a": 12, "b": None, "c": "yes_text"}
    assert problem("a: yes").line == 1 and problem("a: yes").line == 1  # a refused text is never memoised


def test_aliases_within_limits_are_expanded():
    assert read("a: &x [1, 2]\nb: *x\nc: &s text\nd: *s\n").data == {"a": [1, 2], "b": [1, 2], "c": "text", "d": "text"}


def test_a_top_level_scalar_or_list_is_data_the_loader_refuses():
    assert read("just text").data == "just text"
    assert read("- a\n- b").data == ["a", "b"]


# --- positions ---------------------------------------------------------------

DOC = """\
# a comment
title: A lump
stages:
  - id: one
    kind: presentation
  - id: two
    tags: [x, y]
"""


def test_positions_of_values_and_keys():
    document = read(DOC)
    assert document.positions[()] == (2, 1)
    assert document.positions[("title",)] == (2, 8)
    assert document.key_positions[("title",)] == (2, 1)
    assert document.positions[("stages",)] == (4, 3)
    assert document.positions[("stages", 0)] == (4, 5)
    assert document.positions[("stages", 0, "id")] == (4, 9)
    assert document.key_positions[("stages", 0, "kind")] == (5, 5)
    assert document.positions[("stages", 1, "tags", 1)] == (7, 15)


def test_position_falls_back_to_the_nearest_ancestor():
    document = read(DOC)
    assert document.position(("stages", 1, "missing")) == (6, 5)
    assert document.position(("stages", 1, "missing"), key=True) == (6, 5)
    assert document.position(("stages", 0, "kind"), key=True) == (5, 5)
    assert document.position(("nothing", "at", "all")) == (2, 1)
    assert yaml_reader.Document(None).position(("x",)) == (1, 1)


# --- decoding ------------------------------------------------------------------

def test_decode_strips_a_byte_order_mark():
    assert decode("\ufeffa: 1".encode()) == "a: 1"


def test_decode_names_the_line_and_column_of_a_bad_byte():
    with pytest.raises(YamlProblem) as info:
        decode("a: 1\nbé: ok\nc: caf".encode() + b"\xe9\n")
    assert (info.value.line, info.value.column) == (3, 7)
    assert "byte 0xe9" in info.value.message


def test_decode_size_limit():
    assert decode(b"a: " + b"x" * (MAX_BYTES - 3)).startswith("a: x")
    with pytest.raises(YamlProblem, match="larger than the limit of 1,048,576 bytes") as info:
        decode(b"a: " + b"x" * (MAX_BYTES - 2))
    assert (info.value.line, info.value.column) == (1, 1)


@pytest.mark.parametrize("raw", [b"", b"   \n\n", b"# only\n  # comments\n", b"\xef\xbb\xbf"])
def test_decode_refuses_an_empty_file(raw):
    with pytest.raises(YamlProblem, match="file is empty"):
        decode(raw)


@pytest.mark.parametrize("text", ["---\n", "~", "null", "--- \n...\n"])
def test_read_refuses_a_document_with_no_content(text):
    assert "file is empty" in problem(text).message


# --- refused ---------------------------------------------------------------------

def test_nesting_limit():
    read("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    found = problem("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert f"nesting deeper than {MAX_DEPTH} levels" in found.message
    assert (found.line, found.column) == (1, 3 + MAX_DEPTH)


def test_billion_laughs_is_stopped_early():
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    found = problem("\n".join(lines))
    assert time.perf_counter() - start < 2
    assert f"more than {MAX_NODES:,} values" in found.message
    assert found.line == 5  # e: 10 * 10,000 values, the first line past the limit


def test_node_count_is_the_expanded_size_not_counted_once_per_level(monkeypatch):
    """A file without aliases is fine as long as it holds at most MAX_NODES values, however deep."""
    limit = 2_000  # scaled down from MAX_NODES to keep the pure-Python parser quick
    monkeypatch.setattr(yaml_reader, "MAX_NODES", limit)
    nested = "items:\n" + "".join(f"  - {{a: {i}, b: x}}\n" for i in range(250))  # 1,752 values, depth 3
    assert len(read(nested).data["items"]) == 250
    assert len(read("- 1\n" * (limit - 1)).data) == limit - 1  # + the list itself = the limit
    assert f"more than {limit:,} values" in problem("- 1\n" * limit).message


def test_recursive_alias():
    found = problem("a: &loop\n  - *loop\n")
    assert (found.line, found.column) == (2, 5) and "alias *loop" in found.message


def test_undefined_alias():
    assert "alias *nope" in problem("a: *nope").message


@pytest.mark.parametrize("text", ["1: a", "null: a", "true: a", "1.5: a", "[a]: b", "{a: 1}: b", "? [a]\n: b"])
def test_keys_must_be_plain_text(text):
    assert "keys must be plain text" in problem(text).message


def test_duplicate_keys():
    found = problem("a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n")
    assert (found.line, found.column) == (5, 3)
    assert "duplicate key 'c' (first at line 3)" in found.message
    assert problem("a: 1\na: 2").line == 2


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['echo hi']",
    "a: !!python/name:os.system",
    "a: !!binary aGk=",
    "a: !custom x",
    "a: !!set {x}",
    "a: !!omap [x: 1]",
    "a: !!timestamp 2020-01-01",
])
def test_tags_other_than_the_core_ones_are_refused(text):
    found = problem(text)
    assert "is not allowed" in found.message and (found.line, found.column) == (1, 4)


def test_merge_keys_are_refused():
    found = problem("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert (found.line, found.column) == (3, 3) and "merge keys" in found.message


@pytest.mark.parametrize("word", ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"])
def test_yaml11_booleans_are_refused(word):
    found = problem(f"a: fine\nb: {word}\n")
    assert (found.line, found.column) == (2, 4)
    assert f"unquoted {word!r} is read as a yes/no value by YAML 1.1" in found.message
    assert read(f"b: '{word}'").data == {"b": word}
    assert problem(f"{word}: x").line == 1  # as a key too


def test_multiple_documents():
    found = problem("a: 1\n---\nb: 2\n")
    assert (found.line, found.column) == (2, 1) and "more than one YAML document" in found.message
    assert read("---\na: 1\n...\n").data == {"a": 1}


def test_syntax_errors_are_located_on_one_line():
    found = problem("a: b\n  c: d\n")
    assert (found.line, found.column) == (2, 4)
    assert found.message.startswith("YAML syntax: mapping values are not allowed")
    assert problem('a: "unclosed\n').message.startswith("YAML syntax:")


def test_control_characters_are_located_after_multibyte_text():
    found = problem("é: é\nb: bell \x07 here\n")
    assert (found.line, found.column) == (2, 9)
    assert "unacceptable character #x0007" in found.message
