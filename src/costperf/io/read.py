"""Readers: the only code that opens data files.

``read_table`` returns raw cells (text stays text) with the location of every row, so
validation can point at ``file, sheet, row N, column 'X'`` exactly as the user sees it.
Table readers (``read_projects`` ...) map Chinese/English headers to canonical names,
validate against the schema and raise one :class:`InputError` listing every problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from costperf.columns import (
    UNIT_SCALES,
    canonical_name,
    header_lookup,
    normalise_header,
    split_unit,
)
from costperf.errors import (
    LOCATION,
    InputError,
    held_problems,
    located_error,
    make_problems,
    merge_errors,
    problems_held,
    raise_if_problems,
)
from costperf.io.guard import (
    Limits,
    SheetScan,
    TextScan,
    check_input_file,
    check_sheet_extent,
    check_workbook,
    expanded_too_large,
    hidden_cell_problems,
    input_limits,
    mixed_encoding_problems,
    scan_text,
    too_many_cells,
)
from costperf.io.write import FORMULA_STARTS, shorten_text
from costperf.schemas import (
    LINE_ITEMS,
    OUTPUTS,
    PROJECTS,
    Schema,
    column_unit,
    concat_problems,
    merge_problems,
    shown_header,
    table_problem,
)

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


def read_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    defer_hidden: bool = False,
) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a frame of raw cells.

    Parameters
    ----------
    path
        The file: a regular file within the input limits (:func:`guard.input_limits`).
        CSV may be UTF-8 (with or without BOM), GBK/GB18030 or UTF-16 (Excel's
        "Unicode text", tab-separated).
    sheet
        Excel sheet name (default: the first visible worksheet; hidden sheets are
        skipped, and a warning says which sheet was read).
    header_row
        1-based row number of the header in the file. Default: detected as the first row
        naming at least two known columns (so merged title rows above it are skipped),
        else the first non-blank row.

    Returns
    -------
    DataFrame
        One column per header, plus ``source_file``, ``sheet`` and ``source_row`` (the row
        number the user sees). Fully blank rows and columns are dropped.  Warnings about
        the reading (which sheet) are in ``attrs['read_warnings']`` (problem rows as
        dicts: a frame in ``attrs`` would break pandas' concat).

    A workbook's cells a reader shows as blanks (a formula without a cached value, an
    Excel error, merged data cells) raise :class:`InputError`; with ``defer_hidden``
    they are left blank and their problems put in ``attrs['hidden_problems']`` instead,
    for a caller that goes on checking (:func:`read_validated`).
    """
    path = Path(path)
    limits = input_limits()
    check_input_file(path, limits)
    suffix = path.suffix.lower()
    warnings, hidden, restore, long_cells = concat_problems([]), None, True, True
    if suffix in EXCEL_SUFFIXES:
        grid, sheet_name, warnings, hidden = _read_excel_grid(path, sheet, limits)
    elif suffix in {".csv", ".txt", ".tsv"}:
        sep = "\t" if suffix == ".tsv" else ("," if suffix == ".csv" else None)
        grid, scan = _read_csv_grid(path, sep=sep, limits=limits, defer=defer_hidden)
        sheet_name, restore = "", scan.apostrophes
        long_cells = scan.longest_line > limits.max_cell_chars  # else no cell can be
    elif suffix in {".parquet", ".pq"}:
        return _read_parquet(path, limits)
    else:
        msg = f"{path}: unsupported file type '{suffix}'; use .csv, .xlsx or .parquet"
        raise located_error(
            msg,
            source_file=path,
            value=suffix,
            check="unsupported_file_type",
            expected="a .csv, .xlsx or .parquet file",
        )
    frame = _grid_to_frame(
        grid,
        path,
        sheet_name,
        header_row,
        limits=limits,
        hidden=hidden,
        defer_hidden=defer_hidden,
        restore=restore,
        long_cells=long_cells,
    )
    frame.attrs["read_warnings"] = warnings.to_dict("records")
    if suffix not in EXCEL_SUFFIXES and scan.bad_lines:  # deferred: the caller reports
        garbled = mixed_encoding_problems(path, scan)
        rows = frame["source_row"] if "source_row" in frame else pd.Series(dtype=float)
        if rows.empty or min(scan.bad_lines) < rows.min():  # the header itself: unreadable
            raise_if_problems(garbled, f"{path} (text encoding)")
        records = garbled.to_dict("records")
        frame.attrs["hidden_problems"] = [*frame.attrs.get("hidden_problems", []), *records]
        frame.attrs["garbled_rows"] = list(scan.bad_lines)
    return frame


