"""The ``python -m quiz`` command line: validate, schema, new, init, export, docs for authors; learners for operators."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .content import evidence, loader, schema
from . import settings

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _content_dir(value: str | None) -> Path:
    return Path(value) if value else settings.current().content_dir


def _split_targets(paths: list[str], default_root: Path) -> list[tuple[Path, list[Path] | None]]:
    """Group command-line paths into (content root, case files or None for all)."""
    groups: dict[Path, list[Path] | None] = {}
    for raw in paths or [str(default_root)]:
        path = Path(raw)
        if path.is_dir():
            root = path if (path / loader.BANK_FILE).exists() or (path / loader.CASES_DIR).is_dir() else path.parent
            if path.name == loader.CASES_DIR and not (path / loader.BANK_FILE).exists():
                root = path.parent
            groups[root] = None
        else:
            root = next((p for p in (path.parent, path.parent.parent) if (p / loader.BANK_FILE).exists()), default_root)
            if groups.get(root, []) is not None:
                groups.setdefault(root, []).append(path)  # type: ignore[union-attr]
    return list(groups.items())


def cmd_validate(args: argparse.Namespace) -> int:
    sources = evidence.folders(args.sources) if args.sources else settings.current().sources_dirs
    for folder in sources:
        if not folder.is_dir():
            print(f"error: --sources {folder} is not a folder", file=sys.stderr)
            return EXIT_USAGE
    files = cases = errors = warnings = 0
    for root, case_paths in _split_targets(args.paths, _content_dir(args.content)):
        if case_paths is None and not root.exists():
            print(f"error: {root} does not exist", file=sys.stderr)
            return EXIT_USAGE
        for path in case_paths or []:
            if not path.exists():
                print(f"error: {path} does not exist", file=sys.stderr)
                return EXIT_USAGE
        content = loader.load_content(root, sources=sources, case_paths=case_paths)
        for problem in content.problems:
            strict_error = args.strict and problem.severity == "warning"
            print(str(problem).replace(": warning: ", ": ") if strict_error else problem)
        files += content.files
        cases += len(content.cases)
        errors += len(content.errors)
        warnings += len(content.warnings)
    if args.strict:
        errors, warnings = errors + warnings, 0
    print(f"{files} files, {cases} valid cases, {errors} errors, {warnings} warnings")
    return EXIT_INVALID if errors else EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else _content_dir(args.content) / "schema"
    for path in schema.write(out):
        print(f"wrote {path}")
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    from .content import scaffold

    content_dir = _content_dir(args.content)
    try:
        path = scaffold.create(content_dir, args.id, force=args.force)
    except scaffold.ScaffoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    shown = loader.display_name(path)
    if shown.startswith(".."):
        shown = str(path.resolve())
    print(f"wrote {shown}")
    print(f"fill in every TODO placeholder, then run: python -m quiz validate {shown}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from .content import scaffold

    try:
        written = scaffold.init(args.dir, settings.REPO / "content")
    except (scaffold.ScaffoldError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(f"wrote {path}")
    example = scaffold.case_path(Path(args.dir), scaffold.EXAMPLE_CASE)
    print(f"check it: python -m quiz --content {args.dir} validate --strict")
    if example.exists():
        print(f"{example} is a worked example: read it, then delete it when your first case is written")
    print(f"start a case: python -m quiz --content {args.dir} new my-first-case")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .content import export

    root = _content_dir(args.content)
    if not root.is_dir():
        print(f"error: content folder {root} does not exist", file=sys.stderr)
        return EXIT_USAGE
    content = loader.load_content(root)
    for problem in content.errors:
        print(problem, file=sys.stderr)
    text = export.render(content, args.format)
    if args.out:
        out = Path(args.out)
        try:
            out.write_text(text, encoding="utf-8", newline="")
        except OSError as exc:
            print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    count = sum(1 for _ in export.questions(content))
    where = f" to {args.out}" if args.out else ""
    print(
        f"exported {count} questions from {len(content.cases)} valid cases and the review list{where}; "
        f"{len(content.errors)} errors, {len(content.warnings)} warnings (see python -m quiz validate)",
        file=sys.stderr,
    )
    return EXIT_INVALID if content.errors else EXIT_OK


def cmd_docs(args: argparse.Namespace) -> int:
    from .content import docgen

    path = Path(args.file) if args.file else docgen.AUTHORING_DOC
    shown = loader.display_name(path)
    try:
        changed = docgen.update_file(path, check=args.check)
    except (OSError, docgen.MarkerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        if changed:
            print(f"{shown}: the field reference is out of date; run: python -m quiz docs", file=sys.stderr)
            return EXIT_INVALID
        print(f"{shown}: the field reference is up to date")
        return EXIT_OK
    print(f"{'updated' if changed else 'unchanged'} {shown}")
    return EXIT_OK


def _open_store(url: str | None):
    from .store import open_store

    return open_store(url or settings.current().database_url)


def cmd_learners_list(args: argparse.Namespace) -> int:
    """Every learner: id, label, whether it is a legacy (name-keyed) record, answers, last answer."""
    from .store import StoreError

    try:
        rows = _open_store(args.database).learner_summaries()
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{'id':>5}  {'display name':<24} {'keys':<14} {'answers':>7}  last answer (UTC)")
    for row in rows:
        label = row.display_name or "–"
        keys = ",".join(sorted(set(row.key_kinds))) or f"LEGACY {row.legacy_name!r}"
        last = f"{row.last_answer:%Y-%m-%d %H:%M}" if row.last_answer else "–"
        print(f"{row.id:>5}  {label:<24} {keys:<14} {row.answers:>7}  {last}")
    legacy = sum(1 for r in rows if r.legacy_name is not None)
    print(f"{len(rows)} learners, {legacy} legacy (from before learner keys)"
          + ("; hand one to its owner: python -m quiz learners link NAME --url https://your.server" if legacy else ""))
    return EXIT_OK


def cmd_learners_link(args: argparse.Namespace) -> int:
    """Give a legacy learner (progress kept under a typed name) a key, and print its private resume link."""
    from . import identity
    from .store import StoreError

    try:
        database = _open_store(args.database)
        found = database.legacy_learners(args.name)
        if args.id is not None:
            if args.id not in found:
                print(f"error: learner {args.id} is not a legacy record named {args.name!r}"
                      + (f" (matches: {', '.join(map(str, found))})" if found else ""), file=sys.stderr)
                return EXIT_USAGE
            found = [args.id]
        if not found:
            print(f"error: no legacy record named {args.name!r} (python -m quiz learners list shows them)",
                  file=sys.stderr)
            return EXIT_USAGE
        if len(found) > 1:
            print(f"error: {len(found)} legacy records match {args.name!r} (ids {', '.join(map(str, found))}): "
                  "choose one with --id", file=sys.stderr)
            return EXIT_USAGE
        learner = found[0]
        old = next(r.legacy_name for r in database.learner_summaries() if r.id == learner)
        key = identity.new_key()
        database.add_key(learner, key, "browser")
        if not database.display_name(learner):
            database.set_display_name(learner, old)
    except (StoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    base = (args.url or "").rstrip("/")
    print(f"linked learner {learner} ({old!r}). Give its owner, privately, this link (or the code):")
    print(f"{base}/?{identity.RESUME_PARAM}={key}" if base else f"/?{identity.RESUME_PARAM}={key}")
    print(f"code: {key}")
    print("Opening the link keeps the progress in that browser; anyone with it can open this record, so send it "
          "only to its owner.")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m quiz", description="Tools for the vignette content.")
    parser.add_argument("--content", metavar="DIR", help="content folder (default: $QUIZ_CONTENT_DIR or content/)")
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check content files and report located errors")
    validate.add_argument("paths", nargs="*", metavar="PATH", help="content folders or case files (default: the content folder)")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate.add_argument("--sources", metavar="DIR", action="append",
                          help="folder of source report texts, to check every evidence quote; give it again "
                               f"(or join folders with {os.pathsep!r}) for several, searched in order")
    validate.set_defaults(run=cmd_validate)

    schema_cmd = sub.add_parser("schema", help="write the JSON Schemas of the content files")
    schema_cmd.add_argument("--out", metavar="DIR", help="output folder (default: <content>/schema)")
    schema_cmd.set_defaults(run=cmd_schema)

    new = sub.add_parser("new", help="write a commented skeleton for a new case: <content>/cases/ID.yaml")
    new.add_argument("id", metavar="ID",
                     help="case id: a slug of the presenting complaint, e.g. neck-swelling-dysphagia")
    new.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    new.set_defaults(run=cmd_new)

    init = sub.add_parser("init", help="make a fresh content folder that validates: catalogue, schemas, an example case")
    init.add_argument("dir", metavar="DIR", help="the new folder (it must not exist, or be empty)")
    init.set_defaults(run=cmd_init)

    export_cmd = sub.add_parser("export", help="export the questions of every valid case and the review questions")
    export_cmd.add_argument("--format", required=True, choices=("gift", "csv"),
                            help="Moodle GIFT, or CSV with one row per option")
    export_cmd.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    export_cmd.set_defaults(run=cmd_export)

    docs = sub.add_parser("docs", help="regenerate the field reference in docs/authoring.md from the model")
    docs.add_argument("--check", action="store_true", help="change nothing; exit 1 if the reference is out of date")
    docs.add_argument("--file", metavar="FILE", help=argparse.SUPPRESS)
    docs.set_defaults(run=cmd_docs)

    learners_cmd = sub.add_parser("learners", help="for operators: list learners, hand an old name-keyed record "
                                                   "to its owner")
    learners_cmd.add_argument("--database", metavar="URL", help="database URL (default: $QUIZ_DATABASE_URL or the "
                                                                "app's default)")
    learners_sub = learners_cmd.add_subparsers(dest="learners_command", required=True)
    listing = learners_sub.add_parser("list", help="every learner: label, keys, answers, last answer")
    listing.set_defaults(run=cmd_learners_list)
    link = learners_sub.add_parser("link", help="give a legacy learner (from before learner keys) a private "
                                                "resume link")
    link.add_argument("name", metavar="NAME", help="the display name the record was kept under")
    link.add_argument("--id", type=int, help="the learner id, when several old records match NAME")
    link.add_argument("--url", metavar="URL", help="the app's address, to print a whole link "
                                                    "(e.g. https://quiz.example.org)")
    link.set_defaults(run=cmd_learners_link)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if getattr(args, "content", None) is None:
        args.content = None
    return args.run(args)
