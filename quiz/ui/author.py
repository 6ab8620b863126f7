"""The author page: check one vignette by line, play it as learners will, download it; export the bank.

A draft is pasted or uploaded. It is never written anywhere: an upload stays in Streamlit's
in-memory upload store and the draft's bytes and parse in this session's state, and both go
with the session. The bytes are read as YAML data only (:mod:`quiz.content.yaml_reader` builds plain
dicts and lists, never objects) and validated by :func:`quiz.content.loader.parse_case` against the
content folder's catalogue, exactly as ``python -m quiz validate`` would. A valid draft is
played with :func:`quiz.ui.components.play` from :func:`quiz.play.engine.view`, as in the library,
so the preview shows no more than a learner would see; the attempt lives in session state only.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from ..content import checks, evidence, export, loader, yaml_reader
from ..play import engine
from .. import classroom, settings
from ..content.loader import Content
from ..content.model import Case, Image, Slug
from ..content.problems import MAX_PROBLEMS, Problem, capped, field_path
from . import common, components

URL_PATH = "author"
TEXT_KEY = "author-text"
UPLOAD_KEY = "author-upload"
SOURCES_KEY = "author-check-sources"
PARSED_KEY = "author-parsed"
PREVIEW_KEY = "author-preview"
PASTED_NAME = "pasted.yaml"
PASTE_LABEL = "Paste the YAML of one case file"
LIMIT = yaml_reader.MAX_BYTES
UPLOAD_MB = LIMIT // 2**20  # the uploader's limit in Streamlit's megabytes (MiB), as server.maxUploadSize
_SLUG = re.compile(Slug.__metadata__[0].pattern)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Draft:
    """The vignette being checked: its bytes, the name problems are reported under, and its file stem."""

    raw: bytes
    name: str
    stem: str | None  # an upload's file name, which the case id must equal; None for pasted text

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", errors="replace").lstrip("\ufeff")


@dataclass(frozen=True)
class Checked:
    """What the page keeps of a checked draft between reruns.

    Never the parsed document: its table of positions grows with every value of the file, and a
    hostile paste would keep hundreds of MB in each session that pasted it.
    """

    case: Case | None  # the valid case, image paths made absolute inside the content folder
    problems: tuple[Problem, ...]  # at most MAX_PROBLEMS and a closing "and N more" line
    case_id: str | None  # the draft's ``id`` when it is a well-formed id, for the download's file name
    text_file: str | None = None  # the draft's ``source.text_file``, for the source search


def render() -> None:
    current = common.content()
    config = settings.current()
    st.title("Author a vignette")
    folder = loader.display_name(config.content_dir)
    if folder.startswith(".."):
        folder = str(config.content_dir.resolve())
    st.caption(
        f"Case files in the content folder (`{folder}`) appear in the library "
        "by themselves, at the next page load after they are saved. This page checks a draft, previews it as a "
        "learner will play it and lets you download it; it saves nothing. Start a new file with "
        "`python -m quiz new ID`; the guide, with every field, is `docs/authoring.md`."
    )
    common.content_notice(current, for_authors=True)
    if current.bank is None:
        st.warning("The content folder has no valid `questions.yaml`, so every catalogue option of a draft will be "
                   "reported as unknown. Fix the question bank first (`python -m quiz validate`).", icon="⚠️")

    draft = _draft_input()
    sources = _sources_choice(config.sources_dirs)
    if draft is None:
        st.info("Paste a vignette or upload a case file to check it.", icon="📝")
    else:
        checked = _parse(draft, current, sources, config.content_dir)
        case = checked.case
        st.subheader("Problems")
        _problems(list(checked.problems), draft.text, pasted=draft.stem is None)
        _source_search(checked.text_file, sources)
        _download(draft, checked)
        if case is not None:
            if case.id in current.cases:
                shown = loader.display_name(current.case_files[case.id])
                st.info(f"The content folder already has a case with the id `{case.id}` (`{shown}`). This draft "
                        "is checked on its own; saved over that file it replaces the case.", icon="ℹ️")
            _preview(_images_allowed(case))
    st.divider()
    _exports(current)
    if draft is not None and draft.stem is None and GOTO_KEY in st.session_state:
        line, number = st.session_state[GOTO_KEY]
        components.select_line(PASTE_LABEL, line, number)  # last on the page: nothing above moves


# --- input ----------------------------------------------------------------------------

def _draft_input() -> Draft | None:
    """A pasted text or an uploaded file (the upload wins while it is there); None when there is neither."""
    paste_col, upload_col = st.columns([3, 2])
    with paste_col:
        text = st.text_area(
            PASTE_LABEL, key=TEXT_KEY, height=360,
            placeholder="id: neck-swelling-dysphagia\ntitle: ...\n\n(or upload a file on the right)",
        )
        # Off by default: the draft holds its own answer keys, which the preview below must not show early.
        if text.strip() and st.toggle("Show the draft with line numbers", key="author-numbered",
                                      help="The numbers the problems below refer to, in a box that scrolls."):
            st.code(text, language="yaml", line_numbers=True, height=360)
    with upload_col:
        uploaded = st.file_uploader(
            "Or upload a case file", type=["yaml", "yml"], key=UPLOAD_KEY, max_upload_size=UPLOAD_MB,
            help=f"One .yaml or .yml file of at most {UPLOAD_MB} MB. It is kept in memory for this "
                 "session only and is never saved on the server.",
        )
        st.caption(f"One file of at most {UPLOAD_MB} MB, the same limit for pasted text. Kept in memory for this "
                   "session only: nothing is saved, and the file is read as data, never run.")
    if uploaded is not None:
        name = Path(uploaded.name).name or "upload.yaml"
        if uploaded.size > LIMIT:
            st.error(f"`{name}` is {uploaded.size:,} bytes, over the limit of {LIMIT:,} bytes ({UPLOAD_MB} MB); "
                     "it was not read. A case file is far smaller: is it the right file?", icon="🛑")
            return None
        if not name.lower().endswith((".yaml", ".yml")):
            st.error(f"`{name}` is not a .yaml or .yml file; it was not read.", icon="🛑")
            return None
        if text.strip():
            st.caption(f"Checking the uploaded file `{name}`; remove it to check the pasted text instead.")
        return Draft(uploaded.getvalue(), name, Path(name).stem)
    if not text.strip():
        return None
    raw = text.encode("utf-8")
    if len(raw) > LIMIT:
        st.error(f"The pasted text is {len(raw):,} bytes, over the limit of {LIMIT:,} bytes ({UPLOAD_MB} MB); "
                 "it was not checked.", icon="🛑")
        return None
    return Draft(raw, PASTED_NAME, None)


def _sources_choice(sources_dirs: tuple[Path, ...]) -> tuple[Path, ...]:
    """The sources folders to look evidence quotes up in, when some are configured, the instructor
    passcode was given and the box is ticked.

    The passcode guards them because a quote check answers with the nearest passage of a report,
    and reports name the diagnosis: open to anyone, the page would read a case out before play.
    """
    if not sources_dirs:
        st.caption("Evidence quotes are not checked against the reports: set `QUIZ_SOURCES_DIR` to the folder of "
                   "report texts to check them too (as `python -m quiz validate --sources DIR` does).")
        return ()
    if not common.instructor_gate(
            "Checking quotes against the reports",
            "Quote checks and the source search show passages of the reports, which name the diagnosis: "
            "enter the instructor passcode to use them (`python -m quiz validate --sources DIR` needs none).",
            key="sources-passcode"):
        return ()
    checked = st.checkbox(
        "Check against the source text", value=True, key=SOURCES_KEY,
        help=f"Look every evidence quote up in the report text named by `source.text_file`, in the sources "
             f"folders {', '.join(f'`{loader.display_name(d)}`' for d in sources_dirs)} (QUIZ_SOURCES_DIR), in order.",
    )
    return sources_dirs if checked else ()


def _source_search(text_file: str | None, sources: tuple[Path, ...]) -> None:
    """Find words in the draft's report and offer the passage, ready to paste as an evidence quote."""
    if not sources or not text_file:
        return
    path, _ = evidence.find_source(text_file, sources)
    if path is None:
        return
    with st.expander(f"Find a passage in `{path.name}` to quote"):
        words = st.text_input("Words from the report", key="author-source-search", max_chars=200,
                              help="Case, line breaks, hyphens and dashes are ignored, as in the quote check.")
        if not words.strip():
            return
        found = evidence.search(words, path)
        if not found:
            st.info("No passage of the report has these words in this order.", icon="🔎")
        for passage in found:
            st.code(f"- {json.dumps(passage, ensure_ascii=False)}", language="yaml", wrap_lines=True)
        if found:
            st.caption("Copy a line with the button at its right, then cut it down to the words that prove the finding.")