def _read_csv_grid(
    path: Path, *, sep: str | None, limits: Limits, defer: bool = False
) -> tuple[pd.DataFrame, TextScan]:
    """Parse a text table after :func:`guard.scan_text` chose its encoding and separator.

    UTF-8 with some lines in another encoding (GBK pasted in) raises one problem per
    such line; with ``defer`` (and every such line known) those lines are read with
    their bytes replaced, and :func:`read_table` leaves the problems to the caller, who
    goes on checking the other rows.
    """
    scan = scan_text(path, sep, limits)
    deferred = defer and scan.bad_lines and len(scan.bad_lines) == scan.bad_count
    if scan.bad_lines and not deferred:
        problems = mixed_encoding_problems(path, scan)
        raise_if_problems(problems, f"{path} (text encoding)")
    if scan.max_cells > limits.max_cells:
        raise too_many_cells(
            path, "", scan.lines, scan.separators // max(scan.lines, 1) + 1, limits
        )
    options = dict(
        sep=scan.sep,
        header=None,
        dtype=str,
        encoding=scan.encoding,
        keep_default_na=False,
        skip_blank_lines=False,
    )
    if deferred:
        options["encoding_errors"] = "replace"
    try:
        if scan.sep_line:  # Excel's "sep=;" line: not data, read as a blank row 1
            options["skiprows"] = 1
        try:  # the C parser is about 5x faster ...
            grid = pd.read_csv(path, **options)
        except pd.errors.ParserError as first:  # ... the python one reads what it cannot
            try:
                grid = pd.read_csv(path, engine="python", **options)
            except (pd.errors.ParserError, csv_error()):  # the C parser names the row
                raise first from None
        if scan.sep_line:
            blank = pd.DataFrame([[""] * grid.shape[1]], columns=grid.columns)
            grid = pd.concat([blank, grid], ignore_index=True)
        return grid, scan
    except UnicodeDecodeError as exc:
        msg = f"{path}: text encoding not recognised (tried UTF-8 and GBK/GB18030): {exc}"
        raise located_error(
            msg,
            source_file=path,
            check="unknown_encoding",
            expected="text in UTF-8 or GBK/GB18030 (save as CSV UTF-8)",
        ) from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), scan
    except (pd.errors.ParserError, csv_error()) as exc:
        raise _csv_parse_error(path, exc) from exc


def _csv_parse_error(path: Path, exc: Exception) -> InputError:
    """Say which row of a CSV is malformed (pandas: 'Expected 9 fields in line 5, saw 11',
    lines of the file, skipped ones counted)."""
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if found is None:
        msg = f"{path}: not a readable CSV file ({exc})"
        return located_error(
            msg, source_file=path, check="malformed_csv", expected="a comma-separated table"
        )
    width, row, cells = (int(g) for g in found.groups())
    msg = (
        f"{path}, row {row}: {cells} cells, but the rows above have {width}; "
        f"expected {width} cells (is a comma inside a value missing its quotes?)"
    )
    return located_error(
        msg,
        source_file=path,
        row=row,
        value=f"{cells} cells",
        expected=f"{width} cells, as in the rows above",
        check="malformed_csv",
    )


def csv_error() -> type[Exception]:
    import csv

    return csv.Error


def _read_excel_grid(
    path: Path, sheet: str | None, limits: Limits
) -> tuple[pd.DataFrame, str, pd.DataFrame, SheetScan | None]:
    """The chosen sheet's cells, its name, reading warnings and what the cells hide
    (formulas without values, Excel errors, merged ranges: :func:`check_sheet_extent`).

    The workbook's zip directory, XML prologs and the chosen sheet's XML are checked
    (:mod:`costperf.io.guard`) before calamine parses anything.
    """
    workbook = check_workbook(path, limits)
    try:
        book = pd.ExcelFile(path, engine="calamine")
    except Exception as exc:  # noqa: BLE001 - any failure to open is the user's file
        msg = f"{path}: not a readable Excel workbook ({type(exc).__name__}: {exc})"
        raise located_error(
            msg,
            source_file=path,
            check="unreadable_workbook",
            expected="an Excel workbook (.xlsx) that Excel can open",
        ) from exc
    with book:
        sheets = _sheet_states(book)
        sheet, warnings = _choose_sheet(path, sheet, sheets)
        hidden = check_sheet_extent(workbook, sheet, limits) if workbook else None
        try:
            grid = pd.read_excel(  # a cell holding the text "nan" or "NA" is that text
                book, sheet_name=sheet, header=None, dtype=object, keep_default_na=False
            )
        except Exception as exc:  # noqa: BLE001 - a damaged sheet is the user's file
            msg = (
                f"{path}, sheet '{sheet}': the sheet cannot be read, the workbook is "
                f"damaged ({type(exc).__name__}: {exc})"
            )
            raise located_error(
                msg,
                source_file=path,
                sheet=sheet,
                check="unreadable_workbook",
                expected="a workbook that Excel can open (open and save it again in Excel)",
            ) from exc
    if grid.size > limits.max_cells:
        raise too_many_cells(path, sheet, grid.shape[0], grid.shape[1], limits)
    return grid, sheet, warnings, hidden


