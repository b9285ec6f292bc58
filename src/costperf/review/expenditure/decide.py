"""Deciding each line: approved, cut, decision, reason and provenance columns.

The last step: the kind reviewers' caps and bases become :data:`OUTPUT_COLUMNS`,
``approved = min(requested, cap)`` and ``approved + cut = requested``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from costperf.columns import TEXT_DTYPE, message_column
from costperf.review.expenditure.lookup import format_money, select_texts
from costperf.review.unit_cost import decision_columns
from costperf.standards.derive.table import round_half_up_values

OUTPUT_COLUMNS = [
    "request_id",
    "line_no",
    "expense_kind",
    "requested",
    "approvable",
    "approved",
    "cut",
    "cut_rate",
    "quantity",
    "quantity_cap",
    "approved_quantity",
    "unit_price",
    "unit_price_cap",
    "decision",
    "decision_zh",
    "rule",
    "standard_id",
    "standard_version",
    "document_no",
    "standard_lines",
    "verified",
    "reason_zh",
    "reason_en",
    "manual_review",
    "manual_review_reason_zh",
    "manual_review_reason_en",
    "source_file",
    "source_row",
]


def decide_lines(
    req: pd.DataFrame, work: pd.DataFrame, res: pd.DataFrame, *, arrow: bool = False
) -> pd.DataFrame:
    """Approved, cut, decision and the reason text for every line of ``res``.

    The rows are those of ``res``, in its order (``req`` and ``work``, one index, give
    the lines' own columns at them): the batch review decides its lines in the rules'
    order and places them once among the book's lines.  ``arrow``: the reasons as the
    ``str`` columns they are joined in (the batch review reads them so), not converted
    to objects a line (the expenditure review's output).
    """
    out = pd.DataFrame(index=res.index)
    at_rows = _at_rows(work.index, res.index)
    out["request_id"] = at_rows(req["request_id"])
    line_no = at_rows(req["line_no"]) if "line_no" in req else pd.Series(np.nan, index=res.index)
    whole = line_no.dropna().mod(1).eq(0).all()
    out["line_no"] = line_no.astype("Int64") if whole else line_no
    requested = at_rows(work["requested"])
    if "_approved_amount" in res:  # equipment: units within caps at min(price, cap)
        derived = round_half_up_values(res["quantity"] * res["unit_price"])  # to the fen, half-up
        requested = requested.where(requested.notna(), derived)
    uncovered = (
        res["uncovered"].fillna(False).astype(bool)
        if "uncovered" in res
        else pd.Series(False, index=res.index)
    )
    # the tables do not cover the line's facts: kept as requested, flagged below
    approvable = round_half_up_values(res["approvable"].astype(float).where(~uncovered, requested))
    approved = np.minimum(requested, approvable)
    if "_approved_amount" in res:  # 3 x 2,333.335 = 7,000.005: 7,000.01 (numpy's round: .00)
        own = round_half_up_values(res["_approved_amount"].astype(float))
        approved = approved.where(own.isna(), np.minimum(approved, own))
    approved = approved.where(~res["limit_reject"].fillna(False).astype(bool), 0.0)
    out["expense_kind"] = at_rows(work["kind"])
    out["requested"] = requested.round(2)
    out["approvable"] = approvable
    out["approved"] = approved
    out["cut"] = (out["requested"] - out["approved"]).round(2)
    out["cut_rate"] = out["cut"] / out["requested"].where(out["requested"] > 0)
    for col in ("quantity", "quantity_cap", "approved_quantity", "unit_price", "unit_price_cap"):
        out[col] = res[col] if col in res else np.nan
    reject = res["limit_reject"].fillna(False).astype(bool) | (
        (out["approved"] <= 0) & (out["requested"] > 0)
    )
    reduce = ~reject & (out["cut"] > 0)
    out["decision"], out["decision_zh"] = decision_columns(reject, reduce, out.index)
    for col in ("rule", "standard_id", "standard_version", "document_no", "standard_lines"):
        out[col] = res[col]
    out["verified"] = res["verified"]
    # the sentences joined in Arrow (message_column), then kept as objects unless ``arrow``
    r, a, c = (format_money(out[k], arrow=True) for k in ("requested", "approved", "cut"))
    # a line with no cap to meet (an intercity fare, as ticketed): passed, not 'within'
    uncapped = res["rule"].eq("travel_intercity") & ~uncovered & ~reject & ~reduce
    for lang in ("zh", "en"):
        basis = res[f"basis_{lang}"].astype(TEXT_DTYPE)
        # one frame: a case's rows are looked up once for all four values
        facts = pd.DataFrame({"basis": basis, "requested": r, "cut": c, "approved": a})
        out[f"reason_{lang}"] = _line_reasons(
            out.index,
            (uncovered, reject, reduce, uncapped),
            lang,
            lambda i, f=facts: dict(f.loc[i].items()),
            arrow=arrow,
        )
    out["uncovered"] = uncovered
    flagged = res["manual_review"] if "manual_review" in res else pd.Series(index=res.index)
    out["manual_review"] = flagged.eq(True) | uncovered  # kinds without the check: False
    for col in ("manual_review_reason_zh", "manual_review_reason_en"):
        out[col] = res[col].fillna("") if col in res else ""
    for col in ("source_file", "source_row"):
        out[col] = at_rows(req[col]) if col in req else np.nan
    return out[OUTPUT_COLUMNS]


def _at_rows(index: pd.Index, rows: pd.Index) -> Callable[[pd.Series], pd.Series]:
    """A column over ``index`` at ``rows`` (labels, any order; one not in ``index``:
    blank, as a reindex): as it is when ``rows`` is ``index``, else one positional take
    a column, the positions found once (the column's dtype kept)."""
    if rows.equals(index):
        return lambda column: column
    at = index.get_indexer(rows)
    if (at < 0).any():
        return lambda column: column.reindex(rows)
    return lambda column: pd.Series(
        column.array.take(at), index=rows, name=column.name, dtype=column.dtype
    )


def _line_reasons(
    index: pd.Index,
    cases: tuple[pd.Series, pd.Series, pd.Series, pd.Series],
    lang: str,
    values: Callable[[pd.Index], dict[str, pd.Series]],
    *,
    arrow: bool = False,
) -> pd.Series:
    """The reason of every line: uncovered, rejected or cut (the first that holds), else
    approved; ``values(rows)`` gives the sentence's columns for those rows (``arrow``:
    :func:`select_texts`'s)."""
    uncovered, reject, reduce, uncapped = cases
    return select_texts(
        index,
        [
            (uncovered, lambda i: message_column("reason.line.uncovered", lang, i, **values(i))),
            (reject, lambda i: message_column("reason.line.rejected", lang, i, **values(i))),
            (reduce, lambda i: message_column("reason.line.cut", lang, i, **values(i))),
            (uncapped, lambda i: message_column("reason.line.passed", lang, i, **values(i))),
        ],
        lambda i: message_column("reason.line.approved", lang, i, **values(i)),
        arrow=arrow,
    )
