"""Readers: the only code that opens data files.

``read_table`` returns raw cells (text stays text) with the location of every row, so
validation can point at ``file, sheet, row N, column 'X'`` exactly as the user sees it.
Table readers (``read_projects`` ...) map Chinese/English headers to canonical names,
validate against the schema and raise one :class:`InputError` listing every problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from costperf.columns import (
    UNIT_SCALES,
    canonical_name,
    header_lookup,
    normalise_header,
    split_unit,
)
from costperf.errors import LOCATION, InputError, located_error, raise_if_problems
from costperf.schemas import LINE_ITEMS, OUTPUTS, PROJECTS, Schema, concat_problems, table_problem

TEXT_ENCODINGS = ("utf-8-sig", "gb18030")
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


def read_table(
    path: str | Path, *, sheet: str | None = None, header_row: int | None = None
) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a frame of raw cells.

    Parameters
    ----------
    path
        The file. CSV may be UTF-8 (with or without BOM) or GBK/GB18030.
    sheet
        Excel sheet name (default: the first sheet).
    header_row
        1-based row number of the header in the file. Default: detected as the first row
        naming at least two known columns (so merged title rows above it are skipped),
        else the first non-blank row.

    Returns
    -------
    DataFrame
        One column per header, plus ``source_file``, ``sheet`` and ``source_row`` (the row
        number the user sees). Fully blank rows and columns are dropped.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: file not found"
        raise located_error(
            msg, source_file=path, expected="an existing data file", check="file_not_found"
        )
    if path.is_dir():
        msg = f"{path}: is a folder, expected a data file (.csv, .xlsx, .parquet)"
        raise located_error(
            msg,
            source_file=path,
            check="not_a_file",
            expected="a data file (.csv, .xlsx, .parquet), not a folder",
        )
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        grid, sheet_name = _read_excel_grid(path, sheet)
    elif suffix in {".csv", ".txt", ".tsv"}:
        grid, sheet_name = _read_csv_grid(path, sep="\t" if suffix == ".tsv" else ","), ""
    elif suffix in {".parquet", ".pq"}:
        return _read_parquet(path)
    else:
        msg = f"{path}: unsupported file type '{suffix}'; use .csv, .xlsx or .parquet"
        raise located_error(
            msg,
            source_file=path,
            value=suffix,
            check="unsupported_file_type",
            expected="a .csv, .xlsx or .parquet file",
        )
    return _grid_to_frame(grid, path, sheet_name, header_row)


def _read_csv_grid(path: Path, *, sep: str) -> pd.DataFrame:
    last_error: Exception | None = None
    with path.open("rb") as fh:
        utf16 = fh.read(2) in (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text"
    for encoding in ("utf-16",) if utf16 else TEXT_ENCODINGS:
        options = dict(
            sep=sep,
            header=None,
            dtype=str,
            encoding=encoding,
            keep_default_na=False,
            skip_blank_lines=False,
        )
        try:
            try:  # the C parser is about 5x faster ...
                return pd.read_csv(path, **options)
            except pd.errors.ParserError:  # ... the python one words a bad row the same way
                return pd.read_csv(path, engine="python", **options)
        except UnicodeDecodeError as exc:
            last_error = exc
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
        except (pd.errors.ParserError, csv_error()) as exc:
            raise _csv_parse_error(path, exc) from exc
    msg = f"{path}: text encoding not recognised (tried UTF-8 and GBK/GB18030): {last_error}"
    raise located_error(
        msg,
        source_file=path,
        check="unknown_encoding",
        expected="text in UTF-8 or GBK/GB18030 (save as CSV UTF-8)",
    )


def _csv_parse_error(path: Path, exc: Exception) -> InputError:
    """Say which row of a CSV is malformed (pandas: 'Expected 9 fields in line 5, saw 11')."""
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


def _read_excel_grid(path: Path, sheet: str | None) -> tuple[pd.DataFrame, str]:
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
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            if not names:
                msg = f"{path}: the workbook has no sheets"
                raise located_error(
                    msg,
                    source_file=path,
                    check="empty_table",
                    expected="a sheet with a header row and data rows",
                )
            sheet = names[0]
        elif sheet not in names:
            msg = f"{path}: no sheet '{sheet}'; sheets are: {', '.join(names)}"
            raise located_error(
                msg,
                source_file=path,
                sheet=str(sheet),
                value=sheet,
                check="unknown_sheet",
                expected=f"one of the sheets: {', '.join(names)}",
            )
        grid = pd.read_excel(book, sheet_name=sheet, header=None, dtype=object)
    return grid, sheet


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any failure to open is the user's file
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
    return frame


def _is_blank(grid: pd.DataFrame) -> pd.DataFrame:
    as_text = grid.astype(object).where(grid.notna(), "").astype(str)
    return as_text.apply(lambda col: col.str.strip().eq(""))


def detect_header_row(grid: pd.DataFrame) -> int:
    """0-based index of the header: the first row naming two or more known columns."""
    lookup = header_lookup()
    blank = _is_blank(grid)
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
    grid: pd.DataFrame, path: Path, sheet: str, header_row: int | None
) -> pd.DataFrame:
    where = f"{path}" + (f", sheet '{sheet}'" if sheet else "")
    located = {"source_file": path, "sheet": sheet}
    blank_grid = _is_blank(grid) if not grid.empty else None  # one pass over every cell
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
        head = detect_header_row(grid.head(30))  # it looks at the first 30 rows only
    headers = grid.iloc[head].tolist()
    body = grid.iloc[head + 1 :].copy()
    body["source_row"] = body.index + 1  # grid rows are 0-based positions of file rows
    blank = blank_grid.iloc[head + 1 :]
    body = body.loc[~blank.all(axis=1)]
    keep = [i for i, h in enumerate(headers) if not _blank_cell(h)]
    dropped_with_data = (
        [i for i in range(len(headers)) if i not in keep and not blank.iloc[:, i].all()]
        if len(body)
        else []
    )
    if dropped_with_data:
        col = dropped_with_data[0] + 1
        has_data = ~blank.iloc[:, col - 1].reindex(body.index)
        first = int(body.loc[has_data, "source_row"].iloc[0])
        msg = (
            f"{where}, row {head + 1}, column {col}: the header cell is blank but the "
            f"column holds data (first in row {first}); expected a column name"
        )
        raise located_error(
            msg,
            **located,
            row=head + 1,
            column=f"column {col}",
            check="blank_header",
            expected="a column name",
        )
    names = [str(headers[i]).strip() for i in keep]
    frame = body.iloc[:, keep].copy()
    frame.columns = names
    frame["source_row"] = body["source_row"].to_numpy()
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        msg = f"{where}, row {head + 1}: the column '{dup}' appears twice in the header"
        raise located_error(
            msg,
            **located,
            row=head + 1,
            column=str(dup),
            check="duplicate_column",
            expected="each column once",
        )
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
    return frame


def _blank_cell(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or not str(value).strip()


def map_headers(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Rename Chinese/English headers to canonical names.

    Returns the renamed frame (original headers in ``attrs['headers']``) and a scale per
    canonical column implied by a unit in its header (``金额（万元）`` -> 10000).
    Two headers mapping to one canonical column is an error.
    """
    renames, scales, seen = {}, {}, {}
    for col in frame.columns:
        if col in LOCATION:
            continue
        name, scale = canonical_name(col)
        if name is None:
            continue
        if name in seen:
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
            raise located_error(
                msg,
                source_file=source,
                sheet=sheet,
                column=str(col),
                row=header_row,
                check="duplicate_column",
                expected=f"one column meaning '{name}' (also '{seen[name]}')",
            )
        seen[name] = col
        renames[col] = name
        if scale != 1.0 or split_unit(str(col))[1].lower() in UNIT_SCALES:
            scales[name] = scale  # an explicit unit, even 元, beats the config's amount_unit
    out = frame.rename(columns=renames)
    out.attrs = dict(frame.attrs)
    out.attrs["headers"] = {v: k for k, v in renames.items()}
    return out, scales


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
    raw = read_table(path, sheet=sheet, header_row=header_row)
    frame, scales = map_headers(raw)
    typed, problems = schema.validate(frame)
    where = f"{path}" + (f", sheet '{sheet}'" if sheet else "")
    raise_if_problems(problems, where)
    money = [c for c in ("amount", "unit_price") if c in typed.columns]
    for col in money:
        factor = scales.get(col, amount_scale)
        if factor != 1.0:
            typed[col] = typed[col] * factor
    typed.attrs["warnings"] = (
        problems[problems["severity"] == "warning"] if len(problems) else problems
    )
    return typed


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
    return frame.attrs.get("warnings", concat_problems([]))


__all__ = [
    "map_headers",
    "read_checked",
    "read_line_items",
    "read_outputs",
    "read_projects",
    "read_table",
    "table_problem",
    "detect_header_row",
]