def _sheet_states(book: pd.ExcelFile) -> dict[str, str]:
    """Sheet name -> 'visible', 'hidden' or 'chart' (a sheet without cells)."""
    names = [str(n) for n in book.sheet_names]
    try:
        metadata = book.book.sheets_metadata
    except AttributeError:  # another engine: every sheet counts as visible
        return dict.fromkeys(names, "visible")
    states = {}
    for meta in metadata:
        if "WorkSheet" not in str(meta.typ):
            states[str(meta.name)] = "chart"
        elif "Visible" in str(meta.visible) and "Hidden" not in str(meta.visible):
            states[str(meta.name)] = "visible"
        else:
            states[str(meta.name)] = "hidden"
    return {n: states.get(n, "visible") for n in names}


def _choose_sheet(
    path: Path, sheet: str | None, states: dict[str, str]
) -> tuple[str, pd.DataFrame]:
    """The sheet to read and a warning saying which (hidden sheets are skipped)."""
    names = list(states)
    if sheet is not None:
        if sheet not in states:
            msg = f"{path}: no sheet '{sheet}'; sheets are: {', '.join(names)}"
            raise located_error(
                msg,
                source_file=path,
                sheet=str(sheet),
                value=sheet,
                check="unknown_sheet",
                expected=f"one of the sheets: {', '.join(names)}",
            )
        if states[sheet] != "hidden":
            return sheet, concat_problems([])
        note = f"the sheet '{sheet}' is hidden in the workbook; it was read as asked"
        return sheet, _sheet_warning(path, sheet, note, "hidden_sheet")
    visible = [n for n, state in states.items() if state == "visible"]
    if not visible:
        msg = f"{path}: the workbook has no visible worksheet" + (
            f" (hidden: {', '.join(names)}); name one with --sheet" if names else ""
        )
        raise located_error(
            msg,
            source_file=path,
            check="empty_table",
            expected="a visible sheet with a header row and data rows",
        )
    chosen = visible[0]
    if len(names) == 1:
        return chosen, concat_problems([])
    hidden = [n for n, state in states.items() if state == "hidden"]
    note = f"read the sheet '{chosen}', the first visible one of {len(names)}"
    if hidden:
        note += f"; hidden sheets skipped: {', '.join(hidden)}"
    return chosen, _sheet_warning(path, chosen, note, "sheet_read", ", ".join(hidden))


def _sheet_warning(
    path: Path, sheet: str, note: str, check: str, skipped: str = ""
) -> pd.DataFrame:
    """A note on the sheet read (``value``: the hidden sheets skipped, if any)."""
    return make_problems(
        [
            {
                "source_file": str(path),
                "sheet": sheet,
                "value": skipped,
                "expected": note,
                "check": check,
                "severity": "warning",
            }
        ]
    )


def _read_parquet(path: Path, limits: Limits) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        rows, columns = meta.num_rows, meta.num_columns
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except Exception as exc:  # noqa: BLE001 - any failure to open is the user's file
        msg = f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})"
        raise located_error(
            msg, source_file=path, check="unreadable_parquet", expected="a Parquet file"
        ) from exc
    if rows * columns > limits.max_cells:
        raise too_many_cells(path, "", rows, columns, limits)
    if expanded > limits.max_expanded_bytes:
        raise expanded_too_large(path, "data", expanded, limits)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any failure to read is the user's file
        msg = f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})"
        raise located_error(
            msg, source_file=path, check="unreadable_parquet", expected="a Parquet file"
        ) from exc
    if frame.empty:
        msg = f"{path}: the file has no data rows"
        raise located_error(
            msg, source_file=path, check="no_data_rows", expected="at least one data row"
        )
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    frame["source_file"] = str(path)
    frame["sheet"] = ""
    frame["source_row"] = range(1, len(frame) + 1)
    frame.attrs["source"] = (str(path), "")
    text = [c for c in frame.columns[:-3] if _has_text(frame[c])]
    long_cells = _long_cell_problems(frame[text], path, "", limits, rows=frame["source_row"])
    raise_if_problems(long_cells, str(path))
    frame.attrs["read_warnings"] = []
    return frame


