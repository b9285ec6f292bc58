"""Training lines 培训 (财行〔2016〕540号): composite quota and lecturer fees.

Cap = composite quota x trainees x chargeable days (arrival + departure count at most
1 day; days beyond 30 at 70 %) + lecturer fee per teaching hour of the lecturer's
title x teaching hours (at most 4 per half day when the half-days are given).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from costperf.review.expenditure.lookup import (
    _fmt,
    _join,
    _line_refs,
    _lookup,
    _lookup_problems,
    _table_refs,
)
from costperf.review.expenditure.requests import _col, _first, _require, normalise_category
from costperf.schemas import concat_problems, row_problems
from costperf.standards import StandardSet, lecturer_hours_cap, training_chargeable_days
from costperf.standards.lookup import OK


def _by_version(found: pd.DataFrame, func: Callable[[pd.Index, object], object]) -> pd.Series:
    """Apply ``func(rows, on)`` per table version in force (``on``: its start date)."""
    out = pd.Series(np.nan, index=found.index)
    ok = found["lookup_status"].eq(OK)
    for _, idx in found[ok].groupby("version").groups.items():
        out.loc[idx] = func(idx, found.loc[idx[0], "effective_from"])
    return out


def _review_training(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = work.index
    sub = req.loc[rows]
    quota_facts = {
        "the training category": ("training_category", "category"),
        "the number of trainees": ("trainees", "persons"),
        "the training days": ("training_days", "days"),
    }
    lecturer_facts = {
        "the lecturer's title": ("lecturer_title",),
        "the teaching hours": ("teaching_hours",),
    }
    has_quota = pd.concat([_first(sub, n).notna() for n in quota_facts.values()], axis=1).any(
        axis=1
    )
    has_lecturer = pd.concat([_first(sub, n).notna() for n in lecturer_facts.values()], axis=1)
    has_lecturer = has_lecturer.any(axis=1)
    neither = pd.Series(False, index=req.index)
    neither.loc[rows] = ~has_quota & ~has_lecturer
    problems = [
        row_problems(
            req,
            neither,
            _col(req, quota_facts["the training category"]),
            "the training category, trainees and days (培训类别/参训人数/培训天数) and/or the "
            "lecturer's title and teaching hours (讲课人员职称/讲课学时)",
            "missing_fact",
        )
    ]
    miss_q, found_q = _require(req, rows[has_quota.to_numpy()], quota_facts, "training")
    miss_l, found_l = _require(req, rows[has_lecturer.to_numpy()], lecturer_facts, "lecturer-fee")
    problems += [found_q, found_l]
    q_rows = miss_q.index[~miss_q.to_numpy()]
    l_rows = miss_l.index[~miss_l.to_numpy()]
    dates = work["date"]

    out = pd.DataFrame(index=rows)
    out["limit_reject"] = False
    out["rule"] = "training_quota"
    quota_cap = pd.Series(0.0, index=rows)
    lecturer_cap = pd.Series(0.0, index=rows)
    text_q = pd.Series("", index=rows, dtype=object)
    text_qe = pd.Series("", index=rows, dtype=object)
    text_l = pd.Series("", index=rows, dtype=object)
    text_le = pd.Series("", index=rows, dtype=object)
    empty = pd.DataFrame(
        {"lookup_status": pd.Series(dtype=object)}, index=pd.Index([], dtype=rows.dtype)
    )
    quota, fee = empty, empty

    if len(q_rows):
        qs = req.loc[q_rows]
        category = normalise_category(_first(qs, quota_facts["the training category"]), "培训")
        persons = _first(qs, quota_facts["the number of trainees"]).astype(float)
        days = _first(qs, quota_facts["the training days"]).astype(float)
        travel = qs["arrival_departure_days"] if "arrival_departure_days" in qs else None
        travel = pd.Series(0.0, index=q_rows) if travel is None else travel.fillna(0.0)
        query = pd.DataFrame({"category": category, "date": dates.loc[q_rows]})
        quota = _lookup(standards, query, names["training"], "total")
        problems.append(
            _lookup_problems(
                req,
                quota,
                {"category": _col(req, quota_facts["the training category"]), "date": "date"},
                "a training category of the table",
            )
        )
        charged = _by_version(
            quota,
            lambda idx, when: training_chargeable_days(
                days.loc[idx].to_numpy(),
                arrival_departure_days=travel.loc[idx].to_numpy(),
                standards=standards,
                on=when,
                table=names["training"],
            ),
        )
        quota_cap.loc[q_rows] = (quota["value"] * persons * charged).fillna(0.0)
        for i, c, q, n, d, t, ch in zip(
            q_rows, category, quota["value"], persons, days, travel, charged, strict=True
        ):
            counted = min(t, 1.0)  # arrival + departure count at most 1 day (540号)
            extra = f" + 报到撤离 {_fmt(counted)} 天" if counted else ""
            extra_en = f" + {_fmt(counted)} arrival/departure day" if counted else ""
            long = "，超过30天部分按70%计" if d + counted > 30 else ""
            long_en = ", days beyond 30 at 70%" if d + counted > 30 else ""
            text_q[i] = (
                f"培训费综合定额（{c}）{_fmt(q)} 元/人·天 × {_fmt(n)} 人 × 计费 {_fmt(ch)} 天"
                f"（培训 {_fmt(d)} 天{extra}{long}）= {_fmt(q * n * ch)} 元"
            )
            text_qe[i] = (
                f"training composite quota ({c}) {_fmt(q)} yuan/person-day x {_fmt(n)} persons"
                f" x {_fmt(ch)} chargeable days ({_fmt(d)} days{extra_en}{long_en})"
                f" = {_fmt(q * n * ch)} yuan"
            )

    if len(l_rows):
        ls = req.loc[l_rows]
        hours = ls["teaching_hours"].astype(float)
        query = pd.DataFrame(
            {"professional_title": ls["lecturer_title"], "date": dates.loc[l_rows]}
        )
        fee = _lookup(standards, query, names["lecturer"], "lecturer_fee")
        problems.append(
            _lookup_problems(
                req,
                fee,
                {"professional_title": "lecturer_title", "date": "date"},
                "a lecturer title of the table",
            )
        )
        half_days = ls["teaching_half_days"] if "teaching_half_days" in ls else None
        paid = hours.copy()
        if half_days is not None and half_days.notna().any():
            most = _by_version(
                fee,
                lambda idx, when: lecturer_hours_cap(
                    half_days.loc[idx].to_numpy(dtype=float),
                    standards=standards,
                    on=when,
                    table=names["lecturer"],
                ),
            )
            paid = hours.where(most.isna(), np.minimum(hours, most))
        lecturer_cap.loc[l_rows] = (fee["value"] * paid).fillna(0.0)
        for i, t, r, h, p in zip(
            l_rows, ls["lecturer_title"], fee["value"], hours, paid, strict=True
        ):
            cut_hours = f"（申报 {_fmt(h)} 学时，每半天最多4学时）" if p < h else ""
            cut_en = f" (of {_fmt(h)} claimed; at most 4 per half day)" if p < h else ""
            text_l[i] = (
                f"讲课费（{t}）{_fmt(r)} 元/学时 × {_fmt(p)} 学时{cut_hours} = {_fmt(r * p)} 元"
            )
            text_le[i] = (
                f"lecturer fee ({t}) {_fmt(r)} yuan/hour x {_fmt(p)} hours{cut_en} = "
                f"{_fmt(r * p)} yuan"
            )

    out["approvable"] = quota_cap + lecturer_cap
    q_full, f_full = quota.reindex(rows), fee.reindex(rows)
    out["standard_id"] = q_full.get("standard_id", pd.Series(np.nan, index=rows)).where(
        q_full["lookup_status"].eq(OK), f_full.get("standard_id")
    )
    have_q = "table_id" in q_full
    have_f = "table_id" in f_full
    frames = [f for f, have in ((q_full, have_q), (f_full, have_f)) if have]
    refs, docs = _table_refs(*frames)
    out["standard_version"], out["document_no"] = refs, docs
    lines = pd.Series("", index=rows, dtype=object)
    verified = pd.Series(True, index=rows)
    for frame in frames:
        ok = frame["lookup_status"].eq(OK)
        lines = _join(lines, _line_refs(frame).where(ok, ""))
        verified &= frame["verified"].where(ok, True).astype(bool)
    out["standard_lines"], out["verified"] = lines, verified
    both = text_q.ne("") & text_l.ne("")
    out["basis_zh"] = text_q + np.where(both, "；", "") + text_l
    out["basis_en"] = text_qe + np.where(both, "; ", "") + text_le
    out["basis_zh"] = out["basis_zh"].where(
        ~both, out["basis_zh"] + "，合计" + out["approvable"].map(_fmt) + " 元"
    )
    out["basis_en"] = out["basis_en"].where(
        ~both, out["basis_en"] + "; total " + out["approvable"].map(_fmt) + " yuan"
    )
    return out, concat_problems(problems)
