"""The standard-table format: a TOML header plus a CSV of value lines.

``check_standard_table`` validates one table (header and raw value rows) and returns a
problems frame; ``build_values`` turns a valid table into long canonical rows;
``content_hash`` fingerprints a version so an edited published table is caught.
The format is documented for users in ``standards/README.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation

import pandas as pd

from costperf.errors import make_problems
from costperf.schemas import LOCATION, coerce_numeric, concat_problems, row_problems

KINDS = {
    "price_cap": "单价上限",
    "quantity_norm": "数量定额",
    "composite_quota": "综合定额",
    "unit_cost": "成本标准",
    "baseline": "绩效基线",
}
STATUSES = {"draft": "草案", "published": "已发布", "retired": "已废止"}
CONFIDENCES = ("V", "S", "U")
WILDCARD = "*"
LIST_SEPARATOR = "|"
ROUNDING_MODES = ("half_up", "half_even", "down", "up", "floor", "ceiling")
#: header keys left out of the content hash: retiring or sealing a version is not an edit.
UNHASHED_KEYS = ("content_hash", "status", "effective_to")

# ---- the header schema: key -> (type, required) -------------------------------------

HEADER_KEYS: dict[str, tuple[str, bool]] = {
    "table_id": ("id", True),
    "version": ("int", True),
    "status": ("status", True),
    "kind": ("kind", True),
    "title": ("str", True),
    "title_en": ("str", False),
    "issuer": ("str", True),
    "jurisdiction": ("str", False),
    "class_of_matter": ("str", False),
    "scope_econ_codes": ("str_list", False),
    "effective_from": ("date", True),
    "effective_to": ("date", False),
    "values": ("str", False),
    "content_hash": ("str", False),
    "unverified": ("str_list", False),
    "confidence": ("confidence", False),
    "notes": ("str_list", False),
    "notes_en": ("str_list", False),
    "source": ("table", True),
    "dimensions": ("table", False),
    "items": ("table", True),
    "components": ("table", False),
    "composite": ("table", False),
    "rules": ("table", False),
    "uprate": ("table", False),
    "layout": ("table", False),
}
SOURCE_KEYS = {
    "document": ("str", False),
    "document_no": ("str", False),
    "reference": ("str", False),
    "url": ("str", False),
    "note": ("str", False),
    "method": ("str", False),
    "parameters": ("table", False),
    "data_hash": ("str", False),
    "peer_rows": ("str", False),
    "basis": ("str", False),
    "basis_hash": ("str", False),
    "index": ("number", False),
    "rounding": ("str", False),
}
DIMENSION_KEYS = {
    "label_zh": ("str", True),
    "label_en": ("str", False),
    "values": ("str_list", False),
    "aliases": ("str_map", False),
    "strip_suffixes": ("str_list", False),
    "wildcard_zh": ("str", False),
    "wildcard_en": ("str", False),
    "default": ("str", False),
}
LABEL_KEYS = {
    "label_zh": ("str", True),
    "label_en": ("str", False),
    "group_zh": ("str", False),
    "group_en": ("str", False),
    "kind": ("kind", False),
}
COMPOSITE_KEYS = {
    "total": ("str", True),
    "components": ("str_list", True),
    "offset_allowed": ("bool", False),
}
UPRATE_KEYS = {"step": ("positive", False), "mode": ("rounding", False)}
LAYOUT_KEYS = {"rows": ("str_list", False), "columns": ("str_list", False)}
RULE_COMMON = {
    "type": ("str", True),
    "label_zh": ("str", False),
    "label_en": ("str", False),
    "note_zh": ("str", False),
    "note_en": ("str", False),
    "confidence": ("confidence", False),
}
RULE_KEYS: dict[str, dict[str, tuple[str, bool]]] = {
    "option": {"value": ("any", True)},
    "limit": {"max": ("number", False), "min": ("number", False), "unit": ("str", False)},
    "tiers": {
        "var": ("str", True),
        "tiers": ("list", True),
        "item": ("str", False),
        "component": ("str", False),
        "rounding": ("str", False),
    },
    "seasons": {
        "dim": ("str", True),
        "key": ("str", True),
        "peak": ("str", True),
        "off_peak": ("str", True),
        "windows": ("table", True),
    },
    "map": {
        "dim": ("str", True),
        "key": ("str", True),
        "map": ("str_map", True),
        "strip_suffixes": ("str_list", False),
    },
    "bands": {"dim": ("str", True), "key": ("str", True), "bands": ("list", True)},
}
#: rules that derive a dimension of the query from another column (and the date).
DERIVING_RULES = ("seasons", "map", "bands")

# ---- the value file ------------------------------------------------------------------

VALUE_FILE_COLUMNS = (
    "item",
    "component",
    "value",
    "lower",
    "upper",
    "unit",
    "kind",
    "confidence",
    "note",
)
REQUIRED_VALUE_COLUMNS = ("item", "value", "unit")
#: columns of the loaded long frame (dimension columns go after ``component_zh``).
FRAME_COLUMNS = (
    "table_id",
    "version",
    "status",
    "standard_id",
    "kind",
    "item",
    "item_zh",
    "component",
    "component_zh",
    "name",
    "name_zh",
)
FRAME_TAIL = (
    "unit",
    "value",
    "lower",
    "upper",
    "effective_from",
    "effective_to",
    "scope_econ_codes",
    "verified",
    "confidence",
    "note",
    "title",
    "issuer",
    "jurisdiction",
    "source_document",
    "document_no",
    "source_method",
    "content_hash",
    "source_file",
    "source_row",
)
RESERVED_NAMES = (
    set(FRAME_COLUMNS)
    | set(FRAME_TAIL)
    | set(VALUE_FILE_COLUMNS)
    | {"sheet", "table", "date", "on", "lookup_status", "season_rule"}
)

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_month_day(text: object) -> tuple[int, int] | None:
    """``'02-29'`` -> ``(2, 29)``; None when not a valid MM-DD (29 February allowed)."""
    match = _MONTH_DAY.match(str(text))
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return None
    return month, day


def as_date(value: object) -> dt.date | None:
    """A TOML date or an ISO date string as :class:`datetime.date` (None if neither)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