def _long_cell_problems(
    cells: pd.DataFrame,
    path: Path,
    sheet: str,
    limits: Limits,
    *,
    rows: pd.Series,
    headers: list[str] | None = None,
) -> pd.DataFrame:
    """One problem per text cell longer than ``limits.max_cell_chars`` (value shortened)."""
    parts = []
    for j in range(cells.shape[1]):
        column = cells.iloc[:, j]
        if not _has_text(column):
            continue
        lengths = column.str.len()
        long = lengths > limits.max_cell_chars
        if not long.any():
            continue
        name = headers[j] if headers is not None else str(cells.columns[j])
        for i in np.flatnonzero(long.to_numpy()):
            parts.append(
                {
                    "source_file": str(path),
                    "sheet": sheet,
                    "source_row": int(rows.iloc[i]),
                    "column": name,
                    "value": shorten_text(column.iloc[i], 60),
                    "expected": (
                        f"text of at most {limits.max_cell_chars:,} characters, got "
                        f"{int(lengths.iloc[i]):,} (set {limits.variable('max_cell_chars')} "
                        "to raise the limit)"
                    ),
                    "check": "cell_too_long",
                }
            )
    return make_problems(parts)


def _is_blank(grid: pd.DataFrame, seen: dict | None = None) -> pd.DataFrame:
    """Blank cells of ``grid``.

    ``seen`` (a dict), if given, receives per column the longest text (``"longest"``)
    and whether any cell starts with an apostrophe (``"quoted"``), computed on the text
    view (Arrow strings in pandas 3: vectorised).
    """
    found = _text_blanks(grid) if grid.shape[0] else None
    blank, longest, quoted = found if found is not None else _blanks_by_column(grid)
    if seen is not None:
        seen["longest"], seen["quoted"] = longest, quoted
    return pd.DataFrame(blank, index=grid.index, columns=grid.columns)


def _blanks_by_column(grid: pd.DataFrame) -> tuple[np.ndarray, list[int], list[bool]]:
    """:func:`_is_blank`'s (blank cells, longest text, apostrophe) column by column."""
    blank = np.empty(grid.shape, dtype=bool)
    longest, quoted = [], []
    for j in range(grid.shape[1]):
        column = grid.iloc[:, j]
        if isinstance(column.dtype, pd.StringDtype):  # a CSV read as text: no copy
            text = column.fillna("") if column.hasnans else column
        else:
            text = column.astype(object).where(column.notna(), "").astype(str)
        longest.append(int(text.str.len().max()) if len(text) else 0)
        quoted.append(bool(text.str.startswith("'").any()))
        blank[:, j] = text.str.strip().eq("").to_numpy(dtype=bool)
    return blank, longest, quoted


def _text_blanks(grid: pd.DataFrame) -> tuple[np.ndarray, list[int], list[bool]] | None:
    """:func:`_blanks_by_column` for a grid of Arrow text columns (a CSV read as text),
    all columns in one Arrow array: the same kernels (``utf8_trim_whitespace``,
    ``utf8_length``) pandas' string methods call, once per grid instead of per column.
    None for any other grid."""
    dtypes = grid.dtypes.tolist()
    if not dtypes or not all(
        isinstance(d, pd.StringDtype) and d.storage == "pyarrow" for d in dtypes
    ):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = [pa.chunked_array(pa.array(grid.iloc[:, j].array)) for j in range(grid.shape[1])]
    text = pa.chunked_array(
        [chunk for column in columns for chunk in column.cast(pa.large_string()).chunks],
        type=pa.large_string(),
    )
    text = pc.fill_null(text, "")
    shape = (grid.shape[1], grid.shape[0])  # column after column
    lengths = pc.utf8_length(text).to_numpy().reshape(shape)
    starts = pc.starts_with(text, "'").to_numpy(zero_copy_only=False).reshape(shape)
    empty = pc.equal(pc.utf8_trim_whitespace(text), "").to_numpy(zero_copy_only=False)
    blank = empty.reshape(shape).T
    return blank, lengths.max(axis=1).tolist(), starts.any(axis=1).tolist()


