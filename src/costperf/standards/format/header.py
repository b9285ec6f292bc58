"""Header check: every section of a table header (source, dimensions, items,
components, composite, layout, rules) and the effective dates, status and hash."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from costperf.schemas import YEARS
from costperf.standards.format.dates import as_date
from costperf.standards.format.header_rules import check_rule
from costperf.standards.format.keys import NAME_PATTERN, HeaderProblems, check_header_keys
from costperf.standards.format.schema import (
    COMPOSITE_KEYS,
    DIMENSION_KEYS,
    HEADER_KEYS,
    LABEL_KEYS,
    LAYOUT_KEYS,
    RESERVED_NAMES,
    SOURCE_KEYS,
    UPRATE_KEYS,
)


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
    out = HeaderProblems(header_file, header_text)
    check_header_keys(header, HEADER_KEYS, "", out)  # a missing key: the sections still checked
    if any(
        kind == "table" and key in header and not isinstance(header[key], dict)
        for key, (kind, _) in HEADER_KEYS.items()
    ):  # `items = 1`: reported above (a table ([section])); its entries cannot be read
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
    if "items" in header and not items:
        out.add("items", None, "at least one [items.<code>] section", "header_value")
    if "composite" in header:
        _check_composite(header["composite"], items, out)
    for section, spec in (("uprate", UPRATE_KEYS), ("layout", LAYOUT_KEYS)):
        if isinstance(header.get(section), dict):
            check_header_keys(header[section], spec, section + ".", out)
    _check_layout(header.get("layout", {}), dims, out)
    for name, rule in (header.get("rules", {}) or {}).items():
        check_rule(name, rule, dims, out)
    start, end = as_date(header.get("effective_from")), as_date(header.get("effective_to"))
    low, high = YEARS  # an end after them is open (as_end_date); a start is a typing error
    if start and not low <= start.year <= high:
        out.add(
            "effective_from",
            str(start),
            f"a date YYYY-MM-DD in the years {low} to {high}",
            "effective_dates",
        )
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


def _check_source(source: object, out: HeaderProblems) -> None:
    if not isinstance(source, dict):
        return
    check_header_keys(source, SOURCE_KEYS, "source.", out)
    if not source.get("document") and not source.get("method"):
        out.add(
            "source",
            None,
            "source.document (a published document) or source.method (how the values were derived)",
            "missing_source",
        )
    number = source.get("document_no")
    if isinstance(number, str) and number.strip() and not DOCUMENT_NO.match(number):
        near = _document_no_near(number)
        out.add(
            "source.document_no",
            number,
            DOCUMENT_NO_FORM + (f", e.g. {near}" if near else ""),
            "document_no_form",
        )
    if source.get("method") and not (source.get("data_hash") or source.get("basis")):
        out.add(
            "source.data_hash",
            None,
            "a data_hash (derived values) or a basis "
            "(uprated values) for a table with source.method",
            "missing_provenance",
        )


#: a document number (文号) as issued: the issuer's code, the year in 〔〕, the number, 号
DOCUMENT_NO = re.compile(r"^[^\s〔〕\[\]()（）【】［］]+〔(?:19|20)\d{2}〕\d+号$")
DOCUMENT_NO_FORM = (
    "a document number in the form 财行〔2016〕214号 (the year in 〔〕, ending in 号)"
)
_DOCUMENT_NO_LOOSE = re.compile(
    r"^\s*([^\s〔〕\[\]()（）【】［］{}]+?)\s*[〔\[(（【［{﹝]\s*((?:19|20)\d{2})\s*[〕\])）】］}﹞]"
    r"\s*第?\s*(\d+)\s*号?\s*$"
)


def _document_no_near(number: str) -> str | None:
    """``财行[2016]214号``, ``财行（2016）214``: the number as issued, 财行〔2016〕214号."""
    found = _DOCUMENT_NO_LOOSE.match(number)
    if not found:
        return None
    # the issued form of a 文号 (GB/T 9704), a code and no sentence: the same in zh and en
    return "".join((found[1], "〔", found[2], "〕", found[3], "号"))


def _check_named_section(
    name: str,
    spec: object,
    keys: Mapping[str, tuple[str, bool]],
    where: str,
    out: HeaderProblems,
    *,
    dimension: bool = True,
) -> None:
    pattern = NAME_PATTERN if dimension else re.compile(r"^[a-z0-9][a-z0-9_]*$")
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
    check_header_keys(spec, keys, where + ".", out)


def _check_composite(composite: object, items: Mapping[str, object], out: HeaderProblems) -> None:
    if not isinstance(composite, dict) or not check_header_keys(
        composite, COMPOSITE_KEYS, "composite.", out
    ):
        return
    for part in [composite["total"], *composite["components"]]:
        if part not in items:
            out.add("composite", part, "an item declared in [items]", "unknown_item")


def _check_layout(layout: object, dims: Mapping[str, object], out: HeaderProblems) -> None:
    if not isinstance(layout, dict):
        return
    allowed = [*dims, "item", "component"]
    for key in ("rows", "columns"):
        for field in layout.get(key, []) if isinstance(layout.get(key), list) else []:
            if field not in allowed:
                out.add(f"layout.{key}", field, "one of: " + ", ".join(allowed), "layout_field")
