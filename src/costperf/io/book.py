"""Reading a request book: a workbook of sheets, a folder of tables, or one sheet.

* a workbook (``costperf template requests``) with the sheets 项目, 明细 and 绩效目标
  (or projects, lines, targets);
* a folder holding ``projects``, ``lines`` and ``targets`` as CSV or Parquet (Chinese
  file names 项目, 明细, 绩效目标 too);
* the single-sheet request format of ``cases/expenditure-requests`` (one row per
  request line): each request becomes a project of its own, with no targets sheet.

Every file is read and checked, and every problem of every table is raised at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from costperf.errors import InputError, located_error, raise_all
from costperf.io.read import EXCEL_SUFFIXES, read_validated, without_repeated_keys
from costperf.review.batch.book import RequestBook, book_from_requests, check_book, check_table
from costperf.schemas import (
    BOOK_LINES,
    BOOK_PROJECTS,
    BOOK_TARGETS,
    REQUESTS,
    Schema,
    merge_problems,
)

if TYPE_CHECKING:
    import pandas as pd

#: table -> (schema, accepted sheet or file names)
BOOK_TABLES: dict[str, tuple[Schema, tuple[str, ...]]] = {
    "projects": (BOOK_PROJECTS, ("项目", "projects")),
    "lines": (BOOK_LINES, ("明细", "lines")),
    "targets": (BOOK_TARGETS, ("绩效目标", "targets")),
}
TABLE_SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx")


def _sheet_names(path: Path) -> list[str]:
    import pandas as pd

    try:
        with pd.ExcelFile(path, engine="calamine") as book:
            return [str(n) for n in book.sheet_names]
    except Exception:  # noqa: BLE001 - read_checked reports the unreadable workbook
        return []


def _folder_sources(folder: Path) -> dict[str, tuple[Path, str | None]]:
    found = {}
    for table, (_, names) in BOOK_TABLES.items():
        hits = [
            folder / f"{name}{s}"
            for name in names
            for s in TABLE_SUFFIXES
            if (folder / f"{name}{s}").is_file()
        ]
        _one_of(folder, table, [h.name for h in hits])
        if hits:
            found[table] = (hits[0], None)
    return found


def _holds_book(folder: Path) -> bool:
    """Whether ``folder`` holds a projects and a lines table (as files)."""
    names = {f.name for f in folder.iterdir() if f.is_file()}
    return all(
        any(f"{name}{s}" in names for name in BOOK_TABLES[table][1] for s in TABLE_SUFFIXES)
        for table in ("projects", "lines")
    )


def _book_subfolder(folder: Path) -> Path | None:
    """The first subfolder (by name) of ``folder`` holding a projects and a lines table."""
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        if _holds_book(sub):
            return sub
    return None


def book_folder(folder: Path) -> Path | None:
    """``folder`` itself when it holds a request book's projects and lines, else its
    first subfolder that does, else None (a hint for a user who typed the wrong
    command or folder)."""
    if not folder.is_dir():
        return None
    return folder if _holds_book(folder) else _book_subfolder(folder)


def _one_of(where: Path, table: str, hits: list[str]) -> None:
    """Two files or sheets for one table (明细 and lines): which one is meant is unclear."""
    if len(hits) < 2:
        return
    msg = f"{where}: {' and '.join(hits)} are both the {table} table; keep one of them"
    raise located_error(
        msg,
        source_file=where,
        value=", ".join(hits),
        check="ambiguous_table",
        expected="one sheet or file per table (项目/projects, 明细/lines, 绩效目标/targets)",
    )


def _sources(path: Path, sheet: str | None) -> dict[str, tuple[Path, str | None]] | None:
    """Where each table is, or None for the single-sheet format."""
    if path.is_dir():
        found = _folder_sources(path)
        missing = [t for t in ("projects", "lines") if t not in found]
        if not missing and "targets" not in found:
            raise _no_targets(path, sorted(p.name for p in path.iterdir()), "file")
        if missing:
            names = "; ".join("/".join(BOOK_TABLES[t][1]) for t in missing)
            msg = (
                f"{path}: a request-book folder needs {names} "
                f"(.csv, .parquet or .xlsx); found: "
                f"{', '.join(sorted(p.name for p in path.iterdir())) or 'nothing'}"
            )
            expected = "projects and lines tables (targets too)"
            book = _book_subfolder(path)
            if book is not None:  # a case folder given instead of its book/ (a usual slip)
                hint = f"; the subfolder {book.name} holds them: costperf review {book}"
                msg += hint
                expected += hint
            raise located_error(msg, source_file=path, check="missing_file", expected=expected)
        return found
    if sheet is None and path.suffix.lower() in EXCEL_SUFFIXES and path.is_file():
        sheets = _sheet_names(path)
        found = {}
        for table, (_, names) in BOOK_TABLES.items():
            hits = [s for s in sheets if s.strip().lower() in names]
            _one_of(path, table, hits)
            if hits:
                found[table] = (path, hits[0])
        if "projects" in found:  # a book; a lone 明细 sheet is the single-sheet format
            if "lines" not in found:
                msg = f"{path}: the request book has no sheet 'lines'; sheets: {', '.join(sheets)}"
                raise located_error(
                    msg,
                    source_file=path,
                    check="unknown_sheet",
                    expected=_sheet_wanted("lines", sheets),
                )
            if "targets" not in found:
                raise _no_targets(path, sheets, "sheet")
            return found
    return None


def _no_targets(path: Path, present: list[str], kind: str) -> InputError:
    """A book of projects and lines without its targets table: refused, not reviewed
    without the target gate (未编制绩效目标的，一律不予安排: a project with no row in
    an empty 绩效目标 sheet is not funded; a book that lost the sheet would fund all)."""
    listing = ", ".join(present) or "nothing"
    if kind == "sheet":  # 工作表不存在: the workbook is there, its sheet is not
        msg = f"{path}: the request book has no sheet 'targets'; sheets: {listing}"
        expected = _sheet_wanted("targets", present)
        return located_error(msg, source_file=path, check="unknown_sheet", expected=expected)
    msg = (
        f"{path}: a request-book folder needs 'targets' (.csv, .parquet or .xlsx) "
        f"beside its projects and lines; found: {listing}"
    )
    expected = "projects, lines and targets tables"
    return located_error(
        msg, source_file=path, value=listing, check="missing_file", expected=expected
    )


def _sheet_wanted(table: str, sheets: list[str]) -> str:
    """What a book without the sheet of ``table`` should hold, naming the sheets it
    does hold (a renamed 明细表 is found by its reader at a glance)."""
    zh, en = BOOK_TABLES[table][1]
    return f"a sheet '{zh}' or '{en}' (the book's sheets: {', '.join(sheets) or 'none'})"


def read_request_book(
    path: str | Path, *, sheet: str | None = None, defer: bool = False
) -> RequestBook:
    """Read and check a request book; raise one :class:`InputError` with every problem.

    Parameters
    ----------
    path
        A workbook with the sheets 项目/明细/绩效目标, a folder of ``projects``,
        ``lines`` and ``targets`` tables, or a single-sheet request file.
    sheet
        The sheet of a single-sheet request workbook (default: the first).
    defer
        Keep the cell errors in ``book.errors`` (their cells blanked) instead of
        raising them, so that the review reports them together with its own
        (:func:`~costperf.review.batch.engine.review_book`). A table that cannot be
        read at all still raises here.

    Returns
    -------
    RequestBook
        Validated frames; ``has_targets`` False when there is no targets table (the
        target gate then does not apply).
    """
    path = Path(path)
    sources = _sources(path, sheet)
    if sources is None:  # one sheet: each request a project of its own
        requests, errors = read_validated(path, REQUESTS, sheet=sheet)
        book = book_from_requests(without_repeated_keys(requests, errors))
        book, problems = check_book(book)
        return _finish(book, [errors, problems], str(path), [path], defer)
    frames, failed, found = {}, [], []
    for table, (file, sheet_name) in sources.items():
        try:
            frame, errors = read_validated(  # a missing column: the other checks still run
                file, BOOK_TABLES[table][0], sheet=sheet_name, blank_missing=True
            )
        except InputError as exc:  # read every table, then report all of them
            failed.append(exc)
            continue
        frames[table] = without_repeated_keys(frame, errors) if table == "projects" else frame
        found.append(errors)
    if failed:  # the tables that could be read have their own checks reported too
        checks = [check_table(table, frame)[1] for table, frame in frames.items()]
        raise_all(failed, [merge_problems([*found, *checks])], str(path))  # a cell once
    has_targets = "targets" in frames
    if not has_targets:
        import pandas as pd

        frames["targets"] = pd.DataFrame(
            columns=["project_id", "category", "indicator", "unit", "target"]
        )
    book = RequestBook(
        frames["projects"], frames["lines"], frames["targets"], has_targets=has_targets
    )
    book, problems = check_book(book)
    files = sorted({f for f, _ in sources.values()})
    return _finish(book, [*found, problems], str(path), files, defer)


def _finish(
    book: RequestBook, found: list[pd.DataFrame], where: str, files: list[Path], defer: bool
) -> RequestBook:
    from dataclasses import replace

    errors = merge_problems(found)
    errors = errors[errors["severity"] != "warning"] if len(errors) else errors
    if not defer:
        raise_all([], [errors], where)
    elif len(errors):
        book = replace(book, errors=errors.reset_index(drop=True))
    return _with_sources(book, files)


def _with_sources(book: RequestBook, files: list[Path]) -> RequestBook:
    from dataclasses import replace

    return replace(book, sources=tuple(str(f) for f in files))
