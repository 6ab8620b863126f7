"""Read untrusted YAML into plain data, remembering where every value came from.

PyYAML's loaders are built for trusted files: they keep the last of two
duplicate keys, turn ``no`` into ``False`` and expand aliases without limit.
This reader drives the (C, when present) event parser itself and builds only
dicts, lists, strings, numbers, booleans and None, so no tag can ever make a
Python object, and every rule below is checked in one bounded pass.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

try:  # the C parser is ~10x faster; fall back to pure Python when libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 1024 * 1024  # 1 MiB, what Streamlit calls "1MB": the uploader and server.maxUploadSize agree
MAX_DEPTH = 40
MAX_NODES = 100_000  # after alias expansion: stops "billion laughs" documents early

Path = tuple  # of str | int: ("stages", 1, "questions", 0, "answer")

_YAML11_BOOLS = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
_CORE_TAGS = {
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "seq", "map")
}
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"


class YamlProblem(Exception):
    """The file cannot be read as content; carries a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass
class Document:
    """Plain data from one YAML file, and the position of every value and key in it."""

    data: object
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Line and column of ``path``, or of its nearest ancestor that exists."""
        table = self.key_positions if key else self.positions
        path = tuple(path)
        if path in table:
            return table[path]
        while path:
            path = path[:-1]
            if path in self.positions:
                return self.positions[path]
        return (1, 1)


def decode(raw: bytes) -> str:
    """Decode UTF-8 strictly, naming the line and column of the first bad byte."""
    if len(raw) > MAX_BYTES:
        # the loader reads at most MAX_BYTES + 1 bytes, so len(raw) is not the file's size
        raise YamlProblem(f"file is larger than the limit of {MAX_BYTES:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlProblem(
            f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; save the file as UTF-8",
            line,
            column,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise YamlProblem("file is empty: it holds no YAML content")
    return text


def _where(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _offset_where(text: str, position: int) -> tuple[int, int]:
    """Line and column of a reader error's offset (in UTF-8 bytes for libyaml, characters otherwise)."""
    if _Loader.__name__.startswith("C"):
        before = text.encode("utf-8")[:position].decode("utf-8", "ignore")
    else:
        before = text[:position]
    return (before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)


def _indent(line: str) -> str:
    spaces = len(line) - len(line.lstrip(" "))
    return f"{spaces} space" if spaces == 1 else f"{spaces} spaces"


