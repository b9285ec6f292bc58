"""Error types and the problems table shared by every stage.

A *problem* is one thing wrong with the user's input, located precisely enough that
the user can find it in the file they edited: file, sheet, row (as seen in Excel or a
text editor), column, the offending value and what was expected.  Checks collect every
problem of a table into one frame (``check_*`` functions never raise); the loader then
raises :class:`InputError` once, carrying the whole frame, and the CLI prints the first
ten and writes the full table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

PROBLEM_COLUMNS = [
    "source_file",
    "sheet",
    "source_row",
    "column",
    "value",
    "expected",
    "check",
    "severity",
]


class CostperfError(Exception):
    """Base class of costperf's own errors."""


class InputError(CostperfError):
    """The user's input (data, config or command line) is wrong: exit status 2.

    Parameters
    ----------
    message
        Human-readable summary naming file, sheet, row and column where known.
    problems
        Optional problems table (columns :data:`PROBLEM_COLUMNS`) with every problem
        found, not only the first.
    """

    def __init__(self, message: str, problems: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else empty_problems()


def located_error(
    message: str,
    *,
    source_file: object = "",
    sheet: str | None = "",
    row: int | None = None,
    column: str = "",
    value: object = "",
    expected: str = "",
    check: str = "input",
) -> InputError:
    """An :class:`InputError` whose problems table holds one located row.

    For errors found before a table exists (a missing file, an empty sheet, a bad key in
    case.toml), so the CLI can still write the problems table.
    """
    problems = make_problems(
        [
            {
                "source_file": str(source_file),
                "sheet": sheet or "",
                "source_row": "" if row is None else row,
                "column": column,
                "value": "" if value is None else str(value),
                "expected": expected or message,
                "check": check,
            }
        ]
    )
    return InputError(message, problems)


def empty_problems() -> pd.DataFrame:
    """Return an empty problems table with the canonical columns (a fresh copy)."""
    return _EMPTY_PROBLEMS.copy()


_EMPTY_PROBLEMS = pd.DataFrame({c: pd.Series(dtype="object") for c in PROBLEM_COLUMNS})


def make_problems(rows: Iterable[Mapping[str, object]]) -> pd.DataFrame:
    """Build a problems table from dict-like rows, filling absent fields with ''."""
    records = [{c: r.get(c, "") for c in PROBLEM_COLUMNS} for r in rows]
    if not records:
        return empty_problems()
    frame = pd.DataFrame.from_records(records, columns=PROBLEM_COLUMNS)
    frame["severity"] = frame["severity"].replace("", "error")
    return frame


def format_problem(row: Mapping[str, object], label: str = "") -> str:
    """Format one problem as ``file, sheet 'S', row N, column 'X': got 'v', expected …``.

    ``label`` names the row when there is no file row (e.g. ``project_id 'A'``).
    """
    parts = []
    if row.get("source_file"):
        parts.append(str(row["source_file"]))
    if row.get("sheet"):
        parts.append(f"sheet '{row['sheet']}'")
    src_row = row.get("source_row")
    if src_row not in (None, "") and not (isinstance(src_row, float) and pd.isna(src_row)):
        parts.append(f"row {int(src_row)}")
    if label:
        parts.append(label)
    if row.get("column"):
        parts.append(f"column '{row['column']}'")
    where = ", ".join(parts)
    value = row.get("value")
    got = "" if value in (None, "") else f"got {_show(value)}, "
    expected = row.get("expected") or ""
    text = f"{got}expected {expected}" if expected else got.rstrip(", ")
    return f"{where}: {text}" if where else text


def _show(value: object) -> str:
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return repr(text)


def raise_if_problems(problems: pd.DataFrame, what: str, *, limit: int = 10) -> None:
    """Raise :class:`InputError` listing the first ``limit`` errors, if there are any.

    Warnings (``severity == 'warning'``) never raise.
    """
    errors = problems[problems["severity"] != "warning"] if len(problems) else problems
    if errors.empty:
        return
    lines = [format_problem(r) for r in errors.head(limit).to_dict("records")]
    more = len(errors) - len(lines)
    tail = f"\n... and {more} more problem(s)" if more > 0 else ""
    msg = f"{len(errors)} problem(s) in {what}:\n" + "\n".join(lines) + tail
    raise InputError(msg, problems)


def merge_errors(errors: list[InputError]) -> InputError:
    """One :class:`InputError` carrying the messages and problems of several."""
    if len(errors) == 1:
        return errors[0]
    parts = [
        e.problems
        if not e.problems.empty
        else make_problems([{"expected": str(e), "check": "file"}])
        for e in errors
    ]
    return InputError("\n".join(str(e) for e in errors), pd.concat(parts, ignore_index=True))