def detect_header_row(grid: pd.DataFrame, blank: pd.DataFrame | None = None) -> int:
    """0-based index of the header: the first row naming two or more known columns.

    ``blank``: the grid's blank cells (:func:`_is_blank`) when already known."""
    lookup = header_lookup()
    blank = _is_blank(grid) if blank is None else blank
    first_nonblank = None
    for i in range(min(len(grid), 30)):
        if blank.iloc[i].all():
            continue
        if first_nonblank is None:
            first_nonblank = i
        cells = [
            c for c, b in zip(grid.iloc[i].tolist(), blank.iloc[i].tolist(), strict=True) if not b
        ]
        known = sum(
            canonical_name(c)[0] is not None or normalise_header(c) in lookup for c in cells
        )
        if known >= 2:
            return i
    return 0 if first_nonblank is None else first_nonblank


def _grid_to_frame(
    grid: pd.DataFrame,
    path: Path,
    sheet: str,
    header_row: int | None,
    *,
    limits: Limits | None = None,
    hidden: SheetScan | None = None,
    defer_hidden: bool = False,
    restore: bool = True,
    long_cells: bool = True,
) -> pd.DataFrame:
    where = f"{path}" + (f", sheet '{sheet}'" if sheet else "")
    located = {"source_file": path, "sheet": sheet}
    limits = limits or input_limits()
    hidden_found = (  # before anything else: such cells would read as blanks
        _hidden_cells(grid, path, sheet, header_row, hidden) if hidden is not None else None
    )
    if hidden_found is not None and not hidden_found.empty and not defer_hidden:
        raise_if_problems(hidden_found, where)
    seen: dict[str, list] = {"longest": [], "quoted": []}
    blank_grid = _is_blank(grid, seen) if not grid.empty else None  # one pass over all
    if grid.empty or blank_grid.all().all():
        msg = (
            f"{where}: the {'sheet' if sheet else 'file'} is empty (expected a header row "
            f"and data rows)"
        )
        raise located_error(
            msg, **located, check="empty_table", expected="a header row and data rows"
        )
    if header_row is not None:
        if header_row < 1 or header_row > len(grid):
            msg = f"{where}: header_row {header_row} is outside the sheet (1..{len(grid)})"
            raise located_error(
                msg,
                **located,
                column="header_row",
                value=header_row,
                check="bad_header_row",
                expected=f"a row in 1..{len(grid)}",
            )
        head = header_row - 1
    else:
        head = detect_header_row(grid.head(30), blank_grid.head(30))  # the first 30 rows
    headers = grid.iloc[head].tolist()
    wide = [j for j, n in enumerate(seen["longest"]) if n > limits.max_cell_chars]
    if long_cells and wide:
        names = [str(h) if not _blank_cell(h) else f"column {j + 1}" for j, h in enumerate(headers)]
        rows = pd.Series(grid.index + 1)
        too_long = _long_cell_problems(
            grid.iloc[:, wide], path, sheet, limits, rows=rows, headers=[names[j] for j in wide]
        )
        raise_if_problems(too_long, where)
    body = grid.iloc[head + 1 :].copy()
    quoted = [j for j, q in enumerate(seen["quoted"]) if q]
    if restore and quoted:
        body = _restore_quoted(body, quoted)
    body["source_row"] = body.index + 1  # grid rows are 0-based positions of file rows
    blank = blank_grid.iloc[head + 1 :]
    body = body.loc[~blank.all(axis=1)]
    keep = [i for i, h in enumerate(headers) if not _blank_cell(h)]
    dropped_with_data = (
        [i for i in range(len(headers)) if i not in keep and not blank.iloc[:, i].all()]
        if len(body)
        else []
    )
    # every problem of the header row at once: blank names over data, repeated names,
    # and the hidden cells (an Excel error, a formula without value) a blank name hides
    hidden_header = {
        c for r, c, _ in [*hidden.error_cells, *hidden.formulas_without_value] if r == head + 1
    } if hidden is not None else set()  # fmt: skip
    header_errors = []
    for index in dropped_with_data:
        col = index + 1
        if col in hidden_header:  # reported as the error or formula it holds
            continue
        has_data = ~blank.iloc[:, index].reindex(body.index)
        first = int(body.loc[has_data, "source_row"].iloc[0])
        msg = (
            f"{where}, row {head + 1}, column {col}: the header cell is blank but the "
            f"column holds data (first in row {first}); expected a column name"
        )
        header_errors.append(
            located_error(
                msg,
                **located,
                row=head + 1,
                column=f"column {col}",
                check="blank_header",
                expected="a column name",
            )
        )
    names = [str(headers[i]).strip() for i in keep]
    frame = body.iloc[:, keep].copy()
    frame.columns = names
    frame["source_row"] = body["source_row"].to_numpy()
    for dup in pd.unique(frame.columns[frame.columns.duplicated()]):
        msg = f"{where}, row {head + 1}: the column '{dup}' appears twice in the header"
        header_errors.append(
            located_error(
                msg,
                **located,
                row=head + 1,
                column=str(dup),
                check="duplicate_column",
                expected="each column once",
            )
        )
    if dropped_with_data or header_errors:
        if hidden_found is not None and not hidden_found.empty:  # deferred: not lost here
            try:
                raise_if_problems(hidden_found, where)
            except InputError as exc:
                header_errors.insert(0, exc)
        raise merge_errors(header_errors)
    if frame.empty:
        msg = f"{where}: no data rows below the header (row {head + 1})"
        raise located_error(
            msg,
            **located,
            row=head + 1,
            check="no_data_rows",
            expected="at least one data row below the header",
        )
    frame.insert(0, "sheet", sheet)
    frame.insert(0, "source_file", str(path))
    frame = frame.reset_index(drop=True)
    frame.attrs["source"] = (str(path), sheet)
    frame.attrs["header_row"] = head + 1
    if hidden_found is not None and not hidden_found.empty:  # deferred: the caller reports
        frame.attrs["hidden_problems"] = hidden_found.to_dict("records")
        frame.attrs["merged_covered"] = _merged_covered(grid, head, hidden)
        _fill_merged(frame, grid, head, hidden)
    return frame


