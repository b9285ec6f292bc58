"""A worksheet whose data cells are kept as whole columns and written as XML in blocks.

xlsxwriter keeps one tuple per cell in a dict of dicts and writes each cell's XML with
several calls: about 6 µs a cell, most of a large review.xlsx's time (100,000 lines of
30 columns are 3 million cells). :class:`ColumnSheet` takes a frame's cells by column
(:func:`costperf.report.excel.cell_columns`), registers its strings in the workbook's
shared-string table in the order the per-cell calls would, and writes each block of rows
with one string formatting per cell. Everything else (title and header rows, column
formats, row heights, spans, filters, print setup) stays xlsxwriter's, and the sheet's
XML is the same to the byte as the per-cell calls give (``tests/test_report.py`` compares
the two, and both with pandas' ``to_excel``).
"""

from __future__ import annotations

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

#: rows rendered at a time (bounds the memory of the rendered text)
BLOCK_ROWS = 8192

#: the xlsxwriter releases whose internals this class is written against (and tested
#: on, byte for byte); on any other release the cells go through the public
#: ``write_*`` calls (:func:`costperf.report.excel.write_cells`)
SUPPORTED = xlsxwriter.__version__.split(".")[:2] == ["3", "3"]


class ColumnSheet(Worksheet):
    """An xlsxwriter worksheet with one block of data rows held by column."""

    def __init__(self) -> None:
        super().__init__()
        #: per column, ``(kind, rows, values)`` as arrays (row positions int32; numbers
        #: as given, shared-string indices int32, booleans uint8): some 12 bytes a cell,
        #: not the 70-odd of Python lists of Python numbers
        self._columns: list[list[tuple[str, np.ndarray, np.ndarray]]] = []
        self._first_row = 0
        self._n_rows = 0

    def put_columns(self, columns: list, first_row: int, n_rows: int) -> None:
        """The data cells of rows ``first_row ..`` by column: for each column a list of
        ``(kind, rows, values)`` (lists or arrays), kind ``number``, ``string`` or
        ``boolean``, rows ascending from 0. Strings get their shared-string index now,
        column by column, as the per-cell calls would (so the shared-string table is the
        same)."""
        n_rows = max(min(n_rows, self.xls_rowmax - first_row), 0)
        index = self.str_table._get_shared_string_index
        held = []
        low = high = None
        left = right = None
        for j, column in enumerate(columns[: self.xls_colmax]):
            kinds = []
            for kind, rows, values in column:
                rows = np.asarray(rows, dtype=np.int64)
                cut = int(np.searchsorted(rows, n_rows))  # rows past the sheet's end: dropped
                if not cut:
                    continue
                rows, values = rows[:cut].astype(np.int32), values[:cut]
                if kind == "string":
                    values = np.fromiter(map(index, values), dtype=np.int32, count=cut)
                elif kind == "boolean":
                    values = np.asarray(values, dtype=bool).astype(np.uint8)
                elif not isinstance(values, np.ndarray):  # a column of mixed cells
                    values = _number_array(values)
                kinds.append((kind, rows, values))
                first, last = int(rows[0]), int(rows[-1])
                low = first if low is None else min(low, first)
                high = last if high is None else max(high, last)
                left = j if left is None else left
                right = j
            held.append(kinds)
        self._columns, self._first_row, self._n_rows = held, first_row, n_rows
        if low is not None:
            self._check_dimensions(first_row + low, left)
            self._check_dimensions(first_row + high, right)

    # -- xlsxwriter calls these while assembling the sheet's XML ----------------------

    def _write_rows(self) -> None:
        if not self._n_rows or not any(self._columns):
            return super()._write_rows()
        first, stop = self._first_row, self._first_row + self._n_rows
        if self._mixed(first, stop):  # other cells or row formats among the data rows
            self._to_table()
            return super()._write_rows()
        self._calculate_spans()  # the other rows' (title, header)
        spans = self._spans_with_columns()
        for row in range(self.dim_rowmin, min(first, self.dim_rowmax + 1)):
            self._write_table_row(row, spans.get(row // 16))
        for start in range(0, self._n_rows, BLOCK_ROWS):
            end = min(start + BLOCK_ROWS, self._n_rows)
            for k, text in enumerate(self._rendered(start, end)):
                row = first + start + k
                info = self.row_info.get(row)
                if text:
                    self._write_row(row, spans.get(row // 16), info)
                    self.fh.write(text)
                    self.fh.write("</row>")
                elif info is not None:
                    self._write_empty_row(row, spans.get(row // 16), info)
        for row in range(max(stop, self.dim_rowmin), self.dim_rowmax + 1):
            self._write_table_row(row, spans.get(row // 16))

    def _mixed(self, first: int, stop: int) -> bool:
        if self.comments:
            return True
        if any(first <= row < stop and cells for row, cells in self.table.items()):
            return True
        return any(
            first <= row < stop and info.row_format is not None
            for row, info in self.row_info.items()
        )

    def _to_table(self) -> None:
        """The held cells as xlsxwriter's own cell tuples (the general path)."""
        from xlsxwriter.worksheet import CellBooleanTuple, CellNumberTuple, CellStringTuple

        tuples = {"number": CellNumberTuple, "string": CellStringTuple, "boolean": CellBooleanTuple}
        for j, kinds in enumerate(self._columns):
            for kind, rows, values in kinds:
                make = tuples[kind]
                for i, value in zip(rows.tolist(), values.tolist(), strict=True):
                    self.table[self._first_row + i][j] = make(value, None)
        self._columns = []

    def _write_table_row(self, row: int, span: str | None) -> None:
        """One row outside the held block, as ``Worksheet._write_rows`` writes it."""
        cells = self.table.get(row)
        if cells:
            self._write_row(row, span, self.row_info.get(row))
            for col in range(self.dim_colmin, self.dim_colmax + 1):
                if col in cells:
                    self._write_cell(row, col, cells[col])
            self._xml_end_tag("row")
        elif row in self.row_info:
            self._write_empty_row(row, span, self.row_info[row])

    def _spans_with_columns(self) -> dict[int, str]:
        """``_calculate_spans``' ``first:last`` column of each 16-row block, with the
        held cells counted."""
        n = self._n_rows
        low = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        high = np.full(n, -1, dtype=np.int64)
        for j, kinds in enumerate(self._columns):
            for _kind, rows, _values in kinds:
                low[rows] = np.minimum(low[rows], j)
                high[rows] = j  # columns come in order
        present = np.flatnonzero(high >= 0)
        blocks = (self._first_row + present) // 16
        bounds: dict[int, tuple[int, int]] = {}
        for block, text in self.row_spans.items():
            a, b = text.split(":")
            bounds[block] = (int(a) - 1, int(b) - 1)
        if len(present):
            heads = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
            lows = np.minimum.reduceat(low[present], heads)
            highs = np.maximum.reduceat(high[present], heads)
            for block, a, b in zip(
                blocks[heads].tolist(), lows.tolist(), highs.tolist(), strict=True
            ):
                if block in bounds:
                    a, b = min(a, bounds[block][0]), max(b, bounds[block][1])
                bounds[block] = (a, b)
        return {block: f"{a + 1}:{b + 1}" for block, (a, b) in bounds.items()}

    def _rendered(self, start: int, end: int) -> list[str]:
        """The cells' XML of data rows ``start .. end - 1``, one string a row."""
        size = end - start
        numbers = range(self._first_row + start + 1, self._first_row + end + 1)
        parts = []
        for j, kinds in enumerate(self._columns):
            cells = [""] * size
            style = self._column_style(j)
            name = xl_col_to_name(j)
            for kind, rows, values in kinds:
                lo, hi = np.searchsorted(rows, (start, end)).tolist()
                if lo == hi:
                    continue
                at = (rows[lo:hi] - start).tolist()
                block = values[lo:hi].tolist()
                head = f'<c r="{name}'
                if kind == "number":
                    tail = f'"{style}><v>'
                    for i, v in zip(at, block, strict=True):
                        cells[i] = f"{head}{numbers[i]}{tail}{v:.16G}</v></c>"
                elif kind == "string":
                    tail = f'"{style} t="s"><v>'
                    for i, v in zip(at, block, strict=True):
                        cells[i] = f"{head}{numbers[i]}{tail}{v}</v></c>"
                else:
                    tail = f'"{style} t="b"><v>'
                    for i, v in zip(at, block, strict=True):
                        cells[i] = f"{head}{numbers[i]}{tail}{v}</v></c>"
            parts.append(cells)
        return ["".join(row) for row in zip(*parts, strict=True)]

    def _column_style(self, col: int) -> str:
        """The ``s`` attribute a cell without a format of its own gets (its column's)."""
        info = self.col_info.get(col)
        if info is None or info.column_format is None:
            return ""
        return f' s="{info.column_format._get_xf_index()}"'


def _number_array(values: list) -> np.ndarray:
    """Python numbers as an array whose ``tolist()`` formats as they do: float64 for
    floats and ints that fit (``.16G`` formats an int through float anyway), else the
    objects themselves."""
    try:
        return np.asarray(values, dtype=np.float64)
    except OverflowError:
        return np.asarray(values, dtype=object)
