"""Value-file check: columns, items, components, kinds, confidences, dimension values
and numbers (value within lower/upper) of the raw value rows."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from costperf.errors import make_problems
from costperf.schemas import LOCATION, coerce_numeric, concat_problems, row_problems
from costperf.standards.format.schema import (
    CONFIDENCES,
    KINDS,
    LIST_SEPARATOR,
    REQUIRED_VALUE_COLUMNS,
    VALUE_FILE_COLUMNS,
    WILDCARD,
)


def clean_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text; blanks and NaN become ''."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


def check_values(header: Mapping[str, object], raw: pd.DataFrame) -> pd.DataFrame:
    """Problems in the value rows of one table (columns, items, numbers, dims, bounds)."""
    dims = list((header.get("dimensions") or {}).keys())
    allowed = [*VALUE_FILE_COLUMNS, *dims]
    data_cols = [c for c in raw.columns if c not in LOCATION]
    parts = [
        _table_problems(
            raw,
            c,
            "a column of the value file: "
            + ", ".join(allowed)
            + " (dimensions are declared in the header's [dimensions])",
            "unknown_column",
        )
        for c in data_cols
        if c not in allowed
    ]
    semicolons = any(";" in str(c) for c in data_cols)  # saved with ';', read as one column
    hint = (
        " (the separator looks like a semicolon; save the file as a comma-separated CSV)"
        if semicolons
        else ""
    )
    parts += [
        _table_problems(raw, c, f"a column '{c}' in the value file{hint}", "missing_value_column")
        for c in REQUIRED_VALUE_COLUMNS
        if c not in raw.columns
    ]
    if any(not p.empty for p in parts):
        return concat_problems(parts)
    text = {c: clean_text(raw[c]) for c in data_cols}
    items = header.get("items") or {}
    components = header.get("components") or {}
    parts.append(
        row_problems(
            raw,
            ~text["item"].isin(list(items)),
            "item",
            "an item declared in the header's [items]: " + ", ".join(items),
            "unknown_item",
        )
    )
    if "component" in text:
        bad = text["component"].ne("") & ~text["component"].isin(list(components))
        parts.append(
            row_problems(
                raw,
                bad,
                "component",
                "a component declared in the "
                "header's [components]: " + (", ".join(components) or "none declared"),
                "unknown_component",
            )
        )
    parts.append(
        row_problems(raw, text["unit"].eq(""), "unit", "a unit (e.g. 元/人·天)", "missing_value")
    )
    if "kind" in text:
        parts.append(
            row_problems(
                raw,
                text["kind"].ne("") & ~text["kind"].isin(list(KINDS)),
                "kind",
                "one of: " + ", ".join(KINDS),
                "unknown_kind",
            )
        )
    if "confidence" in text:
        parts.append(
            row_problems(
                raw,
                text["confidence"].ne("") & ~text["confidence"].isin(CONFIDENCES),
                "confidence",
                "one of: V (read in the document), S (secondary copy), U (unverified)",
                "confidence",
            )
        )
    for dim in dims:
        parts.append(_dimension_problems(raw, text.get(dim), dim, header["dimensions"][dim]))
        if dim not in text:
            parts.append(
                _table_problems(
                    raw,
                    dim,
                    f"a column '{dim}' for the dimension declared "
                    "in [dimensions] (without it every line applies to "
                    "all values)",
                    "missing_dimension_column",
                )
            )
            parts[-1]["severity"] = "warning"
    parts.append(_number_problems(raw))
    parts.append(_unit_problems(raw, text, header))
    return concat_problems(parts)


def _unit_problems(
    raw: pd.DataFrame, text: Mapping[str, pd.Series], header: Mapping[str, object]
) -> pd.DataFrame:
    """Units that cannot all be right: a line whose unit differs from the other lines
    of its item and component (the composite total and its components share one), and
    money in 万元 or 千元 (the reviews compare yuan)."""
    unit = text["unit"]
    component = text.get("component", pd.Series("", index=raw.index))
    composite = header.get("composite") if isinstance(header.get("composite"), dict) else {}
    listed = composite.get("components")
    named_parts = [composite.get("total"), *(listed if isinstance(listed, list) else [])]
    members = {p for p in named_parts if isinstance(p, str)}
    in_composite = text["item"].isin(list(members))
    named = text["item"].where(component.eq(""), text["item"] + "/" + component)
    group = named.where(~in_composite, "\x1f" + str(composite.get("total")))
    parts = []
    given = unit.ne("") & text["item"].ne("")  # a blank item is reported as such
    for key, units in unit[given].groupby(group[given], sort=False):
        usual = units.value_counts(sort=True).index[0]  # the most lines' unit (first on ties)
        odd = pd.Series(False, index=raw.index)
        odd.loc[units.index[units.ne(usual)]] = True
        if not odd.any():
            continue
        if key.startswith("\x1f"):
            expected = f"the unit of the composite {key[1:]} and its components: {usual}"
        else:
            expected = f"the unit of the other lines of {key}: {usual}"
        parts.append(row_problems(raw, odd, "unit", expected, "unit_mismatch"))
    scaled = unit.str.match(r"^\s*[万千百]元")
    parts.append(
        row_problems(
            raw,
            scaled,
            "unit",
            "a unit in 元 (e.g. 元/人·天); convert values in 万元 or 千元 to 元",
            "money_unit",
        )
    )
    return concat_problems(parts)


def _table_problems(raw: pd.DataFrame, column: str, expected: str, check: str) -> pd.DataFrame:
    source_file = raw["source_file"].iloc[0] if len(raw) else raw.attrs.get("source", [""])[0]
    return make_problems(
        [
            {
                "source_file": source_file,
                "sheet": "",
                "source_row": raw.attrs.get("header_row", 1),
                "column": column,
                "value": column,
                "expected": expected,
                "check": check,
            }
        ]
    )


def _dimension_problems(
    raw: pd.DataFrame, cells: pd.Series | None, dim: str, spec: Mapping[str, object]
) -> pd.DataFrame:
    declared = spec.get("values")
    if cells is None or not declared:
        return concat_problems([])
    allowed = {*declared, WILDCARD, ""}

    def bad(cell: str) -> bool:
        return any(part.strip() not in allowed for part in cell.split(LIST_SEPARATOR))

    mask = cells.map(bad).astype(bool)
    return row_problems(
        raw,
        mask,
        dim,
        f"one of the values declared for '{dim}': "
        + ", ".join(declared)
        + f" (or '{WILDCARD}' / blank for all; "
        f"several joined by '{LIST_SEPARATOR}')",
        "unknown_dimension_value",
    )


def _number_problems(raw: pd.DataFrame) -> pd.DataFrame:
    typed, parts = coerce_numeric(raw, ["value"], min_value=0)
    typed, more = coerce_numeric(typed, ["lower", "upper"], min_value=0, allow_missing=True)
    parts = [parts, more]
    value = typed["value"]
    if "lower" in typed:
        parts.append(
            row_problems(
                raw,
                typed["lower"] > value,
                "lower",
                "lower <= value (the reasonable range must hold the value)",
                "lower_above_value",
            )
        )
    if "upper" in typed:
        parts.append(
            row_problems(
                raw,
                typed["upper"] < value,
                "upper",
                "upper >= value (the reasonable range must hold the value)",
                "upper_below_value",
            )
        )
    return concat_problems(parts)
