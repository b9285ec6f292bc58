"""The one workbook writer: every sheet formatted by column type (xlsxwriter).

Column headers are display labels (:func:`costperf.columns.to_display`). Each column's
number format comes from its ``dtype`` and ``unit`` in ``columns.csv``
(:func:`costperf.report.formats.excel_format`: yuan ``#,##0.00``, rates ``0.00%``,
counts ``#,##0``, years and line numbers ``0``, p-values ``0.00E+00``). Widths are fitted
to the content; long texts (reasons, notes) wrap in a wide column and their rows are as
tall as the wrapped text. The header row is frozen and filtered, and every sheet prints
on A4 landscape, one page wide, with the header repeated on each page. A sheet too wide
to read on one page names its ``print_columns``: they come first and are the print
area; the other columns stay on screen. Text cells stay text
(:func:`costperf.io.write.neutralise_frame`).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool, is_float, is_integer, is_scalar

from costperf.columns import to_display
from costperf.io.write import atomic_path, excel_writer, neutralise_frame, neutralise_text
from costperf.report import sheetdata
from costperf.report.formats import DATE_FORMAT, excel_dates, excel_format, label_codes
from costperf.report.sheetdata import ColumnSheet

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

#: text columns printed wrapped in a wide column (reasons, notes).
LONG_TEXT = ("reason", "manual_review_reason", "standard_lines", "note", "method", "description")
LONG_TEXT_WIDTH = 60.0
OFF_PRINT_WIDTH = 150.0  # a long text column outside the print area, at most (255 is Excel's)
LINE_HEIGHT = 16.5  # [points] one line of 11-point text (CJK fonts set it 1.45 em apart)


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    lang: str = "zh",
    title: str = "",
    format_sheet: Callable | None = None,  # (book, sheet, frame, shown, header_row): extras
    print_columns: Mapping[str, Sequence[str]] | None = None,
    subtitle: str = "",
) -> Path:
    """Write ``{sheet name: frame}`` to ``path`` as a formatted workbook (atomically).

    ``print_columns`` maps a sheet name to the canonical columns it prints (those
    present, less any ``*_en`` text under zh and ``*_zh`` under en, are moved to the
    front and set as the print area, fitted to the page width).  ``subtitle`` (with a
    title) is the line below it on every sheet, e.g. the review date and batch.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        write_sheets(
            sheets,
            tmp,
            lang=lang,
            title=title,
            format_sheet=format_sheet,
            print_columns=print_columns,
            subtitle=subtitle,
        )
    return path


def write_sheets(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    lang: str = "zh",
    title: str = "",
    format_sheet: Callable | None = None,
    print_columns: Mapping[str, Sequence[str]] | None = None,
    subtitle: str = "",
) -> None:
    """Write the formatted workbook straight to ``path`` (see :func:`write_workbook`)."""
    print_columns = print_columns or {}
    with excel_writer(path) as writer:
        book = writer.book
        styles = _Styles(book)
        for name, frame in sheets.items():
            printed = [  # a text in the other language stays on screen
                c
                for c in print_columns.get(name, ())
                if c in frame.columns and not c.endswith("_en" if lang == "zh" else "_zh")
            ]
            if printed:
                frame = frame[printed + [c for c in frame.columns if c not in printed]]
            # codes as words (labels.csv), labels as headers; text stays text
            shown = neutralise_frame(to_display(label_codes(frame, lang), lang))
            dated = _as_date_cells(frame, shown)
            start = 2 if title else 0
            sheet_name = neutralise_text(str(name))[:31] or "Sheet"
            cells = cell_columns(shown)
            if cells is None:  # dates, decimals, very long texts: as pandas writes them
                shown.to_excel(writer, sheet_name=sheet_name, index=False, startrow=start)
                ws = writer.sheets[sheet_name]
            else:
                kind = ColumnSheet if sheetdata.SUPPORTED else None
                ws = book.add_worksheet(sheet_name, worksheet_class=kind)
                write_cells(ws, shown.columns, cells, start, len(shown))
            if title:
                ws.write_string(0, 0, neutralise_text(f"{title} — {name}"), styles.title)
                if subtitle:  # the row between the title and the header
                    ws.write_string(1, 0, neutralise_text(subtitle))
            _format_columns(ws, frame, shown, start, styles, printed, dated)
            ws.freeze_panes(start + 1, 0)
            if len(frame.columns):
                ws.autofilter(start, 0, start + max(len(frame), 1), len(frame.columns) - 1)
            page_setup(ws, start)
            if printed:
                ws.print_area(0, 0, start + max(len(frame), 1), len(printed) - 1)
            if format_sheet is not None:
                format_sheet(book, ws, frame, shown, start)


def _as_date_cells(frame: pd.DataFrame, shown: pd.DataFrame) -> frozenset[int]:
    """The date text columns of ``frame`` (:func:`costperf.report.formats.excel_dates`)
    put into ``shown`` as Excel day numbers, to be formatted as dates; their positions."""
    dated = set()
    for j, (name, values) in enumerate(frame.items()):
        days = excel_dates(str(name), values)
        if days is not None:
            shown.isetitem(j, days.to_numpy())
            dated.add(j)
    return frozenset(dated)