def _fill_merged(frame: pd.DataFrame, grid: pd.DataFrame, head: int, hidden: SheetScan) -> None:
    """Give each cell a merged data range covers its first cell's value, in place.

    The merge is reported (and the run refused); the checks that follow then see what
    the user will have after following its advice (unmerge, fill every cell), not
    blanks to report a second time as missing facts. A range starting in or above the
    header row (a title) fills nothing."""
    position = {int(r): i for i, r in enumerate(frame["source_row"].tolist())}
    for (row1, column1), row, name in _covered_cells(grid, head, hidden):
        at = position.get(row)
        if row1 >= head + 2 and at is not None and name in frame:
            frame.iat[at, frame.columns.get_loc(name)] = grid.iat[row1 - 1, column1 - 1]


#: covered cells of merged ranges remembered, at most (a pathological merge of a whole
#: sheet is still reported; only its follow-on blanks are then reported too)
MAX_COVERED = 100_000


def _header_names(grid: pd.DataFrame, head: int) -> dict[int, str]:
    """Column position -> header text of the grid's header row (blank headers left out)."""
    return {j: str(h) for j, h in enumerate(grid.iloc[head].tolist()) if not _blank_cell(h)}


def _merged_covered(grid: pd.DataFrame, head: int, hidden: SheetScan) -> list[tuple[int, str]]:
    """(sheet row, header) of each data cell a merged range covers, its first cell
    excepted: read as blanks, they are not reported again as missing values."""
    return [(row, name) for _, row, name in _covered_cells(grid, head, hidden)]


def _covered_cells(
    grid: pd.DataFrame, head: int, hidden: SheetScan
) -> list[tuple[tuple[int, int], int, str]]:
    """((first row, first column), sheet row, header) of each data cell a merged range
    covers, its first cell excepted (at most :data:`MAX_COVERED` cells)."""
    names = {j: h.strip() for j, h in _header_names(grid, head).items()}
    covered: list[tuple[tuple[int, int], int, str]] = []
    for row1, column1, row2, column2 in hidden.merged:
        if (row2 - row1 + 1) * (column2 - column1 + 1) + len(covered) > MAX_COVERED:
            continue
        covered += [
            ((row1, column1), row, names[column - 1])
            for row in range(max(row1, head + 2), row2 + 1)
            for column in range(column1, column2 + 1)
            if (row, column) != (row1, column1) and column - 1 in names
        ]
    return covered


def _hidden_cells(
    grid: pd.DataFrame, path: Path, sheet: str, header_row: int | None, hidden: SheetScan
) -> pd.DataFrame | None:
    """Formula cells without cached values, Excel errors and merged data cells: located
    problems, never blanks (None when there are none)."""
    if not (hidden.formulas_without_value or hidden.error_cells or hidden.merged):
        return None
    headers: dict[int, str] = {}
    head = -1
    if not grid.empty:
        head = header_row - 1 if header_row else detect_header_row(grid.head(30))
        if 0 <= head < len(grid):
            headers = _header_names(grid, head)
    return hidden_cell_problems(path, sheet, hidden, headers, head + 1)