def _parse(draft: Draft, current: Content, sources: tuple[Path, ...], root: Path) -> Checked:
    """``loader.parse_case`` of the draft, kept in session state until the draft or the content folder changes."""
    key = (draft.digest, draft.name, draft.stem, str(sources), id(current))
    cached = st.session_state.get(PARSED_KEY)
    if cached is not None and cached[0] == key:
        return cached[2]
    parsed = loader.parse_case(draft.raw, draft.name, current.catalogue, stem=draft.stem, sources=sources)
    case = parsed.model if isinstance(parsed.model, Case) else None
    problems = parsed.problems
    if case is not None:
        case, image_problems = _safe_images(case, parsed.document, root, draft.name)
        if len(problems) <= MAX_PROBLEMS:  # past it, the list already ends with "and N more"
            problems = capped(problems + image_problems, hidden_errors=False)
    data = parsed.document.data if parsed.document else None
    case_id = data.get("id") if isinstance(data, dict) else None
    source = data.get("source") if isinstance(data, dict) else None
    text_file = source.get("text_file") if isinstance(source, dict) else None
    checked = Checked(case, tuple(problems), case_id if isinstance(case_id, str) and _SLUG.match(case_id) else None,
                      text_file if isinstance(text_file, str) else None)
    st.session_state[PARSED_KEY] = (key, current, checked)  # holding ``current`` keeps its id from being reused
    return checked