def syntax_advice(exc: yaml.MarkedYAMLError, text: str, line: int, column: int) -> str | None:
    """What usually causes a parser complaint, said so that an author can fix it (None when unsure)."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    above = next((lines[i] for i in range(line - 2, -1, -1) if lines[i].strip() and not lines[i].lstrip().startswith("#")), "")
    problem = str(exc.problem or "")
    if problem.startswith("mapping values are not allowed"):
        first_colon = here.find(":")
        if 0 <= first_colon < column - 1:
            return ("an unquoted ': ' inside text ends the key's value early: put the whole text in quotes, "
                    "or write it on the next lines after '>-'")
        return (f"this line is indented {_indent(here)} and the line above {_indent(above)}: "
                "align the key with the keys it belongs beside")
    if problem.startswith(("did not find expected key", "did not find expected '-' indicator",
                           "expected <block end>")):
        return (f"this line is indented {_indent(here)} and the line above {_indent(above)}: "
                "keys of one mapping, and items of one list, must line up exactly")
    if "quoted scalar" in str(exc.context or "") and exc.context_mark is not None:
        opened = exc.context_mark.line + 1
        return f"the quotation mark opened on line {opened} is never closed"
    return None


def _one_line(message: object) -> str:
    return " ".join(str(message).split())


def read(text: str) -> Document:
    """Parse one YAML document into plain data; raise :class:`YamlProblem` on anything unsafe."""
    positions: dict[Path, tuple[int, int]] = {}
    key_positions: dict[Path, tuple[int, int]] = {}
    anchors: dict[str, tuple[object, int]] = {}  # name -> (value, node count)
    # Each open collection: [container, path, pending_key, anchor, node_count, seen_keys, start_mark]
    stack: list[list] = []
    total_nodes = 0  # values read so far, aliases counted at their full size
    root: object = None
    documents = 0
    parser = None
    # This loop runs once per YAML event, so it is written for speed: the work of attaching a
    # value to its parent is inlined, and plain scalars are resolved through a memo.
    try:
        parser = _Loader(text)  # the pure-Python reader checks characters here already
        get_event = parser.get_event
        while True:
            event = get_event()
            if event is None:
                break
            kind = type(event)
            if kind is _ScalarEvent:
                if event.tag is None and not event.style:  # plain: resolved by its text alone
                    value = _PLAIN.get(event.value, _MISSING)
                    if value is _MISSING:
                        value = _plain(event)
                else:
                    _check_tag(event)
                    value = _scalar(event)
                nodes, anchor, mark = 1, event.anchor, event.start_mark
            elif kind is _MappingStartEvent or kind is _SequenceStartEvent:
                if event.tag is not None:
                    _check_tag(event)
                if len(stack) >= MAX_DEPTH:
                    raise YamlProblem(f"nesting deeper than {MAX_DEPTH} levels", *_where(event.start_mark))
                mapping = kind is _MappingStartEvent
                stack.append([{} if mapping else [], _child_path(stack), _NO_KEY, event.anchor, 1,
                              {} if mapping else None, event.start_mark])
                continue
            elif kind is _MappingEndEvent or kind is _SequenceEndEvent:
                value, _, _, anchor, nodes, _, mark = stack.pop()
                total_nodes -= nodes - 1  # its children were counted as they came
            elif kind is _AliasEvent:
                if event.anchor not in anchors:
                    raise YamlProblem(
                        f"alias *{event.anchor} refers to an anchor that is not defined before it "
                        "or that contains the alias itself",
                        *_where(event.start_mark),
                    )
                value, nodes = anchors[event.anchor]
                anchor, mark = None, event.start_mark
            elif kind is _DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise YamlProblem(
                        "more than one YAML document ('---'); put one vignette in each file",
                        *_where(event.start_mark),
                    )
                continue
            else:
                continue

            # attach ``value`` (``nodes`` values in all, aliases expanded) to the open collection
            total_nodes += nodes
            if total_nodes > MAX_NODES:
                raise YamlProblem(
                    f"document expands to more than {MAX_NODES:,} values (aliases expand too far)",
                    *_where(mark),
                )
            if anchor:
                anchors[anchor] = (value, nodes)
            where = (mark.line + 1, mark.column + 1)
            if not stack:
                root = value
                positions[()] = where
                continue
            top = stack[-1]
            container = top[0]
            top[4] += nodes
            if top[5] is None:  # a list
                positions[top[1] + (len(container),)] = where
                container.append(value)
            elif top[2] is _NO_KEY:
                if value.__class__ is not str:
                    raise YamlProblem("keys must be plain text", *where)
                seen = top[5]
                if value in seen:
                    raise YamlProblem(
                        f"duplicate key {value!r} (first at line {seen[value][0]}); YAML would keep "
                        "only the last one",
                        *where,
                    )
                seen[value] = where
                top[2] = value
                top[4] -= nodes  # keys are not values
                key_positions[top[1] + (value,)] = where
            else:
                key = top[2]
                container[key] = value
                positions[top[1] + (key,)] = where
                top[2] = _NO_KEY
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or b"?")
        raise YamlProblem(f"YAML syntax: unacceptable character #x{char:04x}: {exc.reason}",
                          *_offset_where(text, exc.position)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = _where(mark) if mark else (1, 1)
        message = f"YAML syntax: {_one_line(exc.problem or exc)}"
        advice = syntax_advice(exc, text, line, column)
        raise YamlProblem(f"{message}; {advice}" if advice else message, line, column) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML syntax: {_one_line(exc)}") from None
    finally:
        if parser is not None:
            parser.dispose()
    if root is None:
        raise YamlProblem("file is empty: it holds no YAML content")
    return Document(root, positions, key_positions)


_ScalarEvent, _AliasEvent, _DocumentStartEvent = yaml.ScalarEvent, yaml.AliasEvent, yaml.DocumentStartEvent
_MappingStartEvent, _MappingEndEvent = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStartEvent, _SequenceEndEvent = yaml.SequenceStartEvent, yaml.SequenceEndEvent

#: Plain (unquoted, untagged) scalar text -> its value. Keys and ids repeat in every file,
#: and resolving a plain scalar (YAML 1.1 booleans, the resolver's regexes) is the costliest
#: step per value; texts that raise a problem are never stored.
_PLAIN: dict[str, object] = {}
_PLAIN_MAX_ENTRIES, _PLAIN_MAX_LENGTH = 20_000, 64
_MISSING = object()


def _plain(event) -> object:
    value = _scalar(event)
    text = event.value
    if len(text) <= _PLAIN_MAX_LENGTH:
        if len(_PLAIN) >= _PLAIN_MAX_ENTRIES:
            _PLAIN.clear()
        _PLAIN[text] = value
    return value


class _Marker(str):
    pass


_NO_KEY = _Marker("<no key>")


def _child_path(stack: list[list]) -> Path:
    if not stack:
        return ()
    container, path, key = stack[-1][0], stack[-1][1], stack[-1][2]
    if stack[-1][5] is None:  # a list
        return path + (len(container),)
    if key is _NO_KEY:
        raise YamlProblem("keys must be plain text", *_where(stack[-1][6]))
    return path + (key,)


def _check_tag(event) -> None:
    tag = event.tag
    if tag in (None, "!", "?") or tag in _CORE_TAGS:
        return
    raise YamlProblem(
        f"tag {tag!r} is not allowed: content files hold plain text, numbers and lists only",
        *_where(event.start_mark),
    )


def _scalar(event) -> object:
    value = event.value
    if event.style or event.implicit == (False, True) or event.tag == "tag:yaml.org,2002:str":
        return value  # quoted or block scalar, or explicitly text
    if _YAML11_BOOLS.match(value):
        raise YamlProblem(
            f"unquoted {value!r} is read as a yes/no value by YAML 1.1; write "
            f"\"{value}\" in quotes if you mean text, or true/false",
            *_where(event.start_mark),
        )
    tag = event.tag or _resolver.resolve(yaml.ScalarNode, value, (True, False))
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() == "true"
    if tag in (_INT, _FLOAT) and ":" not in value:  # "10:30" stays text, not sexagesimal 630
        node = yaml.ScalarNode(tag, value)
        try:
            return _constructor.construct_yaml_int(node) if tag == _INT else _constructor.construct_yaml_float(node)
        except ValueError:  # "0x_", "0b_" or "!!int abc": not a number after all
            if event.tag:
                raise YamlProblem(f"{value!r} is not a valid {'integer' if tag == _INT else 'number'}",
                                  *_where(event.start_mark)) from None
            return value
    if tag == "tag:yaml.org,2002:merge":
        raise YamlProblem(
            "merge keys ('<<') are not supported; write the fields out",
            *_where(event.start_mark),
        )
    return value  # timestamps and anything else stay text
