"""Turn content files, good or hostile, into valid cases or located problems.

``load_content`` reads a content folder (``questions.yaml`` and ``cases/*.yaml``)
and returns every valid case together with every problem: one bad file never
hides the good ones. Parsed files are cached by path, size and modification
time, so the app can call it on every rerun and still pick up edits.
"""
from __future__ import annotations

import gc
import os
import threading
import time
import types
import typing
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from . import checks, evidence, yaml_reader
from .model import Case, CatalogueEntry, Question, QuestionBank, Stage
from .problems import MAX_PROBLEMS, Problem, capped, field_path

BANK_FILE = "questions.yaml"
CASES_DIR = "cases"


@dataclass
class Parsed:
    """One file's outcome: the model (None when it has errors) and its problems."""

    model: BaseModel | None
    problems: list[Problem]
    document: yaml_reader.Document | None = None


@dataclass
class Content:
    """A content folder as the app and the command line see it."""

    root: Path
    cases: dict[str, Case] = field(default_factory=dict)
    case_files: dict[str, Path] = field(default_factory=dict)
    bank: QuestionBank | None = None
    problems: list[Problem] = field(default_factory=list)
    files: int = 0
    #: Files with errors whose last valid version is still in service: display name -> when it was read.
    stale: dict[str, float] = field(default_factory=dict)

    @property
    def catalogue(self) -> dict[str, CatalogueEntry]:
        return {entry.id: entry for entry in self.bank.catalogue} if self.bank else {}

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


# --- reading one file -------------------------------------------------------

def parse(raw: bytes, model: type[BaseModel], name: str,
          hints: checks.Hints | None = None) -> tuple[BaseModel | None, yaml_reader.Document | None, list[Problem]]:
    """Bytes -> validated model, or the located problems; never raises on bad content.

    At most :data:`~quiz.content.problems.MAX_PROBLEMS` validation errors are turned into
    problems; the rest are counted in one closing line.
    """
    found, document, problems, hidden = _parse(raw, model, name, hints or checks.Hints())
    return found, document, capped(problems, hidden)


def _parse(raw: bytes, model: type[BaseModel], name: str,
           hints: checks.Hints) -> tuple[BaseModel | None, yaml_reader.Document | None, list[Problem], int]:
    """:func:`parse`, with the problems not capped yet and the number of errors left out."""
    try:
        document = yaml_reader.read(yaml_reader.decode(raw))
    except yaml_reader.YamlProblem as exc:
        return None, None, [Problem(name, exc.line, exc.column, "", exc.message)], 0
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        return None, document, [Problem(name, 1, 1, "", f"the file must be a mapping of fields, not a {kind}")], 0
    try:
        return model.model_validate(document.data), document, [], 0
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=True)
        problems = [_from_pydantic(error, document, model, name, hints) for error in errors[:MAX_PROBLEMS]]
        return None, document, problems, max(len(errors) - MAX_PROBLEMS, 0)


def _from_pydantic(error: dict, document: yaml_reader.Document, model: type[BaseModel], name: str,
                   hints: checks.Hints) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        fields = _fields_at(model, loc[:-1])
        hint = hints(str(loc[-1]), fields)
        line, column = document.position(loc, key=True)
        return Problem(name, line, column, field_path(loc), f"unknown field {loc[-1]!r}{hint}")
    if kind == "missing":
        line, column = document.position(loc[:-1])
        return Problem(name, line, column, field_path(loc), "required field is missing")
    line, column = document.position(loc)
    message = error["msg"]
    if kind == "too_long" and isinstance(value, (list, dict)):
        limit = error.get("ctx", {}).get("max_length")
        return Problem(name, line, column, field_path(loc),
                       f"too many items ({len(value):,}); at most {limit} are allowed here, and none of them "
                       "was checked")
    if kind == "string_pattern_mismatch":
        message = "must be an id of lower-case letters, digits and hyphens, like 'neck-mass'"
    elif kind in ("model_type", "dict_type"):
        message = "expected a mapping of fields (indented 'name: value' lines)"
    elif kind in ("string_type", "int_type", "int_parsing", "float_type", "float_parsing", "list_type"):
        message = f"{message[0].lower()}{message[1:]}"
    if kind not in ("missing",) and not isinstance(value, (dict, list)) and value is not None:
        message += f", got {_short(value)}"
    elif isinstance(value, (dict, list)) and kind.endswith("_type"):
        message += f", got a {'mapping' if isinstance(value, dict) else 'list'}"
    return Problem(name, line, column, field_path(loc), message)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(model: type, loc: tuple) -> list[str]:
    """Field names of the model found at ``loc``, for "did you mean" hints."""
    current: object = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = current.model_fields[part].annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _unwrap(annotation: object) -> object:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation


