"""Flags that change no amount: no applicable standard, duplicate lines.

* **No applicable standard** (无适用标准，需人工审核): a line no line rule reviews and
  no unit-cost standard of its project covers is approved as requested and flagged; it
  is never approved silently.  So is a line whose facts the tables do not cover (a city
  outside the lodging table).
* **Duplicates**: a line with the same project, item (明细名称) and requested amount as
  an earlier line is flagged, naming the first one.
* **A named standard its facts do not select**: a line naming ``meeting-fee/二类会议/total``
  whose 会议类别 is 三类 is reviewed by its facts (三类) and flagged, naming both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.columns import message, message_column
from costperf.review.batch.context import BatchContext
from costperf.review.expenditure.lookup import line_order, map_distinct
from costperf.review.registry import ReviewRule, register, review_rules

FLAG_COLUMNS = ["manual_review", "manual_review_reason_zh", "manual_review_reason_en"]


def flag_no_standard(
    lines: pd.DataFrame, verdicts: pd.DataFrame, context: BatchContext
) -> pd.DataFrame:
    """Lines with no line rule and no covering project standard (``route_rule`` empty or
    a unit-cost line of an uncovered project), in projects that are funded at all (not
    rejected by the target gate).  Lines whose facts the tables do not cover are flagged
    by their line rule (``uncovered``)."""
    covered = verdicts.index[verdicts["covered"].astype(bool)] if len(verdicts) else []
    rejected = verdicts.index[verdicts["reject"].astype(bool)] if len(verdicts) else []
    # a project not funded at all (no targets) has nothing to check by hand on its lines
    skip = lines["project_id"].isin(set(covered) | set(rejected))
    no_rule = ~lines["route_rule"].isin(set(review_rules("line"))) & ~skip
    out = pd.DataFrame(index=lines.index)
    out["manual_review"] = no_rule
    for lang in ("zh", "en"):
        text = message("reason.check.no_standard", lang)
        out[f"manual_review_reason_{lang}"] = np.where(no_rule, text, "")
    return out


def flag_duplicates(
    lines: pd.DataFrame, verdicts: pd.DataFrame, context: BatchContext
) -> pd.DataFrame:
    """Lines repeating an earlier line's (by 序号) project, item and requested amount."""
    order = line_order(lines)
    if (order != np.arange(len(lines))).any():  # the first of the repeats by 序号
        read = [
            c for c in ("project_id", "item", "requested", "line_no", "source_row") if c in lines
        ]
        ordered = lines[read].iloc[order]  # the columns read below only, not every one
        return flag_duplicates(ordered, verdicts, context).reindex(lines.index)
    out = pd.DataFrame(index=lines.index)
    out["manual_review"] = False
    out["manual_review_reason_zh"] = ""
    out["manual_review_reason_en"] = ""
    if "item" not in lines:
        return out
    item = map_distinct(lines["item"].astype(object), lambda v: "".join(str(v).split()))
    keys = pd.DataFrame(
        {"project": lines["project_id"], "item": item, "amount": lines["requested"].round(2)}
    )
    known = keys.notna().all(axis=1)
    repeat = keys.duplicated(keep="first") & known
    if not repeat.any():
        return out
    group = keys.groupby(list(keys.columns), sort=False, dropna=True).ngroup()
    first = pd.Series(np.arange(len(lines)), index=lines.index).groupby(group).transform("first")
    line_no = lines["line_no"] if "line_no" in lines else pd.Series(np.nan, index=lines.index)
    where = lines["source_row"] if "source_row" in lines else pd.Series(lines.index + 1)
    pick = first[repeat].astype(int).to_numpy()
    ref_no, ref_row = line_no.to_numpy()[pick], where.to_numpy()[pick]
    rows = lines.index[repeat.to_numpy()]  # the texts only for the repeated lines
    out["manual_review"] = repeat
    for lang in ("zh", "en"):
        ref = pd.Series(
            [
                message("reason.ref.line_no", lang, line_no=str(int(n)))
                if n == n
                else message("reason.ref.row", lang, row=r)
                for n, r in zip(ref_no, ref_row, strict=True)
            ],
            index=rows,
            dtype=object,
        )
        text = pd.Series("", index=lines.index, dtype=object)
        text[rows] = message_column("reason.check.duplicate", lang, rows, ref=ref)
        out[f"manual_review_reason_{lang}"] = text
    return out


def flag_standard_mismatch(
    lines: pd.DataFrame, verdicts: pd.DataFrame, context: BatchContext
) -> pd.DataFrame:
    """Lines whose own ``standard_id`` names a table's item (``table/item/component``,
    a version after ``@`` aside) other than the one their facts selected (for a line of
    a project capped at a unit-cost standard, the project's cell: 一级 named, 四级 used)."""
    out = pd.DataFrame(index=lines.index)
    out["manual_review"] = False
    out["manual_review_reason_zh"] = ""
    out["manual_review_reason_en"] = ""
    if "_given_standard_id" not in lines or "standard_id" not in lines:
        return out
    named = map_distinct(
        lines["_given_standard_id"].astype(object),
        lambda v: str(v).split("@", 1)[0].strip(),
    )
    used = lines["standard_id"].astype(object)
    if "standard_id" in verdicts and "project_id" in lines:  # a project cap's standard
        cap = verdicts["standard_id"].astype(object)
        cap = cap[cap.notna() & cap.astype(str).str.contains("/", regex=False)]
        cap = cap[~cap.index.duplicated()]
        used = used.where(used.notna(), lines["project_id"].map(cap))
    differ = (
        named.notna()
        & named.astype(str).str.contains("/", regex=False)  # an item, not only a table
        & used.notna()
        & named.astype(str).ne(used.astype(str))
    )
    if not differ.any():
        return out
    rows = lines.index[differ.to_numpy()]
    out["manual_review"] = differ
    for lang in ("zh", "en"):
        text = pd.Series("", index=lines.index, dtype=object)
        text[rows] = message_column(
            "reason.check.standard_mismatch",
            lang,
            rows,
            named=named[rows].astype(str),
            used=used[rows].astype(str),
        )
        out[f"manual_review_reason_{lang}"] = text
    return out


register(
    ReviewRule(
        name="no_standard",
        level="check",
        review=flag_no_standard,
        label_zh="无适用标准",
        label_en="no applicable standard",
    )
)
register(
    ReviewRule(
        name="duplicates",
        level="check",
        review=flag_duplicates,
        label_zh="重复申报",
        label_en="duplicate lines",
    )
)
register(
    ReviewRule(
        name="standard_mismatch",
        level="check",
        review=flag_standard_mismatch,
        label_zh="所列标准与明细不符",
        label_en="named standard not the one applied",
    )
)