# ---- header checks -------------------------------------------------------------------


class _HeaderProblems:
    """Collects header problems, locating keys in the TOML text where possible."""

    def __init__(self, header_file: str, header_text: str | None) -> None:
        self.file = header_file
        self.lines = (header_text or "").splitlines()
        self.rows: list[dict[str, object]] = []

    def add(
        self, key: str, value: object, expected: str, check: str, severity: str = "error"
    ) -> None:
        shown = "" if value is None else value if isinstance(value, str) else repr(value)
        self.rows.append(
            {
                "source_file": self.file,
                "sheet": "",
                "source_row": self.line_of(key),
                "column": key,
                "value": shown,
                "expected": expected,
                "check": check,
                "severity": severity,
            }
        )

    def line_of(self, dotted: str) -> int | str:
        """1-based line of ``dotted`` key in the header text ('' when not found)."""
        parts = dotted.split(".")
        start, section = 0, ".".join(parts[:-1])
        if section:
            pattern = re.compile(r"^\s*\[\s*" + _section_pattern(parts[:-1]) + r"\s*\]\s*$")
            hits = [i for i, line in enumerate(self.lines) if pattern.match(line)]
            if hits:
                start = hits[0] + 1
            else:
                return self.line_of(section) if len(parts) > 2 else ""
        key = re.compile(r'^\s*"?' + re.escape(parts[-1]) + r'"?\s*=')
        for i in range(start, len(self.lines)):
            if section and self.lines[i].lstrip().startswith("[") and i > start:
                break
            if not section and self.lines[i].lstrip().startswith("["):
                break
            if key.match(self.lines[i]):
                return i + 1
        return start if section and start else ""

    def frame(self) -> pd.DataFrame:
        return make_problems(self.rows)


def _section_pattern(parts: Sequence[str]) -> str:
    return r"\s*\.\s*".join(r'"?' + re.escape(p) + r'"?' for p in parts)