def _located(findings, document: yaml_reader.Document, name: str) -> tuple[list[Problem], int, bool]:
    """The first MAX_PROBLEMS findings placed on their lines; the rest only counted (and whether any is an error)."""
    out = []
    hidden, hidden_errors = 0, False
    for loc, message, severity in findings:
        if len(out) >= MAX_PROBLEMS:
            hidden += 1
            hidden_errors = hidden_errors or severity == "error"
            continue
        line, column = document.position(loc)
        out.append(Problem(name, line, column, field_path(loc), message, severity))
    return out, hidden, hidden_errors


def resolve_labels(case: Case, catalogue: dict[str, CatalogueEntry]) -> Case:
    """Fill every catalogue option's label, so a loaded case needs no catalogue to be played."""

    def question(q: Question) -> Question:
        options = [o if o.label else o.model_copy(update={"label": catalogue[o.id].label}) for o in q.options]
        return q.model_copy(update={"options": options})

    def stage(s: Stage) -> Stage:
        return s.model_copy(update={"questions": [question(q) for q in s.questions]})

    return case.model_copy(update={"stages": [stage(s) for s in case.stages]})


def parse_case(raw: bytes, name: str, catalogue: dict[str, CatalogueEntry], *, stem: str | None = None,
               sources: evidence.Sources = None, root: Path | None = None) -> Parsed:
    """Validate one vignette's bytes against the model, the catalogue and the lint rules.

    With ``sources`` (the folders of report texts, searched in order) every evidence quote is looked up too.
    """
    hints = checks.Hints()
    case, document, problems, left_out = _parse(raw, Case, name, hints)
    hidden = [left_out, left_out > 0]  # problems counted but not listed, and whether one of them is an error

    def add(findings) -> None:
        found, more, more_errors = _located(findings, document, name)
        problems.extend(found)
        hidden[0] += more
        hidden[1] = hidden[1] or more_errors

    # Only a file whose bytes hold the marker (or an escape that could spell it) can have a placeholder.
    if document is not None and not left_out and (checks.PLACEHOLDER.encode() in raw or b"\\" in raw):
        add(checks.placeholders(document.data))
    if document is not None and not left_out and any(mark in raw for mark in _MARKDOWN_MARKS):
        add(checks.unsafe_markdown(document.data))
    if case is None:
        return Parsed(None, capped(problems, *hidden), document)
    source_text = source = None
    if evidence.folders(sources) and case.source.text_file:
        source, why_not = evidence.find_source(case.source.text_file, sources)
        if source is None:
            problems.append(Problem(name, *document.position(("source", "text_file")), "source.text_file",
                                    why_not, "warning"))
        else:
            source_text = evidence.source_text(source)
    add(checks.check_case(case, catalogue, stem=stem, hints=hints))
    add(checks.lint_case(case, catalogue, source_text=source_text, source_file=source))
    if root is not None:
        case, image_findings = _resolve_images(case, root)
        add(image_findings)
    if hidden[1] or any(p.severity == "error" for p in problems):
        return Parsed(None, capped(problems, *hidden), document)
    return Parsed(resolve_labels(case, catalogue), capped(problems, *hidden), document)


#: Bytes without which no text can hold an image or a link (a YAML escape could spell one: ``\\``).
_MARKDOWN_MARKS = (b"](", b"]:", b"<", b"![", b"\\")