def _restore_quoted(body: pd.DataFrame, columns: list[int]) -> pd.DataFrame:
    """Drop the apostrophe costperf's exports put before text like ``=x`` or ``-``."""
    for j in columns:
        column = body.iloc[:, j]
        if not _has_text(column):
            continue
        quoted = column.str.startswith("'", na=False)
        if not quoted.any():
            continue
        quoted &= column.str[1:2].isin(FORMULA_STARTS)
        if quoted.any():
            body.isetitem(j, column.where(~quoted, column.str[1:]))
    return body


def _has_text(column: pd.Series) -> bool:
    """Whether an object column holds text (so its ``.str`` methods apply)."""
    if column.dtype != object:
        return pd.api.types.is_string_dtype(column)
    return pd.api.types.infer_dtype(column, skipna=True) in ("string", "mixed", "mixed-integer")


def _blank_cell(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip()


def map_headers(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Rename Chinese/English headers to canonical names.

    Returns the renamed frame (original headers in ``attrs['headers']``) and a scale per
    canonical column implied by a unit in its header (``金额（万元）`` -> 10000).
    Two headers mapping to one canonical column is an error.
    """
    renames, scales, seen, twice = {}, {}, {}, []
    for col in frame.columns:
        if col in LOCATION:
            continue
        name, scale = canonical_name(col)
        if name is None:
            continue
        if name in seen:  # every such pair reported at once, below
            source, sheet = frame.attrs.get("source", ("", ""))
            header_row = frame.attrs.get("header_row")
            where = (
                source
                + (f", sheet '{sheet}'" if sheet else "")
                + (f", row {header_row}" if header_row else "")
            )
            msg = (
                f"{where}: columns '{seen[name]}' and '{col}' both mean '{name}'; keep one of them"
            )
            twice.append(
                located_error(
                    msg,
                    source_file=source,
                    sheet=sheet,
                    column=str(col),
                    row=header_row,
                    check="duplicate_column",
                    expected=f"one column meaning '{name}' (also '{seen[name]}')",
                )
            )
            continue
        seen[name] = col
        renames[col] = name
        if scale != 1.0 or split_unit(str(col))[1].lower() in UNIT_SCALES:
            scales[name] = scale  # an explicit unit, even 元, beats the config's amount_unit
    if twice:
        raise merge_errors(twice)
    out = frame.rename(columns=renames)
    out.attrs = dict(frame.attrs)
    out.attrs["headers"] = {v: k for k, v in renames.items()}
    return out, scales


def scale_money(
    typed: pd.DataFrame, scales: dict[str, float], default: float = 1.0
) -> pd.DataFrame:
    """``typed`` with its money columns (unit ``yuan`` in columns.csv: 申报数, 金额, 单价,
    预算数 ...) in yuan: each times the unit in its header (``申报数（万元）`` -> 10000,
    :func:`map_headers`' ``scales``), else ``default`` (a table's configured unit).

    The product is rounded to 1e-6 yuan, so that 2.212 万元 is 22120 yuan, not the
    22120.000000000004 of binary arithmetic (shown as such in every output)."""
    for col in typed.columns:
        factor = scales.get(col, default)
        if factor != 1.0 and column_unit(str(col)) == "yuan":
            scaled = typed[col] * factor
            numeric = pd.api.types.is_float_dtype(scaled)
            typed[col] = scaled.round(6) if numeric else scaled
    return typed


def read_checked(
    path: str | Path,
    schema: Schema,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    amount_scale: float = 1.0,
) -> pd.DataFrame:
    """Read a table, map its headers, validate it against ``schema``; raise on problems.

    ``amount_scale`` multiplies money columns (10000 when the config says 万元); a unit
    in a header (``金额（万元）``) takes precedence for its column.
    """
    typed, errors = read_validated(
        path, schema, sheet=sheet, header_row=header_row, amount_scale=amount_scale
    )
    raise_if_problems(errors, f"{path}" + (f", sheet '{sheet}'" if sheet else ""))
    return typed


def read_validated(
    path: str | Path,
    schema: Schema,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    amount_scale: float = 1.0,
    blank_missing: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`read_checked` that returns the cell errors instead of raising them.

    A caller that goes on checking (so that a run reports all its problems at once)
    gets the typed frame with every cell in error blanked, and the errors. A table that
    cannot be typed at all (a required column missing) still raises; with
    ``blank_missing`` a missing column outside the table's key is a blank column
    instead (its problem among the errors), so the checks that follow still run.
    """
    raw = read_table(path, sheet=sheet, header_row=header_row, defer_hidden=True)
    frame, scales = map_headers(raw)
    typed, problems = schema.validate(frame)
    where = f"{path}" + (f", sheet '{sheet}'" if sheet else "")
    errors = problems[problems["severity"] != "warning"] if len(problems) else problems
    unreported = None  # a garbled row's bad cells: blanked, reported as its encoding only
    if raw.attrs.get("garbled_rows") and not errors.empty:
        garbled = errors["source_row"].astype(str).isin({str(r) for r in raw.attrs["garbled_rows"]})
        unreported, errors = errors[garbled], errors[~garbled]
    # a hidden cell (a formula without value, an Excel error, a merge) first: the blank
    # it reads as is not reported again
    if raw.attrs.get("hidden_problems"):
        errors = merge_problems([make_problems(raw.attrs["hidden_problems"]), errors])
    if raw.attrs.get("merged_covered") and not errors.empty:  # reported as the merge
        covered = {(str(row), name) for row, name in raw.attrs["merged_covered"]}
        cells = zip(errors["source_row"], errors["column"], strict=True)
        at = pd.Series([(str(r), str(c)) in covered for r, c in cells], index=errors.index)
        errors = errors[~(at & errors["check"].eq("missing_value"))]
    if (errors["check"] == "missing_column").any():
        absent = [c for c in schema.required if c not in typed.columns]
        if not blank_missing or not absent or set(absent) & set(schema.key):
            raise_if_problems(errors, where)
        typed = typed.assign(
            **{c: pd.Series(pd.NA, index=typed.index, dtype=object) for c in absent}
        )
    typed = blank_cells(
        typed, errors if unreported is None else concat_problems([errors, unreported])
    )
    typed = scale_money(typed, scales, amount_scale)
    warnings = problems[problems["severity"] == "warning"] if len(problems) else problems
    read_warnings = make_problems(raw.attrs.get("read_warnings", []))
    typed.attrs["warnings"] = held_problems(concat_problems([read_warnings, warnings]))
    return typed, errors.reset_index(drop=True)


def without_repeated_keys(frame: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows the schema found repeating an earlier row's key.

    For the checks that follow a deferred read: a project counted twice would be
    checked (and reviewed) twice. The rows stay reported in ``errors``.
    """
    if errors.empty or "source_row" not in frame:
        return frame
    again = set(errors.loc[errors["check"] == "duplicate_id", "source_row"])
    if not again:
        return frame
    kept = frame[~frame["source_row"].isin(again)]
    kept.attrs = dict(frame.attrs)
    return kept


def blank_cells(frame: pd.DataFrame, problems: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the cells named by ``problems`` (source_row, column) set blank.

    Checks that run after the schema's then see a missing value where the schema found
    a bad one (the same cell, reported once), never the bad value itself; the source
    rows blanked per column are in ``attrs["blanked"]``, for a check of a fact derived
    from them (an amount from quantity x unit price) not to report it missing too.
    """
    if problems.empty or "source_row" not in frame:
        return frame
    out = frame.copy()
    headers = {shown_header(frame, str(c)): c for c in frame.columns}
    rows = frame["source_row"]
    blanked = dict(frame.attrs.get("blanked", {}))
    for column, found in problems.groupby("column", sort=False):
        name = headers.get(column, column)
        if name not in out.columns or name in LOCATION:
            continue
        hit = rows.isin(set(found["source_row"]))
        if hit.any():
            out[name] = out[name].where(~hit)
            blanked[name] = sorted({*blanked.get(name, ()), *rows[hit].tolist()})
    if blanked:  # for the checks that would take a blank for a missing fact
        out.attrs["blanked"] = blanked
    return out


def read_projects(path: str | Path, **options: object) -> pd.DataFrame:
    """Read the projects table (项目): one row per project or contract."""
    return read_checked(path, PROJECTS, **options)


def read_line_items(path: str | Path, **options: object) -> pd.DataFrame:
    """Read the line-items table (明细): cost lines of each project."""
    return read_checked(path, LINE_ITEMS, **options)


def read_outputs(path: str | Path, **options: object) -> pd.DataFrame:
    """Read the outputs table (产出/绩效指标): indicators of each project."""
    return read_checked(path, OUTPUTS, **options)


def problems_in(frame: pd.DataFrame) -> pd.DataFrame:
    """Warnings recorded by the reader for ``frame``."""
    return problems_held(frame.attrs.get("warnings", ()))


__all__ = [
    "map_headers",
    "scale_money",
    "read_checked",
    "read_line_items",
    "read_outputs",
    "read_projects",
    "read_table",
    "table_problem",
    "detect_header_row",
]
