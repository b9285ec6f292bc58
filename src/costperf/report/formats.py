"""How a column's values are shown: one kind per column, from ``columns.csv``.

The kind comes from the column's ``dtype`` and ``unit`` in ``columns.csv`` (a column
the table does not list, such as a case's own dimension, from its pandas dtype):

========== =================================== =============== ===============
kind       columns                              Excel           HTML
========== =================================== =============== ===============
money      unit ``yuan`` or ``yuan/...``        ``#,##0.00``    1,234.50
fraction   unit ``fraction`` (cut rate, shares) ``0.00%``       11.26%
percent    unit ``%`` (already x 100)           ``0.00``        5.05
probability unit ``probability`` (p-values)     ``0.00E+00``    1.20e-14
count      ``int`` dtype, unit ``count``        ``#,##0``       1,234
code_int   year, line and row numbers           ``0``           2025
score      unit ``score`` (efficiency)          ``0.000``       0.875
index      unit ``index`` (100 = average)       ``0.0``         104.5
coefficient unit ``coefficient``                ``0.0000``      0.1234
number     any other float                      ``#,##0.00``    1,234.50
whole      a float column of whole numbers      ``#,##0``       386,800
text       anything else                        (none)
========== =================================== =============== ===============
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from costperf.columns import canonical_name, code_label_map, column_attribute, column_table

EXCEL_FORMATS = {
    "money": "#,##0.00",
    "fraction": "0.00%",
    "percent": "0.00",
    "probability": "0.00E+00",
    "count": "#,##0",
    "code_int": "0",
    "score": "0.000",
    "index": "0.0",
    "coefficient": "0.0000",
    "number": "#,##0.00",
    "whole": "#,##0",
}
#: integer columns that are identifiers or years: no thousands separator.
CODE_INTS = frozenset({"year", "base_year", "line_no", "source_row"})
#: text columns of dates (a request line's 日期 and 结束日期, kept as the request gives
#: them): a workbook writes them as date cells when every value is a YYYY-MM-DD date
DATE_TEXTS = frozenset({"date", "end_date"})
DATE_FORMAT = "yyyy-mm-dd"

_UNIT_KINDS = {
    "fraction": "fraction",
    "%": "percent",
    "probability": "probability",
    "count": "count",
    "score": "score",
    "index": "index",
    "coefficient": "coefficient",
}


def column_kind(name: str, values: pd.Series | None = None) -> str:
    """The display kind of column ``name`` (see the module table)."""
    dtypes = column_attribute("dtype")
    if name not in dtypes:  # a display label (written frames) maps back
        name = canonical_name(name)[0] or name
    if name in dtypes:
        dtype, unit = dtypes[name], column_attribute("unit")[name]
    else:
        dtype, unit = "", ""
        if values is not None and pd.api.types.is_bool_dtype(values):
            dtype = "bool"
        elif values is not None and pd.api.types.is_integer_dtype(values):
            dtype = "int"
        elif values is not None and pd.api.types.is_float_dtype(values):
            dtype = "float"
    if dtype == "int":
        return "code_int" if name in CODE_INTS else "count"
    if dtype != "float":
        return "text"
    if unit in _UNIT_KINDS:
        return _UNIT_KINDS[unit]
    if unit == "yuan" or unit.startswith("yuan/"):
        return "money"
    if values is not None and _whole(values):
        return "whole"
    return "number"


def _whole(values: pd.Series) -> bool:
    """Some numbers, all of them whole (blanks skipped; an infinity is not whole)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiu":  # one array op
        array = values.to_numpy(dtype=float)
        array = array[~np.isnan(array)]
        with np.errstate(invalid="ignore"):  # inf % 1 is NaN: not whole
            return len(array) > 0 and bool((array % 1 == 0).all())
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    return len(numbers) > 0 and bool((numbers % 1 == 0).all())


def excel_dates(name: str, values: pd.Series) -> pd.Series | None:
    """Column ``name``'s dates as Excel's day numbers (1900 system; blanks NaN), for a
    date text column (:data:`DATE_TEXTS`) whose every value is a date ``YYYY-MM-DD``;
    None otherwise (the column stays text, as written)."""
    if (canonical_name(name)[0] or name) not in DATE_TEXTS:
        return None
    text = values.astype("string").str.strip()
    given = text.notna() & text.ne("")
    if not given.any() or not text[given].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all():
        return None
    stamps = pd.to_datetime(text.where(given), format="%Y-%m-%d", errors="coerce")
    if stamps[given].isna().any():  # 2027-02-30
        return None
    days = (stamps - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)
    return pd.Series(days.to_numpy(dtype=float), index=values.index)


def excel_format(name: str, values: pd.Series | None = None) -> str | None:
    """The Excel number format of column ``name`` (None for text)."""
    return EXCEL_FORMATS.get(column_kind(name, values))