#: a column's cells: (kind, rows, values), kind one of "number", "string", "boolean";
#: rows and values lists or arrays
CellColumn = list[tuple[str, "list[int] | np.ndarray", "list[object] | np.ndarray"]]
_MAX_TEXT = 32_767  # Excel's limit; pandas warns above it (left to pandas)
_UNSUPPORTED = (datetime.date, datetime.time, datetime.timedelta, Decimal)


def cell_columns(frame: pd.DataFrame) -> list[CellColumn] | None:
    """Each column's cells as ``DataFrame.to_excel(index=False)`` (xlsxwriter) writes
    them: numbers, booleans, text (``str()`` of anything else); blanks and NaN left
    empty, infinities as the text ``inf`` / ``-inf``. None when a column holds what this
    writer leaves to pandas (dates and times, which get a cell format, decimals, texts
    over Excel's limit) or the header has several levels.

    Whole columns are converted at once (the per-cell pandas path built one cell object
    and one JSON style key per value: most of the workbook's time).
    """
    if isinstance(frame.columns, pd.MultiIndex):
        return None
    out = []
    for _, values in frame.items():  # by position (iloc's own path, without its indexer)
        column = _cell_column(values)
        if column is None:
            return None
        out.append(column)
    return out


def _cell_column(values: pd.Series) -> CellColumn | None:
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":  # arrays: see sheetdata.py
        rows = np.arange(len(values))
        return [("boolean" if dtype.kind == "b" else "number", rows, values.to_numpy())]
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        array = values.to_numpy()
        finite = np.isfinite(array)
        out: CellColumn = [("number", np.flatnonzero(finite), array[finite])]
        infinite = np.flatnonzero(np.isinf(array)).tolist()
        if infinite:
            out.append(("string", infinite, ["inf" if array[i] > 0 else "-inf" for i in infinite]))
        return out
    if isinstance(dtype, np.dtype) and dtype.kind != "O":
        return None  # datetime64, timedelta64 ...
    if infer_dtype(values, skipna=True) == "string":  # texts and blanks: by arrays
        array = values.to_numpy()
        present = np.flatnonzero(pd.notna(array))
        texts = array[present]
        filled = texts != ""
        texts = texts[filled]
        if len(texts) and max(map(len, texts)) > _MAX_TEXT // 2 and any(map(_too_long, texts)):
            return None
        return [("string", present[filled], [str(t) for t in texts])]
    kinds: dict[str, tuple[list[int], list[object]]] = {}
    for i, value in enumerate(values.tolist()):
        cell = _cell(value)
        if cell is None:
            return None
        if cell[0]:
            rows, items = kinds.setdefault(cell[0], ([], []))
            rows.append(i)
            items.append(cell[1])
    return [(kind, rows, items) for kind, (rows, items) in kinds.items()]


def _cell(value: object) -> tuple[str, object] | None:
    """One value as pandas' ExcelFormatter and xlsxwriter write it: ``("", None)`` for a
    blank, None for what is left to pandas."""
    kind = type(value)
    if kind is str:  # the common case first
        if _too_long(value):
            return None
        return ("string", value) if value else ("", None)
    if is_scalar(value) and pd.isna(value):
        return ("", None)
    if is_float(value) and math.isinf(value):
        return ("string", "inf" if value > 0 else "-inf")
    if getattr(value, "tzinfo", None) is not None or isinstance(value, _UNSUPPORTED):
        return None
    if is_integer(value):
        return ("number", int(value))
    if is_float(value):
        return ("number", float(value))
    if is_bool(value):
        return ("boolean", bool(value))
    text = str(value)
    if _too_long(text):
        return None
    return ("string", text) if text else ("", None)


def _too_long(text: str) -> bool:
    """Over Excel's limit of 32,767 UTF-16 units (xlsxwriter would cut it)."""
    return len(text) > _MAX_TEXT // 2 and len(text.encode("utf-16-le")) // 2 > _MAX_TEXT


def write_cells(
    ws: Worksheet, header: pd.Index, cells: list[CellColumn], start: int, n_rows: int
) -> None:
    """The header row at ``start`` and the cells below it: held by column on a
    :class:`costperf.report.sheetdata.ColumnSheet`, else one ``write_*`` call a cell in
    the order pandas writes them (the same workbook, to the byte)."""
    for j, name in enumerate(header):
        text = "" if is_scalar(name) and pd.isna(name) else str(name)
        if text:
            ws.write_string(start, j, text)
    if isinstance(ws, ColumnSheet):
        ws.put_columns(cells, start + 1, n_rows)
        return
    write = {"number": ws.write_number, "string": ws.write_string, "boolean": ws.write_boolean}
    for j, column in enumerate(cells):
        for kind, rows, items in column:
            put = write[kind]
            for i, item in zip(_listed(rows), _listed(items), strict=True):
                put(start + 1 + i, j, item)