def _resolve_images(case: Case, root: Path) -> tuple[Case, list]:
    """Image paths made absolute inside the content folder; any other path is an error, never opened."""
    findings, stages = [], []
    for s, stage in enumerate(case.stages):
        images = []
        for i, image in enumerate(stage.images):
            target, reason = checks.image_file(image.path, root)
            if target is None:
                findings.append((("stages", s, "images", i, "path"), f"image {image.path!r}: {reason}", "error"))
            else:
                images.append(image.model_copy(update={"path": str(target)}))
        stages.append(stage.model_copy(update={"images": images}) if stage.images else stage)
    return case.model_copy(update={"stages": stages}), findings


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def parse_bank(raw: bytes, name: str) -> Parsed:
    hints = checks.Hints()
    bank, document, problems, left_out = _parse(raw, QuestionBank, name, hints)
    if bank is None:
        return Parsed(None, capped(problems, left_out), document)
    found, hidden, hidden_errors = _located(checks.check_bank(bank, hints), document, name)
    problems += found
    if any(mark in raw for mark in _MARKDOWN_MARKS):
        links, more, more_errors = _located(checks.unsafe_markdown(document.data), document, name)
        problems += links
        hidden, hidden_errors = hidden + more, hidden_errors or more_errors
    invalid = hidden_errors or any(p.severity == "error" for p in problems)
    return Parsed(None if invalid else bank, capped(problems, hidden, hidden_errors), document)


# --- reading a folder, with a cache -----------------------------------------

_file_cache: dict[tuple, Parsed] = {}
_content_cache: dict[tuple, Content] = {}


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(yaml_reader.MAX_BYTES + 1)