def format_value(kind: str, value: object) -> str:
    """``value`` as text for a page, in the style of its kind ('' for a missing value)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "text" or isinstance(value, str | bool):
        return str(value)
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    match kind:
        case "fraction":
            return f"{number:.2%}"
        case "probability":
            return f"{number:.2e}" if 0 < abs(number) < 1e-3 else f"{number:.4f}"
        case "count" | "whole":
            return f"{number:,.0f}"
        case "code_int":
            return f"{number:.0f}"
        case "score":
            return f"{number:.3f}"
        case "index":
            return f"{number:.1f}"
        case "coefficient":
            return f"{number:.4f}"
    return f"{number:,.2f}"


def column_unit_words(name: str, lang: str = "zh") -> str:
    """How the unit of column ``name`` (columns.csv) is written in a header, by labels.csv
    kind ``column_unit`` ('' for none)."""
    table = column_table()
    unit = table.at[name, "unit"] if name in table.index else ""
    if unit == "%":
        return "%"
    return code_label_map("column_unit", "zh" if lang == "zh" else "en").get(unit, "")


def pretty_units(text: str) -> str:
    """``元/m2`` -> ``元/m²`` (also ``km2``); other text unchanged."""
    import re

    return re.sub(r"(?<![A-Za-z_])(k?m)2(?![0-9A-Za-z_])", "\\1²", text)


#: columns whose values are codes, and the kind of ``labels.csv`` that labels them.
CODED_COLUMNS = {
    "decision": "decision",
    "rule": "rule",
    "project_rule": "rule",
    "review_rule": "rule",
    "cost_element": "cost_element",
    "expense_kind": "expense_kind",
    "travel_item": "travel_item",
    "target_check": "target_check",
    "category": "target_category",
    "status": "status",
    "super_status": "status",
    "cost_status": "status",
    "revenue_status": "status",
    "derive_rule": "derive_rule",
    "outlier_rule": "outlier_rule",
    "scope": "scope",
    "flag": "flag",
    "recommendation": "recommendation",
    "evaluation_kind": "evaluation_kind",
    "grade": "grade",
    "previous_grade": "grade",
    "other_grade": "grade",
    "verified": "boolean",
    "driver": "driver",
    "kind": "standard_kind",
    "orientation": "dea_orientation",
    "rts": "dea_rts",
    "stat_name": "stat_name",
    "model": "regression_model",
    "unit_cost_source": "unit_cost_source",
    "constraint_kind": "constraint_kind",
    "frontier_inputs": "column_names",
    "frontier_outputs": "column_names",
}
#: a code of a column's own kind missing is looked up in these kinds next: a standard's
#: ``rule`` is a review rule or the rule that derived it (median, p25 ...)
FALLBACK_KINDS = {"rule": ("derive_rule",)}


def _column_labels(values: pd.Series, lang: str) -> pd.Series:
    """``cost_personnel,cost_equipment`` -> ``人员成本、设备成本`` (labels.csv/columns.csv)."""
    from costperf.columns import label

    joiner = "、" if lang == "zh" else ", "

    def one(text: object) -> object:
        if not isinstance(text, str) or not text:
            return text
        return joiner.join(label(part.strip(), lang) for part in text.split(","))

    return values.astype(object).map(one)


def _unit_labels(values: pd.Series, lang: str) -> pd.Series:
    """A unit column in ``lang`` (:func:`costperf.labels.unit_words`: ``元/m2`` ->
    ``yuan/m2``); a unit it does not know, or a blank, stays as it is."""
    from costperf.labels import unit_words

    def one(unit: object) -> object:
        return unit_words(unit, lang) if isinstance(unit, str) and unit else unit

    return values.astype(object).map(one)


def label_codes(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy of ``frame`` with codes shown as words from ``labels.csv``.

    Coded columns (:data:`CODED_COLUMNS`; ``a+b`` rule chains part by part, a code with
    parameters ``quantile tau=0.25`` as its label and the parameters as written) and
    boolean columns (是/否); a code the table does not know stays as it is.
    """

    out = frame.copy()
    for col in out.columns:
        if lang != "zh" and (str(col) == "unit" or canonical_name(col)[0] == "unit"):
            out[col] = _unit_labels(out[col], lang)  # 元/m2 -> yuan/m2, as the terminal says
            continue
        kind = CODED_COLUMNS.get(str(col)) or CODED_COLUMNS.get(canonical_name(col)[0] or "")
        if kind is None and pd.api.types.is_bool_dtype(out[col]):
            kind = "boolean"
        if kind is None:
            continue
        if kind == "column_names":  # columns named by code: their labels, in order
            out[col] = _column_labels(out[col], lang)
            continue
        labels = code_label_map(kind, lang)
        for other in FALLBACK_KINDS.get(kind, ()):
            labels = {**code_label_map(other, lang), **labels}
        joiner = "＋" if lang == "zh" else " + "

        def one(code: object, labels: dict = labels, joiner: str = joiner) -> object:
            if code is None or code is pd.NA or (isinstance(code, float) and math.isnan(code)):
                return code
            text = str(code)
            head, _, given = text.partition(" ")
            if text not in labels and head in labels and "=" in given:  # quantile tau=0.25
                return labels[head] + ("（" + given + "）" if lang == "zh" else f" ({given})")
            if text in labels or "+" not in text:
                return labels.get(text, text)
            parts = [p.strip() for p in text.split("+")]  # words already joined: as they were
            return joiner.join(labels.get(p, p) for p in parts)

        values = out[col].astype(object)
        codes, uniques = pd.factorize(values)
        shown = np.array([one(u) for u in uniques] + [None], dtype=object)[codes]
        blank = codes < 0  # a missing cell stays as it was (None, NaN)
        shown[blank] = values.to_numpy()[blank]
        out[col] = pd.Series(shown, index=out.index, dtype=object)
    return out