# --- problems -------------------------------------------------------------------------

SEVERITY_WORDS = {"error": "🛑 Error", "warning": "⚠️ Warning"}


def problem_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"Severity": SEVERITY_WORDS.get(p.severity, p.severity), "Line": p.line, "Column": p.column,
          "Field": p.field or "(whole file)", "Message": p.message} for p in problems],
        columns=["Severity", "Line", "Column", "Field", "Message"],
    )


#: Problems shown one by one with the lines they point at; the rest stay in the table.
DETAILED_PROBLEMS = 50


GOTO_KEY = "author-goto"  # (line, request number) of the last "go to line" click


def _request_line(line: int) -> None:
    _, number = st.session_state.get(GOTO_KEY, (0, 0))
    st.session_state[GOTO_KEY] = (line, number + 1)


def _problems(problems: list[Problem], text: str, *, pasted: bool = False) -> None:
    """A count in words, a table (severity, line, column, field, message), then each problem in full
    beside the lines of the draft it points at, with a button that puts the caret on that line of a
    pasted draft; last, the whole draft with line numbers."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    counts = f"{errors} error{'s' if errors != 1 else ''} and {warnings} warning{'s' if warnings != 1 else ''}"
    if not problems:
        st.success("No errors and no warnings: the vignette is valid and passes `validate --strict`.", icon="✅")
    else:
        if errors:
            st.error(f"{counts}. Errors make the case unplayable: fix them to preview it.", icon="🛑")
        else:
            st.warning(f"{counts}. The case plays, but read the warnings: `validate --strict` counts them as errors.",
                       icon="⚠️")
        # a static table, not a data grid: a grid cuts a long message at the column's edge
        st.table(problem_frame(problems).set_index("Severity"))
        lines = text.splitlines()
        for index, problem in enumerate(problems[:DETAILED_PROBLEMS]):
            where = f"line {problem.line}, column {problem.column}"
            with st.expander(f"{SEVERITY_WORDS.get(problem.severity, problem.severity)} · {where} · "
                             f"{problem.field or '(whole file)'}"):
                st.text(problem.message)
                st.code(excerpt(lines, problem.line, problem.column), language=None)
                if pasted:
                    st.button(f"Go to line {problem.line} in the draft", key=f"author-goto-{index}",
                              on_click=_request_line, args=(problem.line,))
        if len(problems) > DETAILED_PROBLEMS:
            st.caption(f"The first {DETAILED_PROBLEMS} problems are shown in full; the table lists them all.")
        with st.expander("As `python -m quiz validate` prints them"):
            st.code("\n".join(str(p) for p in problems), language=None)


def excerpt(lines: list[str], line: int, column: int, *, around: int = 3) -> str:
    """The lines around ``line``, numbered, with a caret under ``column``: the place a problem names."""
    first, last = max(1, line - around), min(len(lines), line + around)
    width = len(str(last))
    out = []
    for number in range(first, last + 1):
        mark = ">" if number == line else " "
        out.append(f"{mark} {number:>{width}} | {lines[number - 1]}")
        if number == line:
            out.append(f"  {' ' * width} | {' ' * max(0, column - 1)}^")
    return "\n".join(out) if out else "(the file is empty)"


# --- images ---------------------------------------------------------------------------

def _safe_images(case: Case, document: yaml_reader.Document | None, root: Path,
                 name: str) -> tuple[Case, list[Problem]]:
    """The case with image paths made absolute inside the content folder, and a warning for each image left out.

    A draft is untrusted: an image path is the only field that makes the server read a file, so only
    image files inside the content folder are shown, never ``../`` or absolute paths.
    """
    problems: list[Problem] = []
    stages = []
    for i, stage in enumerate(case.stages):
        kept: list[Image] = []
        for j, image in enumerate(stage.images):
            target, reason = checks.image_file(image.path, root)
            if target is None:
                loc = ("stages", i, "images", j, "path")
                line, column = document.position(loc) if document else (1, 1)
                problems.append(Problem(name, line, column, field_path(loc),
                                        f"image {image.path!r} is left out of the preview: {reason}", "warning"))
            else:
                kept.append(image.model_copy(update={"path": str(target)}))
        stages.append(stage.model_copy(update={"images": kept}) if kept != list(stage.images) else stage)
    return case.model_copy(update={"stages": stages}), problems


# --- download and preview -------------------------------------------------------------

def _images_allowed(case: Case) -> Case:
    """The case with its images only for an instructor: an anonymous draft could otherwise show any image
    of the content folder, such as a later stage's figure of a case learners have not played yet."""
    count = sum(len(stage.images) for stage in case.stages)
    if not count:
        return case
    configured = common.instructor_passcode()
    if configured and classroom.check_passcode(st.session_state.get(common.PASSCODE_KEY), configured):
        return case
    what = f"This draft shows {count} image{'s' if count != 1 else ''}"
    if not configured:
        st.caption(f"{what}: they are left out of the preview, which shows images only to instructors, "
                   "and no instructor passcode is set.")
    else:
        if common.instructor_unlocked(configured, f"{what}. Enter the instructor passcode to see them in the preview "
                                      "(the preview can show any image of the content folder).", key="image-passcode"):
            return case  # an allow-listed sign-in (quiz.ui.signin): no passcode to type
    return case.model_copy(update={"stages": [s.model_copy(update={"images": []}) if s.images else s
                                              for s in case.stages]})


