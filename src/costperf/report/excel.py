"""Excel report writer: one formatted sheet per result table (xlsxwriter).

Column headers are display labels (:func:`costperf.columns.to_display`); the header row
is frozen, numbers get thousands separators, rates are shown as percentages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from costperf.columns import to_display
from costperf.io.write import atomic_path, excel_writer, neutralise_frame, neutralise_text

RATE_COLUMNS = {"cut_rate", "share", "effect_share"}


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    lang: str = "zh",
    title: str = "",
    format_sheet: Callable | None = None,  # (book, sheet, frame, shown, header_row): print setup
) -> Path:
    """Write ``{sheet name: frame}`` to ``path`` as a formatted workbook (atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp, excel_writer(tmp) as writer:
        book = writer.book
        head = book.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        money = book.add_format({"num_format": "#,##0.00"})
        rate = book.add_format({"num_format": "0.0%"})
        title_fmt = book.add_format({"bold": True, "font_size": 13})
        for name, frame in sheets.items():
            shown = neutralise_frame(to_display(frame, lang))  # text stays text
            start = 2 if title else 0
            shown.to_excel(writer, sheet_name=name[:31], index=False, startrow=start)
            ws = writer.sheets[name[:31]]
            if title:
                ws.write_string(0, 0, neutralise_text(f"{title} — {name}"), title_fmt)
            for j, col in enumerate(frame.columns):
                ws.write_string(start, j, str(shown.columns[j]), head)
                width = _width(shown.iloc[:, j], str(shown.columns[j]))
                kind = (
                    rate
                    if (col in RATE_COLUMNS or col.startswith("share_"))
                    else (money if pd.api.types.is_float_dtype(frame[col]) else None)
                )
                ws.set_column(j, j, width, kind)
            ws.freeze_panes(start + 1, 0)
            if len(frame):
                ws.autofilter(start, 0, start + len(frame), max(len(frame.columns) - 1, 0))
            if format_sheet is not None:
                format_sheet(book, ws, frame, shown, start)
    return path


def _width(values: pd.Series, header: str) -> float:
    sample = [str(v) for v in values.head(200).tolist()] + [header]
    longest = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in s) for s in sample)
    return float(min(max(longest + 2, 8), 60))
