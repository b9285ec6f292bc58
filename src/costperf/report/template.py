"""The request-book template (``costperf template requests``), written with xlsxwriter.

Every text of it (sheet names, instructions, validation messages) is a labels.csv row
(kind ``template``, messages ``template.*``) and every header a columns.csv label, in
the language asked for (``--lang``); the English template's sheets and headers are the
English ones the request-book reader accepts, so a filled-in English template reviews
as the Chinese one does.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from costperf.columns import code_label, label, message
from costperf.io.write import XLSXWRITER_OPTIONS, atomic_path
from costperf.report.excel import text_width  # a CJK character is two columns, as in the sheets
from costperf.review.batch.book import TARGET_CATEGORIES, TRAVEL_ITEMS
from costperf.review.batch.routing import routing_table
from costperf.review.expenditure.requests import KINDS
from costperf.schemas import COUNT_UNITS, HALF_DAY_COLUMNS, column_unit
from costperf.standards import StandardSet

PROJECT_COLUMNS = (
    "project_id",
    "project_name",
    "department",
    "class_of_matter",
    "district",
    "year",
    "road_grade",
)
LINE_COLUMNS = (
    "project_id",
    "line_no",
    "econ_code",
    "item",
    "expense_kind",
    "travel_item",
    "requested",
    "quantity",
    "unit_price",
    "standard_id",
    "date",
    "meeting_category",
    "meeting_subtype",
    "training_category",
    "persons",
    "days",
    "arrival_days",
    "departure_days",
    "lecturer_title",
    "lecturer_name",
    "teaching_hours",
    "teaching_half_days",
    "city",
    "staff_level",
    "nights",
    "end_date",
    "equipment_item",
    "staff_count",
    "existing_quantity",
    "replaced_age_years",
    "damaged",
    "unit_type",
    "room_area_m2",
)
TARGET_COLUMNS = ("project_id", "category", "indicator", "unit", "target")
ROWS = 2000  # rows that carry the validation
NUMBERS = {
    "requested",
    "quantity",
    "unit_price",
    "persons",
    "days",
    "arrival_days",
    "departure_days",
    "teaching_hours",
    "teaching_half_days",
    "nights",
    "staff_count",
    "existing_quantity",
    "replaced_age_years",
    "room_area_m2",
}
#: whole numbers: line numbers, years and the counts among the numbers (columns.csv
#: units of schemas.COUNT_UNITS; arrival and departure may be half a day)
WHOLE = {"line_no", "year"} | {
    c for c in NUMBERS if column_unit(c) in COUNT_UNITS and c not in HALF_DAY_COLUMNS
}
DATES = {"date", "end_date"}
TEXT = {"project_id", "econ_code", "standard_id"}  # codes: leading zeros kept


def _dimension_values(standards: StandardSet, table: str, dim: str) -> list[str]:
    values: list[str] = []
    for version in standards.versions_of(table):
        spec = (version.header.get("dimensions") or {}).get(dim) or {}
        values += [v for v in spec.get("values") or [] if v not in values]
    return values


def _item_labels(standards: StandardSet, table: str, lang: str = "zh") -> list[str]:
    """The priced items of ``table`` by their labels in ``lang`` (the English ones are
    the item labels of the table headers, which the equipment review reads as well)."""
    frame = standards.values[standards.values["table_id"] == table]
    priced = frame[frame["component"].isin(["price", "price_per_m2"])]
    if lang == "zh":
        return list(dict.fromkeys(priced["item_zh"].astype(str)))
    english: dict[str, str] = {}
    for version in standards.versions_of(table):
        for code, spec in (version.header.get("items") or {}).items():
            if isinstance(spec, dict) and spec.get("label_en"):
                english.setdefault(str(code), str(spec["label_en"]))
    pairs = zip(priced["item"].astype(str), priced["item_zh"].astype(str), strict=True)
    return list(dict.fromkeys(english.get(code, zh) for code, zh in pairs))


def _labels(kind: str, codes: object, lang: str) -> list[str]:
    """The labels (labels.csv) of ``codes`` in ``lang``: what the reader accepts."""
    return [code_label(kind, code, lang) for code in codes]


def code_lists(standards: StandardSet, lang: str = "zh") -> dict[str, list[str]]:
    """Column -> the values its drop-down allows, in ``lang``.

    The coded columns with a closed list of their own (expense kind, travel item,
    indicator category, damaged) list their labels.csv words and the equipment items
    their labels: the request-book reader accepts these in both languages. The values
    of the standards' dimensions (meeting category, staff level ...) are the tables' own
    values, the only spellings their lookups know, in either language.
    """
    routing = routing_table()
    levels = _dimension_values(standards, "travel-lodging", "staff_level")
    levels += [
        v
        for v in _dimension_values(standards, "office-equipment", "staff_level")
        if v not in levels
    ]
    return {
        "econ_code": list(routing["econ_code"]),
        "expense_kind": _labels("expense_kind", KINDS, lang),
        "travel_item": _labels("travel_item", TRAVEL_ITEMS.values(), lang),
        "meeting_category": _dimension_values(standards, "meeting-fee", "category"),
        "meeting_subtype": _dimension_values(standards, "meeting-limits", "meeting_subtype"),
        "training_category": _dimension_values(standards, "training-fee", "category"),
        "lecturer_title": _dimension_values(
            standards, "training-lecturer-fee", "professional_title"
        ),
        "staff_level": levels,
        "equipment_item": _item_labels(standards, "office-equipment", lang),
        "damaged": _labels("boolean", ("True", "False"), lang),
        "unit_type": _dimension_values(standards, "office-equipment", "unit_type"),
        "category": _labels("target_category", TARGET_CATEGORIES.values(), lang),
    }


#: the rows of the instructions sheet: labels.csv kind ``template``, ``notes.<topic>``
#: (the key) and ``notes.<topic>.text``; the title first, a blank row after it
NOTES = (
    "title",
    "",
    "sheets",
    "required",
    "targets",
    "lists",
    "routing",
    "meeting",
    "training",
    "travel",
    "equipment",
    "unit_cost",
    "amounts",
    "headers",
)
#: the sheets, by labels.csv kind ``template`` code ``sheet.<name>``: the request-book
#: reader (io/book.py) accepts the Chinese and the English names of the three tables
BOOK_SHEETS = (("projects", PROJECT_COLUMNS), ("lines", LINE_COLUMNS), ("targets", TARGET_COLUMNS))


def instructions(lang: str = "zh") -> list[tuple[str, str]]:
    """The (key, text) rows of the instructions sheet in ``lang``."""
    rows = []
    for topic in NOTES:
        if not topic:
            rows.append(("", ""))
        elif topic == "title":
            rows.append((code_label("template", "notes.title", lang), ""))
        else:
            key = code_label("template", f"notes.{topic}", lang)
            rows.append((key, code_label("template", f"notes.{topic}.text", lang)))
    return rows


def sheet_name(name: str, lang: str = "zh") -> str:
    """The name of a template sheet (``instructions``, ``codes``, ``projects`` ...)."""
    return code_label("template", f"sheet.{name}", lang)


def write_request_template(path: str | Path, standards: StandardSet, lang: str = "zh") -> Path:
    """Write the request-book template in ``lang`` to ``path`` (atomically)."""
    import xlsxwriter

    lang = "zh" if lang == "zh" else "en"
    lists = code_lists(standards, lang)
    path = Path(path)
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSXWRITER_OPTIONS)  # strings stay strings
        head = book.add_format(
            {
                "bold": True,
                "bg_color": "#DDEBF7",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        coded = book.add_format(
            {
                "bold": True,
                "bg_color": "#FCE4D6",
                "border": 1,
                "text_wrap": True,
                "valign": "vcenter",
            }
        )
        text_fmt = book.add_format({"num_format": "@"})
        date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        bold = book.add_format({"bold": True, "font_size": 14})
        notes = book.add_worksheet(sheet_name("instructions", lang))
        rows = instructions(lang)
        notes.set_column(0, 0, max(14, min(32, max(text_width(k) + 2 for k, _ in rows[1:]))))
        notes.set_column(1, 1, 110, wrap)
        for i, (key, text) in enumerate(rows):
            notes.write_string(i, 0, key, bold if i == 0 else head if key else wrap)
            if text:
                notes.write_string(i, 1, text, wrap)
        codes_name = sheet_name("codes", lang)
        codes = book.add_worksheet(codes_name)
        quoted = xlsxwriter.utility.quote_sheetname(codes_name)
        ranges = {}
        for j, (col, values) in enumerate(lists.items()):
            codes.write_string(0, j, label(col, lang))
            for i, value in enumerate(values):
                codes.write_string(i + 1, j, str(value))
            letter = xlsxwriter.utility.xl_col_to_name(j)
            ranges[col] = f"={quoted}!${letter}$2:${letter}${max(len(values), 1) + 1}"
        for name, columns in BOOK_SHEETS:
            ws = book.add_worksheet(sheet_name(name, lang))
            for j, col in enumerate(columns):
                header = label(col, lang)
                ws.write_string(0, j, header, coded if col in lists else head)
                fmt = (
                    text_fmt if col in TEXT or col in lists else date_fmt if col in DATES else None
                )
                ws.set_column(j, j, max(10, text_width(header) + 2), fmt)
                _validate(ws, j, col, lists, ranges, lang)
            ws.freeze_panes(1, 0)
        codes.hide()
        notes.activate()
        book.close()
    return path


def _validate(ws: object, j: int, col: str, lists: dict, ranges: dict, lang: str) -> None:
    rows = (1, j, ROWS, j)
    common = {"error_type": "stop", "show_error": True, "ignore_blank": True}
    header = label(col, lang)
    if col in lists and lists[col]:
        ws.data_validation(
            *rows,
            {
                "validate": "list",
                "source": ranges[col],
                "error_title": header,
                "error_message": message("template.choose_from_list", lang, column=header),
                **common,
            },
        )
    elif col in NUMBERS and col not in WHOLE:
        ws.data_validation(
            *rows,
            {
                "validate": "decimal",
                "criteria": ">=",
                "value": 0,
                "error_message": message("template.number_at_least_0", lang, column=header),
                **common,
            },
        )
    elif col in WHOLE:
        ws.data_validation(
            *rows,
            {
                "validate": "integer",
                "criteria": ">=",
                "value": 0,
                "error_message": message("template.whole_number", lang, column=header),
                **common,
            },
        )
    elif col in DATES:
        ws.data_validation(
            *rows,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": pd.Timestamp("2000-01-01").to_pydatetime(),
                "maximum": pd.Timestamp("2100-12-31").to_pydatetime(),
                "error_message": message("template.date", lang, column=header),
                **common,
            },
        )