def _download(draft: Draft, checked: Checked) -> None:
    case_id = checked.case_id
    if draft.stem is not None:
        file_name = draft.name
    else:
        file_name = f"{case_id}.yaml" if case_id else "vignette.yaml"
    st.download_button(
        "Download the YAML", data=draft.raw, file_name=file_name, mime="application/x-yaml",
        key="author-download", on_click="ignore", icon="💾",
        help="Exactly the text checked here. Save it as cases/<id>.yaml in the content folder.",
    )


def _fresh(case: Case, run: int) -> dict:
    """A new preview attempt; ``run`` is part of the widget keys, so a restart starts with nothing selected."""
    return {"case_id": case.id, "attempt": engine.start(case), "acknowledged": 0, "run": run}


def _preview(case: Case) -> None:
    """Play the draft exactly as the library would, the attempt held in session state only."""
    st.subheader("Preview")
    st.caption("As a learner will play it: each stage's findings, then its questions; feedback and the next "
               "stage after the commit; the reveal at the end. Nothing is saved.")
    state = st.session_state.get(PREVIEW_KEY)
    if state is None or state["case_id"] != case.id:
        state = _fresh(case, 0 if state is None else state["run"] + 1)
    try:
        attempt = engine.replay(case, list(state["attempt"].committed), state["attempt"].seed)
    except engine.EngineError:
        st.info("The draft changed, and the answers committed in the preview no longer fit it: the preview "
                "starts again.", icon="✏️")
        state = _fresh(case, state["run"] + 1)
        attempt = state["attempt"]
    state["attempt"] = attempt
    st.session_state[PREVIEW_KEY] = state

    if st.button("Restart preview", key="author-restart", icon="🔄"):
        st.session_state[PREVIEW_KEY] = _fresh(case, state["run"] + 1)
        st.rerun()

    def on_commit(stage_index: int, choices: dict[str, str]) -> str | None:
        try:
            after = engine.commit(case, state["attempt"], stage_index, choices)
        except engine.AlreadyCommitted:
            return None  # a double click: the first commit stands
        except engine.EngineError as error:
            return str(error)
        state["attempt"] = after
        state["acknowledged"] = stage_index
        return None

    def on_continue(stage_number: int) -> None:
        state["acknowledged"] = stage_number

    with st.container(border=True):
        st.markdown(f"**{case.title}**")
        st.caption(case.summary)
        st.caption(f"{case.difficulty.capitalize()} · about {case.minutes} min · {len(case.stages)} stages · "
                   f"{', '.join(case.tags.region)} · {', '.join(case.tags.specialty)}")
        components.play(engine.view(case, attempt), f"author-preview-{state['run']}", on_commit,
                        state["acknowledged"], on_continue)