_TYPE_CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "str": (lambda v: isinstance(v, str), "text"),
    "id": (
        lambda v: isinstance(v, str) and bool(_ID.match(v)),
        "an id of lower-case letters, digits and '-' (e.g. 'meeting-fee')",
    ),
    "int": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "a whole number >= 1",
    ),
    "number": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    "positive": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
        "a number > 0",
    ),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "date": (lambda v: as_date(v) is not None, "a date YYYY-MM-DD"),
    "status": (lambda v: v in STATUSES, "one of: " + ", ".join(STATUSES)),
    "kind": (lambda v: v in KINDS, "one of: " + ", ".join(KINDS)),
    "confidence": (lambda v: v in CONFIDENCES, "one of: V, S, U"),
    "rounding": (lambda v: v in ROUNDING_MODES, "one of: " + ", ".join(ROUNDING_MODES)),
    "str_list": (
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "a list of text values",
    ),
    "str_map": (
        lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "a table of text values",
    ),
    "table": (lambda v: isinstance(v, dict), "a table ([section])"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "any": (lambda v: True, "any value"),
}


def _check_keys(
    data: Mapping[str, object],
    spec: Mapping[str, tuple[str, bool]],
    prefix: str,
    out: _HeaderProblems,
) -> bool:
    """Check known/required keys and value types; return True when all is well."""
    ok = True
    where = f"[{prefix.rstrip('.')}]" if prefix else "the header"
    for key, value in data.items():
        if key not in spec:
            out.add(
                prefix + key,
                key,
                f"a known key in {where}: " + ", ".join(spec),
                "unknown_header_key",
            )
            ok = False
            continue
        test, expected = _TYPE_CHECKS[spec[key][0]]
        if not test(value):
            out.add(prefix + key, value, expected, "header_value")
            ok = False
    for key, (_, required) in spec.items():
        if required and key not in data:
            out.add(
                prefix + key,
                None,
                f"the key '{key}' in {where} (it is required)",
                "missing_header_key",
            )
            ok = False
    return ok


def check_header(
    header: Mapping[str, object], *, header_file: str = "", header_text: str | None = None
) -> pd.DataFrame:
    """Problems in a table header (keys, types, references between sections).

    Parameters
    ----------
    header
        The parsed TOML header.
    header_file, header_text
        Where the header came from, to locate problems by line.

    Returns
    -------
    DataFrame
        Problems table (:data:`costperf.errors.PROBLEM_COLUMNS`).
    """
    out = _HeaderProblems(header_file, header_text)
    if not _check_keys(header, HEADER_KEYS, "", out) and any(
        r["check"] == "missing_header_key" for r in out.rows
    ):
        return out.frame()
    _check_source(header.get("source", {}), out)
    dims = header.get("dimensions", {}) or {}
    for name, spec in dims.items():
        _check_named_section(name, spec, DIMENSION_KEYS, f"dimensions.{name}", out)
    items = header.get("items", {}) or {}
    components = header.get("components", {}) or {}
    for section, table in (("items", items), ("components", components)):
        for name, spec in table.items():
            _check_named_section(name, spec, LABEL_KEYS, f"{section}.{name}", out, dimension=False)
    if "composite" in header:
        _check_composite(header["composite"], items, out)
    for section, spec in (("uprate", UPRATE_KEYS), ("layout", LAYOUT_KEYS)):
        if isinstance(header.get(section), dict):
            _check_keys(header[section], spec, section + ".", out)
    _check_layout(header.get("layout", {}), dims, out)
    for name, rule in (header.get("rules", {}) or {}).items():
        _check_rule(name, rule, dims, out)
    start, end = as_date(header.get("effective_from")), as_date(header.get("effective_to"))
    if start and end and end < start:
        out.add(
            "effective_to",
            str(end),
            f"a date on or after effective_from ({start})",
            "effective_dates",
        )
    if header.get("status") == "retired" and "effective_to" not in header:
        out.add(
            "effective_to", None, "an effective_to date for a retired table", "retired_without_end"
        )
    if header.get("status") in ("published", "retired") and not header.get("content_hash"):
        out.add(
            "content_hash",
            None,
            "the content hash of a published table (run 'costperf standards seal' on the draft)",
            "missing_hash",
        )
    return out.frame()