def _listed(values: object) -> list:
    """An array as Python values (what the per-cell calls format), a list as it is."""
    return values.tolist() if isinstance(values, np.ndarray) else values


class _Styles:
    """The cell formats of one workbook (xlsxwriter formats belong to their book)."""

    def __init__(self, book: object) -> None:
        self.book = book
        self.head = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}
        )
        self.head.set_align("vcenter")
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.top = book.add_format({"valign": "top"})  # beside a wrapped text, at its top
        self._numbers: dict[str, object] = {}

    def number(self, fmt: str) -> object:
        if fmt not in self._numbers:
            self._numbers[fmt] = self.book.add_format({"num_format": fmt, "valign": "top"})
        return self._numbers[fmt]


def _format_columns(
    ws: object,
    frame: pd.DataFrame,
    shown: pd.DataFrame,
    start: int,
    styles: _Styles,
    printed: Sequence[str] = (),
    dated: frozenset[int] = frozenset(),
) -> None:
    lines = np.ones(len(frame), dtype=np.int64)  # text lines each data row needs
    pairs = zip(frame.items(), shown.items(), strict=True)  # columns by position
    for j, ((col, values), (head, shown_values)) in enumerate(pairs):
        header = str(head)
        ws.write_string(start, j, header, styles.head)
        fmt = DATE_FORMAT if j in dated else excel_format(str(col), values)
        long_text = fmt is None and str(col).startswith(LONG_TEXT)
        if j in dated:  # as wide as the date's text (the cell holds its day number)
            width = fitted_width(values, header)
        else:
            width = LONG_TEXT_WIDTH if long_text else fitted_width(shown_values, header, fmt)
        widths = text_widths(shown_values) if long_text and len(frame) else None
        if widths is not None and printed and col not in printed:
            # on screen only: as wide as its text needs (up to OFF_PRINT_WIDTH), so its
            # rows grow no taller than the printed columns need (no blank lines on paper)
            width = min(max(int(widths.max()) + 2, width), OFF_PRINT_WIDTH)
        style = styles.number(fmt) if fmt else (styles.wrap if long_text else styles.top)
        ws.set_column(j, j, width, style)
        if widths is not None:
            lines = np.maximum(lines, _lines(widths, width))
    # wrapped rows as tall as their text: Excel, LibreOffice and their PDF export do not
    # all fit a row's height to wrapped text by themselves
    for i in np.flatnonzero(lines > 1):
        ws.set_row(start + 1 + int(i), LINE_HEIGHT * int(lines[i]))


def page_setup(ws: object, header_row: int) -> None:
    """A4 landscape, one page wide, header row on every page, page numbers, gridlines."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.set_footer("&C&P / &N")
    ws.hide_gridlines(0)  # printed too: a right-aligned number does not run into the text after it


def fitted_width(values: pd.Series, header: str, fmt: str | None = None) -> float:
    """Column width (Excel characters) for the longest shown value or the header line."""
    sample = values.head(500)
    if fmt is not None:  # numbers: digits plus separators and decimals
        biggest = _biggest(sample)
        digits = len(f"{biggest:,.0f}") + (3 if "0.0" in fmt else 0) + (1 if "%" in fmt else 0)
        longest = max(digits, 9 if "E" in fmt else 0)
    else:
        longest = max(map(text_width, {str(v) for v in sample.tolist()}), default=0)
    head = max((text_width(part) for part in header.split("\n")), default=0)
    return float(min(max(longest, min(head, 24)) + 2, 60))


def _biggest(sample: pd.Series) -> float:
    """The largest absolute number of ``sample`` (0 when it has none)."""
    if isinstance(sample.dtype, np.dtype) and sample.dtype.kind in "fiu":  # one array op
        array = np.abs(sample.to_numpy())
        if array.dtype.kind == "f":
            array = array[~np.isnan(array)]
        return float(array.max()) if len(array) else 0.0
    numbers = pd.to_numeric(sample, errors="coerce").abs().dropna()
    return float(numbers.max()) if len(numbers) else 0.0


def text_widths(values: pd.Series) -> np.ndarray:
    """Each text's width in columns (a CJK character is two wide; blank: 0)."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    return text.str.len().to_numpy() + text.str.count(_WIDE.pattern).to_numpy()


def _lines(widths: np.ndarray, width: float) -> np.ndarray:
    """Lines each text of ``widths`` needs when wrapped in a column ``width`` wide."""
    per_line = max(math.floor(width) - 1, 1)
    return np.maximum(np.ceil(widths / per_line), 1).astype(np.int64)


_WIDE = re.compile("[\u2e81-\U0010ffff]")  # CJK and beyond: two columns each


def text_width(text: str) -> int:
    """One text's width in columns (a CJK character is two wide; see text_widths)."""
    return len(text) + len(_WIDE.findall(text))
