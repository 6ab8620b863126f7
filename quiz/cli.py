"""The ``python -m quiz`` command line for authors: validate, schema, new, init, export, docs."""
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