def _check_source(source: object, out: _HeaderProblems) -> None:
    if not isinstance(source, dict):
        return
    _check_keys(source, SOURCE_KEYS, "source.", out)
    if not source.get("document") and not source.get("method"):
        out.add(
            "source",
            None,
            "source.document (a published document) or source.method (how the values were derived)",
            "missing_source",
        )
    if source.get("method") and not (source.get("data_hash") or source.get("basis")):
        out.add(
            "source.data_hash",
            None,
            "a data_hash (derived values) or a basis "
            "(uprated values) for a table with source.method",
            "missing_provenance",
        )


def _check_named_section(
    name: str,
    spec: object,
    keys: Mapping[str, tuple[str, bool]],
    where: str,
    out: _HeaderProblems,
    *,
    dimension: bool = True,
) -> None:
    pattern = _NAME if dimension else re.compile(r"^[a-z0-9][a-z0-9_]*$")
    if not pattern.match(name) or (dimension and name in RESERVED_NAMES):
        out.add(
            where,
            name,
            "a snake_case name that is not a reserved column (e.g. 'staff_level')",
            "header_name",
        )
    if not isinstance(spec, dict):
        out.add(where, spec, "a table with label_zh", "header_value")
        return
    _check_keys(spec, keys, where + ".", out)


def _check_composite(composite: object, items: Mapping[str, object], out: _HeaderProblems) -> None:
    if not isinstance(composite, dict) or not _check_keys(
        composite, COMPOSITE_KEYS, "composite.", out
    ):
        return
    for part in [composite["total"], *composite["components"]]:
        if part not in items:
            out.add("composite", part, "an item declared in [items]", "unknown_item")


def _check_layout(layout: object, dims: Mapping[str, object], out: _HeaderProblems) -> None:
    if not isinstance(layout, dict):
        return
    allowed = [*dims, "item", "component"]
    for key in ("rows", "columns"):
        for field in layout.get(key, []) if isinstance(layout.get(key), list) else []:
            if field not in allowed:
                out.add(f"layout.{key}", field, "one of: " + ", ".join(allowed), "layout_field")


def _check_rule(name: str, rule: object, dims: Mapping[str, object], out: _HeaderProblems) -> None:
    where = f"rules.{name}"
    if not isinstance(rule, dict):
        out.add(where, rule, "a table with a 'type'", "header_value")
        return
    rule_type = rule.get("type")
    if rule_type not in RULE_KEYS:
        out.add(where + ".type", rule_type, "one of: " + ", ".join(RULE_KEYS), "rule_type")
        return
    if not _check_keys(rule, {**RULE_COMMON, **RULE_KEYS[rule_type]}, where + ".", out):
        return
    if rule_type in DERIVING_RULES and rule["dim"] not in dims:
        out.add(
            where + ".dim", rule["dim"], "a dimension declared in [dimensions]", "rule_dimension"
        )
    check = {
        "tiers": _check_tiers,
        "seasons": _check_seasons,
        "bands": _check_bands,
        "limit": _check_limit,
    }.get(rule_type)
    if check:
        check(rule, where, out)


def _check_limit(rule: Mapping[str, object], where: str, out: _HeaderProblems) -> None:
    if "max" not in rule and "min" not in rule:
        out.add(where, None, "a 'max' or a 'min'", "rule_limit")


def _check_tiers(rule: Mapping[str, object], where: str, out: _HeaderProblems) -> None:
    tiers, previous = rule["tiers"], 0.0
    if rule.get("rounding", "none") not in ("none", "floor", "ceil"):
        out.add(where + ".rounding", rule["rounding"], "one of: none, floor, ceil", "rule_rounding")
    for i, tier in enumerate(tiers):
        here = f"{where}.tiers[{i + 1}]"
        if not isinstance(tier, dict) or set(tier) - {"upto", "rate", "per"}:
            out.add(
                here, tier, "an inline table with 'upto' and one of 'rate' or 'per'", "rule_tier"
            )
            continue
        if ("rate" in tier) == ("per" in tier):
            out.add(
                here, tier, "exactly one of 'rate' (per unit) or 'per' (one per N)", "rule_tier"
            )
        per = tier.get("per")
        if per is not None and (not _is_number(per) or per <= 0):
            out.add(here + ".per", per, "a number > 0", "rule_tier")
        last = i == len(tiers) - 1
        upto = tier.get("upto")
        if last and upto is not None:
            out.add(
                here + ".upto", upto, "no 'upto' on the last tier (it is open-ended)", "rule_tier"
            )
        if not last and (not _is_number(upto) or upto <= previous):
            out.add(
                here + ".upto", upto, f"a number above {previous:g} (tiers ascend)", "rule_tier"
            )
        previous = upto if _is_number(upto) else previous
    if not tiers:
        out.add(where + ".tiers", tiers, "at least one tier", "rule_tier")


