"""Looking up standard lines for request lines, and citing them in the results.

Failed look-ups become problems on the column they name; the lines, table versions
and document numbers used become the provenance columns, with :func:`fmt_amount` for the
numbers shown in reasons.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.schemas import concat_problems, row_problems
from costperf.standards import StandardSet, lookup_values
from costperf.standards.lookup import OK


def lookup_lines(
    standards: StandardSet,
    query: pd.DataFrame,
    table: str,
    item: str,
    component: str | None = None,
) -> pd.DataFrame:
    """``lookup_values`` on the ``date`` column with only the dimensions in ``query``."""
    dims = [c for c in query.columns if c not in ("date", "room_area_m2")]
    return lookup_values(
        standards, query, on="date", table=table, item=item, component=component, dims=dims
    ).set_index(query.index)


def lookup_problems(
    req: pd.DataFrame, found: pd.DataFrame, columns: Mapping[str, str], expected: str
) -> pd.DataFrame:
    """Problems for looked-up rows whose status is not ok, on the column the status names."""
    bad = found["lookup_status"].ne(OK)
    if not bad.any():
        return concat_problems([])
    status = found.loc[bad, "lookup_status"].astype(str)
    parts = []
    for dim, column in columns.items():
        mine = status.str.contains(dim) & ~status.str.contains("table in force|date")
        if dim == "date":
            mine = status.str.contains("table in force|date")
        mask = pd.Series(False, index=req.index)
        mask.loc[mine.index[mine]] = True
        text = "; ".join(sorted(set(status[mine])))
        what = "a date on which the standard table is in force" if dim == "date" else expected
        parts.append(row_problems(req, mask, column, f"{what} ({text})", "unknown_value"))
        status = status[~mine]
    if len(status):
        mask = pd.Series(False, index=req.index)
        mask.loc[status.index] = True
        first = next(iter(columns.values()))
        parts.append(row_problems(req, mask, first, f"{expected} ({status.iloc[0]})", "lookup"))
    return concat_problems(parts)


def line_refs(found: pd.DataFrame) -> pd.Series:
    """``standard_id@version=value unit`` of looked-up lines."""
    return (
        found["standard_id"].astype(str)
        + "@"
        + found["version"].astype(str)
        + "="
        + found["value"].map(fmt_amount).astype(str)
        + " "
        + found["unit"].astype(str)
    )


def table_refs(*found: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``table@version`` list and document numbers per row (NaN lookups skipped)."""
    refs, docs = None, None
    for frame in found:
        ok = frame["lookup_status"].eq(OK)
        ref = (frame["table_id"].astype(str) + "@" + frame["version"].astype(str)).where(ok, "")
        doc = frame["document_no"].astype(object).fillna("").astype(str).where(ok, "")
        refs = ref if refs is None else join_texts(refs, ref)
        docs = doc if docs is None else join_texts(docs, doc, unique=True)
    return refs, docs


def join_texts(left: pd.Series, right: pd.Series, *, unique: bool = False) -> pd.Series:
    def one(a: str, b: str) -> str:
        parts = [p for p in a.split("; ") if p]
        if b and not (unique and b in parts):
            parts.append(b)
        return "; ".join(parts)

    return pd.Series([one(a, b) for a, b in zip(left, right, strict=True)], index=left.index)


def fmt_amount(x: object) -> str:
    """Money and counts for reasons: 114,000 / 33.5 / 1,234.56."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    value = float(x)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