# --- exports --------------------------------------------------------------------------

_exports_cache: dict[int, tuple[Content, str, str]] = {}


def _export_texts(current: Content) -> tuple[str, str]:
    cached = _exports_cache.get(id(current))
    if cached is None or cached[0] is not current:
        _exports_cache.clear()
        cached = (current, export.to_gift(current), export.to_csv(current))
        _exports_cache[id(current)] = cached
    return cached[1], cached[2]


def _exports(current: Content) -> None:
    st.header("Export questions")
    if not common.instructor_gate("Exporting the answer keys", "The exports hold every answer key: enter the "
                                  "instructor passcode to download them.", key="export-passcode"):
        return
    count = sum(1 for _ in export.questions(current))
    st.caption(f"{count} questions: every question of the {len(current.cases)} valid cases of the content folder, "
               "stage by stage, then the review questions (not the draft above). The same files as "
               "`python -m quiz export --format gift|csv`; `docs/authoring.md` describes both.")
    st.warning("For instructors only: both files hold the answer keys and every explanation, and the CSV cites "
               "each report, whose title often names the diagnosis. Do not hand them to learners.", icon="🔑")
    gift, csv_text = _export_texts(current)
    left, right = st.columns(2)
    left.download_button("Download GIFT (Moodle question bank)", data=gift, file_name="vignettes.gift",
                         mime="text/plain", key="export-gift", on_click="ignore", icon="📤")
    right.download_button("Download CSV with answer keys (for instructors)", data=csv_text, file_name="vignettes.csv",
                          mime="text/csv", key="export-csv", on_click="ignore", icon="📤")