def _check_seasons(rule: Mapping[str, object], where: str, out: _HeaderProblems) -> None:
    for key, windows in rule["windows"].items():
        here = f"{where}.windows.{key}"
        if not isinstance(windows, list) or not windows:
            out.add(here, windows, "a list of {start = 'MM-DD', end = 'MM-DD'}", "rule_window")
            continue
        for window in windows:
            if (
                not isinstance(window, dict)
                or set(window) != {"start", "end"}
                or parse_month_day(window["start"]) is None
                or parse_month_day(window["end"]) is None
            ):
                out.add(
                    here,
                    window,
                    "{start = 'MM-DD', end = 'MM-DD'} (inclusive; a window "
                    "may wrap the year end, e.g. 11-01 to 02-29)",
                    "rule_window",
                )


def _check_bands(rule: Mapping[str, object], where: str, out: _HeaderProblems) -> None:
    bands, previous = rule["bands"], float("-inf")
    for i, band in enumerate(bands):
        here = f"{where}.bands[{i + 1}]"
        last = i == len(bands) - 1
        if (
            not isinstance(band, dict)
            or not isinstance(band.get("label"), str)
            or set(band) - {"label", "upto"}
        ):
            out.add(
                here,
                band,
                "{label = '...', upto = N} (upto inclusive; none on the last)",
                "rule_band",
            )
            continue
        upto = band.get("upto")
        if last != (upto is None) or (
            upto is not None and (not _is_number(upto) or upto <= previous)
        ):
            out.add(here, band, "ascending 'upto' limits, open-ended last band", "rule_band")
        previous = upto if _is_number(upto) else previous


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---- value checks --------------------------------------------------------------------


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
    parts += [
        _table_problems(raw, c, f"a column '{c}' in the value file", "missing_column")
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


# ---- the long frame ------------------------------------------------------------------


def line_kind(header: Mapping[str, object], item: str, component: str, cell: str) -> str:
    """Kind of one value line: its own cell, else its component's, item's, the table's."""
    if cell:
        return cell
    for section, key in (("components", component), ("items", item)):
        spec = (header.get(section) or {}).get(key) or {}
        if spec.get("kind"):
            return str(spec["kind"])
    return str(header["kind"])


def build_values(
    header: Mapping[str, object], raw: pd.DataFrame, *, content_hash: str = ""
) -> pd.DataFrame:
    """Expand a checked table into long rows, one per value line (list cells split).

    Returns
    -------
    DataFrame
        :data:`FRAME_COLUMNS`, the table's dimension columns, then :data:`FRAME_TAIL`.
        Wildcard dimension cells hold ``'*'``; ``effective_to`` is the declared end
        (supersession is applied by the loader).
    """
    dims = list((header.get("dimensions") or {}).keys())
    frame = pd.DataFrame(
        {c: clean_text(raw[c]) if c in raw else "" for c in (*VALUE_FILE_COLUMNS, *dims)},
        index=raw.index,
    )
    typed, _ = coerce_numeric(raw, ["value"], min_value=0)
    typed, _ = coerce_numeric(typed, ["lower", "upper"], allow_missing=True)
    for col in ("value", "lower", "upper"):
        frame[col] = typed[col] if col in typed else float("nan")
    frame["source_file"] = raw["source_file"].astype(str)
    frame["source_row"] = raw["source_row"].astype(int)
    for dim in dims:
        frame[dim] = frame[dim].replace("", WILDCARD).str.split(LIST_SEPARATOR)
        frame = frame.explode(dim)
        frame[dim] = frame[dim].str.strip().replace("", WILDCARD)
    frame = frame.reset_index(drop=True)
    return _decorate(header, frame, dims, content_hash)


def _decorate(
    header: Mapping[str, object], frame: pd.DataFrame, dims: list[str], content_hash: str
) -> pd.DataFrame:
    items, comps = header.get("items") or {}, header.get("components") or {}
    source = header.get("source") or {}
    table_id = str(header["table_id"])
    frame["table_id"] = table_id
    frame["version"] = int(header["version"])
    frame["status"] = header["status"]
    frame["kind"] = [
        line_kind(header, i, c, k)
        for i, c, k in zip(frame["item"], frame["component"], frame["kind"], strict=True)
    ]
    frame["item_zh"] = frame["item"].map(lambda i: items.get(i, {}).get("label_zh", i))
    frame["component_zh"] = frame["component"].map(
        lambda c: comps.get(c, {}).get("label_zh", c) if c else ""
    )
    frame["name"] = frame["item"].where(
        frame["component"].eq(""), frame["item"] + "." + frame["component"]
    )
    frame["name_zh"] = frame["item_zh"].where(
        frame["component"].eq(""), frame["item_zh"] + "（" + frame["component_zh"] + "）"
    )
    frame["standard_id"] = standard_ids(table_id, frame, dims)
    frame["effective_from"] = pd.Timestamp(as_date(header["effective_from"]))
    end = as_date(header.get("effective_to"))
    frame["effective_to"] = pd.Timestamp(end) if end else pd.NaT
    frame["scope_econ_codes"] = LIST_SEPARATOR.join(header.get("scope_econ_codes", []))
    default_conf = str(header.get("confidence", ""))
    frame["confidence"] = frame["confidence"].where(frame["confidence"].ne(""), default_conf)
    frame["verified"] = frame["confidence"].ne("U")
    for key, col in (("title", "title"), ("issuer", "issuer"), ("jurisdiction", "jurisdiction")):
        frame[col] = str(header.get(key, ""))
    frame["source_document"] = str(source.get("document", ""))
    frame["document_no"] = str(source.get("document_no", ""))
    frame["source_method"] = str(source.get("method", ""))
    frame["content_hash"] = content_hash
    return frame[[*FRAME_COLUMNS, *dims, *FRAME_TAIL]]


def standard_ids(table_id: str, frame: pd.DataFrame, dims: Sequence[str]) -> pd.Series:
    """Stable id of each value line: ``table/dim values (no wildcards)/item[/component]``.

    ``meeting-fee/二类会议/lodging``, ``office-equipment/司局级/desk/price``.
    """
    parts = [frame[d] for d in dims] + [frame["item"], frame["component"]]
    return pd.Series(
        [
            "/".join([table_id, *(p for p in row if p and p != WILDCARD)])
            for row in zip(*parts, strict=True)
        ]
        if len(frame)
        else [],
        index=frame.index,
        dtype=object,
    )


def check_lines(header: Mapping[str, object], values: pd.DataFrame) -> pd.DataFrame:
    """Problems across value lines: duplicate lines and composites that do not add up."""
    parts = []
    again = values.duplicated("standard_id", keep="first")
    if again.any():
        first = values.groupby("standard_id", sort=False)["source_row"].transform("first")
        parts.append(
            make_problems(
                [
                    {
                        "source_file": r.source_file,
                        "source_row": r.source_row,
                        "column": "item",
                        "value": r.standard_id,
                        "expected": f"one line per item and dimension values "
                        f"(this line repeats row {f})",
                        "check": "duplicate_line",
                    }
                    for r, f in zip(values[again].itertuples(), first[again], strict=True)
                ]
            )
        )
    composite = header.get("composite")
    if isinstance(composite, dict) and not values.empty:
        parts.append(
            check_composite(values, composite, list((header.get("dimensions") or {}).keys()))
        )
    return concat_problems(parts)


def check_composite(
    values: pd.DataFrame,
    composite: Mapping[str, object],
    dims: Sequence[str],
    *,
    tolerance: float = 1e-6,
) -> pd.DataFrame:
    """Problems where the component lines of a composite quota do not sum to its total."""
    total_item, parts = composite["total"], list(composite["components"])
    rows = []
    keys = [*dims, "component"]
    for key, group in values.groupby(keys, sort=False, dropna=False):
        by_item = group.set_index("item")
        if total_item not in by_item.index:
            continue
        total = by_item.loc[total_item]
        where = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        label = "/".join(str(v) for k, v in where.items() if v not in ("", WILDCARD)) or "all"
        missing = [p for p in parts if p not in by_item.index]
        if missing:
            rows.append(
                {
                    "source_file": total["source_file"],
                    "source_row": total["source_row"],
                    "column": "item",
                    "value": ", ".join(missing),
                    "expected": f"a line for every component of the composite ({label})",
                    "check": "composite_component_missing",
                }
            )
            continue
        summed = float(by_item.loc[parts, "value"].sum())
        if abs(summed - float(total["value"])) > tolerance:
            rows.append(
                {
                    "source_file": total["source_file"],
                    "source_row": total["source_row"],
                    "column": "value",
                    "value": f"{float(total['value']):g}",
                    "expected": f"the sum of the components {' + '.join(parts)} = "
                    f"{summed:g} ({label})",
                    "check": "composite_sum",
                }
            )
    return make_problems(rows)


# ---- hashing -------------------------------------------------------------------------


def _canonical_cell(value: object) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    text = text.strip()
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    return format(number.normalize(), "f")


def _canonical_header(value: object) -> object:
    if isinstance(value, dict):
        return {k: _canonical_header(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_header(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def content_hash(
    header: Mapping[str, object], raw: pd.DataFrame, *, extra: Mapping[str, str] | None = None
) -> str:
    """Fingerprint of a table version: ``'sha256:<hex>'``.

    Covers the header (except :data:`UNHASHED_KEYS`) and every value cell, independent
    of row order, column order, blank columns, line endings and number spelling
    (``500`` = ``500.0``); ``extra`` adds digests of side files (peer rows).
    """
    head = {k: _canonical_header(v) for k, v in header.items() if k not in UNHASHED_KEYS}
    cols = sorted(c for c in raw.columns if c not in LOCATION)
    rows = sorted(
        json.dumps(
            {c: cell for c in cols if (cell := _canonical_cell(r[c]))},
            ensure_ascii=False,
            sort_keys=True,
        )
        for _, r in raw[cols].iterrows()
    )
    payload = json.dumps(
        {"header": head, "values": rows, "extra": dict(extra or {})},
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def check_standard_table(
    header: Mapping[str, object],
    raw: pd.DataFrame,
    *,
    header_file: str = "",
    header_text: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Validate one standard table: header, value rows, lines and its content hash.

    Parameters
    ----------
    header
        Parsed TOML header.
    raw
        Value rows as read by :func:`costperf.io.read_table` (raw text cells plus
        ``source_file``, ``sheet``, ``source_row``).
    header_file, header_text
        The header's path and text (to give line numbers).
    extra
        Digests of side files that belong to the version (peer rows).

    Returns
    -------
    DataFrame
        Problems table; empty when the table is valid.
    """
    return check_and_build(
        header, raw, header_file=header_file, header_text=header_text, extra=extra
    )[0]


def check_and_build(
    header: Mapping[str, object],
    raw: pd.DataFrame,
    *,
    header_file: str = "",
    header_text: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """:func:`check_standard_table`, also returning the long values (None if the value
    rows have errors) and the content hash, so a loader builds them once."""
    problems = check_header(header, header_file=header_file, header_text=header_text)
    if (problems["severity"] == "error").any():
        return problems, None, ""
    value_problems = check_values(header, raw)
    parts = [problems, value_problems]
    actual = content_hash(header, raw, extra=extra)
    values = None
    if not (value_problems["severity"] == "error").any():
        values = build_values(header, raw, content_hash=actual)
        parts.append(check_lines(header, values))
    recorded = header.get("content_hash")
    if recorded and recorded != actual:
        severity = "error" if header.get("status") in ("published", "retired") else "warning"
        out = _HeaderProblems(header_file, header_text)
        out.add(
            "content_hash",
            recorded,
            f"{actual}: the content of this "
            f"{header.get('status')} version changed after it was sealed; published "
            "versions are immutable, make a new version instead",
            "content_hash",
            severity,
        )
        parts.append(out.frame())
    return concat_problems(parts), values, actual