def _signature(path: Path | str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def display_name(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_content(root: Path | str, *, sources: evidence.Sources = None, case_paths: list[Path] | None = None) -> Content:
    """Every valid case of a content folder and every problem found, cached by file signature.

    ``case_paths`` restricts the cases read (the command line's file arguments);
    by default every ``cases/*.yaml`` under ``root`` is read.
    """
    root = Path(root)
    sources = evidence.folders(sources)
    bank_path = root / BANK_FILE
    whole_folder = case_paths is None
    # The app calls this on every rerun: seeing that nothing changed takes only a listing and
    # a stat per file, on plain strings (Path objects cost more than the stat for 2000 files).
    if case_paths is None:
        try:
            with os.scandir(root / CASES_DIR) as entries:
                names = sorted(e.path for e in entries if e.name.endswith((".yaml", ".yml")) and e.is_file())
        except OSError:
            names = []
    else:
        names = [str(p) for p in case_paths]
    signatures = tuple((name, _signature(name)) for name in [str(bank_path), *names])
    key = (str(root), str(sources), signatures)
    if key in _content_cache:
        return _content_cache[key]
    if case_paths is None:
        case_paths = [Path(name) for name in names]

    with _gc_paused():
        content = _load(root, sources, bank_path, case_paths, signatures, whole_folder)
    if len(_content_cache) >= 8:  # a few states (the app's, a CLI subset, a preview) are worth keeping
        _content_cache.pop(next(iter(_content_cache)))
    _content_cache[key] = content
    return content


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # loads under way; whether to enable the collector when the last ends


@contextmanager
def _gc_paused():
    """Hold off the cyclic garbage collector while files are parsed into the caches.

    Everything a load builds lives on in the caches, so a collection midway frees nothing,
    yet each full collection walks every object built so far: for 2000 vignettes that was
    a third of the load time. The objects are walked once, by the next collection, instead.
    """
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def _load(root: Path, sources: tuple[Path, ...], bank_path: Path, case_paths: list[Path], signatures: tuple,
          whole_folder: bool) -> Content:
    content = Content(root=root)
    # Only the app's view of a whole folder falls back to a file's last valid version: the command
    # line checks the files as they are.
    fallback = whole_folder
    bank_signature = signatures[0][1]
    bank_document = None
    if bank_signature is None:
        content.problems.append(Problem(display_name(bank_path), 1, 1, "", f"the shared question bank {BANK_FILE} is missing"))
    elif not _inside(bank_path, root):
        content.files += 1
        content.problems.append(Problem(display_name(bank_path), 1, 1, "", OUTSIDE))
    else:
        content.files += 1
        bank = _cached(bank_path, bank_signature, "bank", lambda raw, name: parse_bank(raw, name))
        content.problems += bank.problems
        bank, bank_signature = _last_valid_version(content, ("bank", str(bank_path)), bank, bank_signature, fallback)
        content.bank = bank.model  # type: ignore[assignment]
        bank_document = bank.document
    catalogue = content.catalogue

    documents: dict[str, tuple[str, yaml_reader.Document]] = {}
    for path, signature in zip(case_paths, (s for _, s in signatures[1:])):
        name = display_name(path)
        if signature is None:
            content.problems.append(Problem(name, 1, 1, "", "file not found"))
            continue
        content.files += 1
        if whole_folder and not _inside(path, root):
            content.problems.append(Problem(name, 1, 1, "", OUTSIDE))
            continue
        parsed = _cached(path, signature, ("case", bank_signature, str(sources)),
                         lambda raw, name, path=path: parse_case(raw, name, catalogue, stem=path.stem, sources=sources, root=root))
        content.problems += parsed.problems
        parsed, _ = _last_valid_version(content, ("case", str(path)), parsed, signature, fallback)
        case = parsed.model
        if case is None:
            continue
        if case.id in content.cases:
            where = parsed.document.position(("id",)) if parsed.document else (1, 1)
            content.problems.append(Problem(name, *where, "id", f"case id {case.id!r} is also used by {display_name(content.case_files[case.id])}"))
            continue
        content.cases[case.id] = case  # type: ignore[assignment]
        content.case_files[case.id] = path
        documents[case.id] = (name, parsed.document)  # type: ignore[assignment]
    if content.bank is not None and whole_folder:
        content.problems += _review_links(content, bank_path, bank_document, case_paths)
        content.problems += _cross_case_lint(content, documents)
    return content


def _cross_case_lint(content: Content, documents: dict[str, tuple[str, yaml_reader.Document]]) -> list[Problem]:
    """Lint that needs every case: which catalogue entries only one case offers.

    Run on the whole folder only (like the review links): a subset cannot tell a generic step
    from a case-specific one.
    """
    specific = checks.case_specific_catalogue_ids(content.cases, content.catalogue)
    out = []
    for case_id, case in content.cases.items():
        name, document = documents[case_id]
        out += _located(checks.reported_management_offered_early(case, specific[case_id]), document, name)[0]
    return sorted(out)
OUTSIDE = "links to a file outside the content folder; it is not read"

#: The last version of each file that loaded without errors, for the app: (kind, path) -> (signature,
#: parse, when it was read). An edit that breaks a file mid-class leaves that version in service.
_last_valid: dict[tuple[str, str], tuple[object, Parsed, float]] = {}


def _last_valid_version(content: Content, key: tuple[str, str], parsed: Parsed, signature,
                        fallback: bool) -> tuple[Parsed, object]:
    """``parsed`` when it is valid (remembered as the file's last valid version); else, when ``fallback``,
    the last valid version, noted in ``content.stale``. Returns the parse in service and its signature."""
    if parsed.model is not None:
        previous = _last_valid.get(key)
        if previous is None or previous[1] is not parsed:
            _last_valid[key] = (signature, parsed, time.time())
        return parsed, signature
    previous = _last_valid.get(key) if fallback else None
    if previous is None:
        return parsed, signature
    old_signature, old, when = previous
    content.stale[display_name(Path(key[1]))] = when
    return old, old_signature


def _cached(path: Path, signature, kind, parse_fn) -> Parsed:
    key = (str(path), signature, kind)
    if key not in _file_cache:
        if len(_file_cache) > 20_000:
            _file_cache.clear()
        _file_cache[key] = parse_fn(_read(path), display_name(path))
    return _file_cache[key]


def _review_links(content: Content, bank_path: Path, document: yaml_reader.Document, case_paths: list[Path]) -> list[Problem]:
    """Review questions must point at cases that exist (a case file with errors has been reported already)."""
    stems = {path.stem for path in case_paths}
    hint = checks.Hints()
    out = []
    for i, question in enumerate(content.bank.review):  # type: ignore[union-attr]
        for j, case_id in enumerate(question.cases):
            if case_id not in content.cases and case_id not in stems:
                loc = ("review", i, "cases", j)
                out.append(Problem(display_name(bank_path), *document.position(loc), field_path(loc),
                                   f"no case has id {case_id!r}{hint(case_id, content.cases)}", "warning"))
    return capped(out, hidden_errors=False)
