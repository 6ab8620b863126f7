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
import types
import typing
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from . import checks, evidence, yaml_reader
from .model import Case, CatalogueEntry, Question, QuestionBank, Stage
from .problems import Problem, field_path

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

def parse(raw: bytes, model: type[BaseModel], name: str) -> tuple[BaseModel | None, yaml_reader.Document | None, list[Problem]]:
    """Bytes -> validated model, or the located problems; never raises on bad content."""
    try:
        document = yaml_reader.read(yaml_reader.decode(raw))
    except yaml_reader.YamlProblem as exc:
        return None, None, [Problem(name, exc.line, exc.column, "", exc.message)]
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        return None, document, [Problem(name, 1, 1, "", f"the file must be a mapping of fields, not a {kind}")]
    try:
        return model.model_validate(document.data), document, []
    except ValidationError as exc:
        return None, document, [_from_pydantic(error, document, model, name) for error in exc.errors()]


def _from_pydantic(error: dict, document: yaml_reader.Document, model: type[BaseModel], name: str) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        fields = _fields_at(model, loc[:-1])
        hint = checks.did_you_mean(str(loc[-1]), fields)
        line, column = document.position(loc, key=True)
        return Problem(name, line, column, field_path(loc), f"unknown field {loc[-1]!r}{hint}")
    if kind == "missing":
        line, column = document.position(loc[:-1])
        return Problem(name, line, column, field_path(loc), "required field is missing")
    line, column = document.position(loc)
    message = error["msg"]
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


def _located(findings, document: yaml_reader.Document, name: str) -> list[Problem]:
    out = []
    for loc, message, severity in findings:
        line, column = document.position(loc)
        out.append(Problem(name, line, column, field_path(loc), message, severity))
    return out


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
    case, document, problems = parse(raw, Case, name)
    # Only a file whose bytes hold the marker (or an escape that could spell it) can have a placeholder.
    if document is not None and (checks.PLACEHOLDER.encode() in raw or b"\\" in raw):
        problems += _located(checks.placeholders(document.data), document, name)
    if case is None:
        return Parsed(None, sorted(problems), document)
    source_text = source = None
    if evidence.folders(sources) and case.source.text_file:
        source, why_not = evidence.find_source(case.source.text_file, sources)
        if source is None:
            problems.append(Problem(name, *document.position(("source", "text_file")), "source.text_file",
                                    why_not, "warning"))
        else:
            source_text = evidence.source_text(source)
    findings = list(checks.check_case(case, catalogue, stem=stem))
    findings += checks.lint_case(case, catalogue, source_text=source_text, source_file=source)
    if root is not None:
        case, image_findings = _resolve_images(case, root)
        findings += image_findings
    problems += _located(findings, document, name)
    if any(p.severity == "error" for p in problems):
        return Parsed(None, sorted(problems), document)
    return Parsed(resolve_labels(case, catalogue), sorted(problems), document)


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
    bank, document, problems = parse(raw, QuestionBank, name)
    if bank is None:
        return Parsed(None, problems, document)
    problems += _located(checks.check_bank(bank), document, name)
    return Parsed(None if any(p.severity == "error" for p in problems) else bank, sorted(problems), document)


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
    if signatures[0][1] is None:
        content.problems.append(Problem(display_name(bank_path), 1, 1, "", f"the shared question bank {BANK_FILE} is missing"))
        catalogue: dict[str, CatalogueEntry] = {}
        bank_document = None
    else:
        content.files += 1
        bank = _cached(bank_path, signatures[0][1], "bank", lambda raw, name: parse_bank(raw, name))
        content.bank = bank.model  # type: ignore[assignment]
        content.problems += bank.problems
        bank_document = bank.document
        catalogue = content.catalogue

    catalogue_key = signatures[0][1]
    documents: dict[str, tuple[str, yaml_reader.Document]] = {}
    for path, signature in zip(case_paths, (s for _, s in signatures[1:])):
        name = display_name(path)
        if signature is None:
            content.problems.append(Problem(name, 1, 1, "", "file not found"))
            continue
        content.files += 1
        parsed = _cached(path, signature, ("case", catalogue_key, str(sources)),
                         lambda raw, name, path=path: parse_case(raw, name, catalogue, stem=path.stem, sources=sources, root=root))
        content.problems += parsed.problems
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
        out += _located(checks.reported_management_offered_early(case, specific[case_id]), document, name)
    return sorted(out)


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
    out = []
    for i, question in enumerate(content.bank.review):  # type: ignore[union-attr]
        for j, case_id in enumerate(question.cases):
            if case_id not in content.cases and case_id not in stems:
                hint = checks.did_you_mean(case_id, content.cases)
                loc = ("review", i, "cases", j)
                out.append(Problem(display_name(bank_path), *document.position(loc), field_path(loc), f"no case has id {case_id!r}{hint}", "warning"))
    return out
