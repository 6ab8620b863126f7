"""A located problem in a content file, and how field paths are written."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

#: Problems listed per file. Past this the file is far from ready, and listing every problem of a
#: hostile file (500,000 for ``stages: [{}, ...]``) would cost more than reading it.
MAX_PROBLEMS = 200


def field_path(loc: tuple) -> str:
    """``("stages", 1, "questions", 0, "answer")`` -> ``stages[1].questions[0].answer``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True, order=True)
class Problem:
    """One thing an author must fix (error) or should look at (warning)."""

    file: str
    line: int
    column: int
    field: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        what = f"{self.field}: " if self.field else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{where}: {what}{tag}{self.message}"


def capped(problems: Iterable[Problem], hidden: int = 0, hidden_errors: bool = True,
           limit: int = MAX_PROBLEMS) -> list[Problem]:
    """The first ``limit`` problems in file order, then one line saying how many more there are.

    ``hidden`` counts problems that were never built (beyond a cap upstream); ``hidden_errors`` says
    whether any of them is an error, so a file with only warnings left out stays playable.
    """
    ordered = sorted(problems)
    if len(ordered) <= limit and not hidden:
        return ordered
    kept, rest = ordered[:limit], ordered[limit:]
    more = len(rest) + hidden
    severity: Severity = "error" if (hidden and hidden_errors) or any(p.severity == "error" for p in rest) else "warning"
    where = rest[0] if rest else (kept[-1] if kept else Problem("", 1, 1, "", ""))
    kept.append(Problem(where.file, where.line, where.column, "",
                        f"... and {more:,} more problem{'s' if more != 1 else ''} in this file, not listed: "
                        "fix the ones above and check again", severity))
    return kept
