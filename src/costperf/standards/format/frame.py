"""Building the long frame: one row per value line (list cells split), with kind,
labels, stable standard ids and the header's provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from costperf.schemas import coerce_numeric
from costperf.standards.format.dates import as_date, as_end_date
from costperf.standards.format.schema import (
    FRAME_COLUMNS,
    FRAME_TAIL,
    LIST_SEPARATOR,
    VALUE_FILE_COLUMNS,
    WILDCARD,
)
from costperf.standards.format.values import clean_text


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
    end = as_end_date(header.get("effective_to"))
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
