"""Training lines 培训 (财行〔2016〕540号): composite quota and lecturer fees.

Cap = composite quota x trainees x chargeable days + lecturer fee per teaching hour of
the lecturer's title x teaching hours (at most 4 per half day when the half-days are
given).  Chargeable days = the training days plus the arrival and departure days the
table's ``[rules]`` allow (central: 报到和撤离时间分别不得超过1天, each at most 1 day),
weighted by its day tiers (central: beyond 30 days at 70 %).  A lecture line with the
same lecturer, title, hours and date as an earlier line of the same request is flagged
for manual review (同时为多班次一并授课的，不重复计算讲课费), not cut.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from costperf.review.expenditure.lookup import (
    fmt_amount,
    format_amounts,
    join_texts,
    line_refs,
    lookup_lines,
    lookup_problems,
    table_refs,
)
from costperf.review.expenditure.requests import (
    fact_column,
    first_present,
    normalise_category,
    require_facts,
)
from costperf.review.registry import ReviewRule, register
from costperf.schemas import concat_problems, row_problems
from costperf.standards import StandardSet, lecturer_hours_cap, rule, training_chargeable_days
from costperf.standards.lookup import OK
from costperf.standards.rules import (
    arrival_departure_limits,
    count_arrival_departure,
    day_tiers_text,
)


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
    has_quota = pd.concat(
        [first_present(sub, n).notna() for n in quota_facts.values()], axis=1
    ).any(axis=1)
    has_lecturer = pd.concat(
        [first_present(sub, n).notna() for n in lecturer_facts.values()], axis=1
    )
    has_lecturer = has_lecturer.any(axis=1)
    neither = pd.Series(False, index=req.index)
    neither.loc[rows] = ~has_quota & ~has_lecturer
    problems = [
        row_problems(
            req,
            neither,
            fact_column(req, quota_facts["the training category"]),
            "the training category, trainees and days (培训类别/参训人数/培训天数) and/or the "
            "lecturer's title and teaching hours (讲课人员职称/讲课学时)",
            "missing_fact",
        )
    ]
    miss_q, found_q = require_facts(req, rows[has_quota.to_numpy()], quota_facts, "training")
    miss_l, found_l = require_facts(
        req, rows[has_lecturer.to_numpy()], lecturer_facts, "lecturer-fee"
    )
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
    flag = pd.Series(False, index=rows)
    flag_zh = pd.Series("", index=rows, dtype=object)
    flag_en = pd.Series("", index=rows, dtype=object)
    empty = pd.DataFrame(
        {"lookup_status": pd.Series(dtype=object)}, index=pd.Index([], dtype=rows.dtype)
    )
    quota, fee = empty, empty

    if len(q_rows):
        qs = req.loc[q_rows]
        category = normalise_category(
            first_present(qs, quota_facts["the training category"]), "培训"
        )
        persons = first_present(qs, quota_facts["the number of trainees"]).astype(float)
        days = first_present(qs, quota_facts["the training days"]).astype(float)
        together, arrival, departure = (
            qs[c].astype(float) if c in qs else pd.Series(np.nan, index=q_rows)
            for c in ("arrival_departure_days", "arrival_days", "departure_days")
        )
        separate = arrival.notna() | departure.notna()
        both = arrival.fillna(0.0) + departure.fillna(0.0)
        clash = pd.Series(False, index=req.index)
        clash.loc[q_rows] = separate & together.notna() & (together != both)
        problems.append(
            row_problems(
                req,
                clash,
                "arrival_departure_days",
                "报到和撤离天数 = 报到天数 + 撤离天数 (or leave it blank when they are given)",
                "inconsistent",
            )
        )
        claimed = both.where(separate, together.fillna(0.0))
        query = pd.DataFrame({"category": category, "date": dates.loc[q_rows]})
        quota = lookup_lines(standards, query, names["training"], "total")
        problems.append(
            lookup_problems(
                req,
                quota,
                {
                    "category": fact_column(req, quota_facts["the training category"]),
                    "date": "date",
                },
                "a training category of the table",
            )
        )
        counted = pd.Series(np.nan, index=q_rows)
        charged = pd.Series(np.nan, index=q_rows)
        limit_zh = pd.Series("", index=q_rows, dtype=object)
        limit_en = pd.Series("", index=q_rows, dtype=object)
        tier_zh = pd.Series("", index=q_rows, dtype=object)
        tier_en = pd.Series("", index=q_rows, dtype=object)
        ok = quota["lookup_status"].eq(OK)
        for _, idx in quota[ok].groupby("version").groups.items():
            when, table = quota.loc[idx[0], "effective_from"], names["training"]
            limits = arrival_departure_limits(standards, on=when, table=table)
            tiers = rule(standards, table, "day_tiers", on=when)["tiers"]
            counted.loc[idx] = count_arrival_departure(
                together.loc[idx], arrival.loc[idx], departure.loc[idx], limits
            )
            charged.loc[idx] = training_chargeable_days(
                days.loc[idx].to_numpy(),
                arrival_departure_days=together.loc[idx].fillna(0.0).to_numpy(),
                arrival_days=arrival.loc[idx].to_numpy(),
                departure_days=departure.loc[idx].to_numpy(),
                standards=standards,
                on=when,
                table=table,
            )
            limit_zh.loc[idx], limit_en.loc[idx] = _limits_text(limits)
            total = days.loc[idx] + counted.loc[idx]
            text = {t: day_tiers_text(t, tiers) for t in total.dropna().unique()}
            tier_zh.loc[idx] = total.map({t: zh for t, (zh, _) in text.items()}).fillna("")
            tier_en.loc[idx] = total.map({t: en for t, (_, en) in text.items()}).fillna("")
        quota_cap.loc[q_rows] = (quota["value"] * persons * charged).fillna(0.0)
        # the arrival/departure words depend on a few facts only: once per combination
        facts = pd.DataFrame(
            {
                "counted": counted,
                "claimed": claimed,
                "arrival": arrival,
                "departure": departure,
                "separate": separate,
                "lzh": limit_zh,
                "len": limit_en,
            },
            index=q_rows,
        )
        combos = facts.drop_duplicates()
        words = [
            _arrival_departure_text(
                r.counted, r.claimed, r.arrival, r.departure, r.separate, (r.lzh, r.len)
            )
            for r in combos.itertuples(index=False)
        ]
        keys = pd.MultiIndex.from_frame(facts.astype(object).fillna("—"))
        table = pd.Series(words, index=pd.MultiIndex.from_frame(combos.astype(object).fillna("—")))
        extra = pd.Series(table.reindex(keys).to_numpy(), index=q_rows)
        extra_zh = extra.map(lambda w: w[0])
        extra_en = extra.map(lambda w: w[1])
        f = format_amounts
        q, n, d, ch = quota["value"], f(persons), f(days), f(charged)
        total = f(q * persons * charged)
        long = ("，" + tier_zh).where(tier_zh.ne(""), "")
        long_en = (", " + tier_en).where(tier_en.ne(""), "")
        c = category.astype(str)
        text_q.loc[q_rows] = (
            "培训费综合定额（"
            + c
            + "）"
            + f(q)
            + " 元/人·天 × "
            + n
            + " 人 × 计费 "
            + ch
            + " 天（培训 "
            + d
            + " 天"
            + extra_zh
            + long
            + "）= "
            + total
            + " 元"
        )
        text_qe.loc[q_rows] = (
            "training composite quota ("
            + c
            + ") "
            + f(q)
            + " yuan/person-day x "
            + n
            + " persons x "
            + ch
            + " chargeable days ("
            + d
            + " days"
            + extra_en
            + long_en
            + ") = "
            + total
            + " yuan"
        )

    if len(l_rows):
        ls = req.loc[l_rows]
        hours = ls["teaching_hours"].astype(float)
        query = pd.DataFrame(
            {"professional_title": ls["lecturer_title"], "date": dates.loc[l_rows]}
        )
        fee = lookup_lines(standards, query, names["lecturer"], "lecturer_fee")
        problems.append(
            lookup_problems(
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
        flag.loc[l_rows], flag_zh.loc[l_rows], flag_en.loc[l_rows] = _repeated_lectures(
            req.loc[l_rows], fee, hours, dates.loc[l_rows]
        )
        f = format_amounts
        t, r, h, pd_ = ls["lecturer_title"].astype(str), fee["value"], f(hours), f(paid)
        capped_hours = paid < hours
        cut_zh = ("（申报 " + h + " 学时，每半天最多4学时）").where(capped_hours, "")
        cut_en = (" (of " + h + " claimed; at most 4 per half day)").where(capped_hours, "")
        text_l.loc[l_rows] = (
            "讲课费（"
            + t
            + "）"
            + f(r)
            + " 元/学时 × "
            + pd_
            + " 学时"
            + cut_zh
            + " = "
            + f(r * paid)
            + " 元"
        )
        text_le.loc[l_rows] = (
            "lecturer fee ("
            + t
            + ") "
            + f(r)
            + " yuan/hour x "
            + pd_
            + " hours"
            + cut_en
            + " = "
            + f(r * paid)
            + " yuan"
        )

    out["approvable"] = quota_cap + lecturer_cap
    q_full, f_full = quota.reindex(rows), fee.reindex(rows)
    out["standard_id"] = q_full.get("standard_id", pd.Series(np.nan, index=rows)).where(
        q_full["lookup_status"].eq(OK), f_full.get("standard_id")
    )
    have_q = "table_id" in q_full
    have_f = "table_id" in f_full
    frames = [f for f, have in ((q_full, have_q), (f_full, have_f)) if have]
    refs, docs = table_refs(*frames)
    out["standard_version"], out["document_no"] = refs, docs
    lines = pd.Series("", index=rows, dtype=object)
    verified = pd.Series(True, index=rows)
    for frame in frames:
        ok = frame["lookup_status"].eq(OK)
        lines = join_texts(lines, line_refs(frame).where(ok, ""))
        verified &= frame["verified"].where(ok, True).astype(bool)
    out["standard_lines"], out["verified"] = lines, verified
    both = text_q.ne("") & text_l.ne("")
    out["basis_zh"] = text_q + np.where(both, "；", "") + text_l
    out["basis_en"] = text_qe + np.where(both, "; ", "") + text_le
    if both.any():  # the total only where both parts are given
        total = out.loc[both, "approvable"].map(fmt_amount)
        out.loc[both, "basis_zh"] = out.loc[both, "basis_zh"] + "，合计" + total + " 元"
        out.loc[both, "basis_en"] = out.loc[both, "basis_en"] + "; total " + total + " yuan"
    out["manual_review"] = flag
    out["manual_review_reason_zh"], out["manual_review_reason_en"] = flag_zh, flag_en
    return out, concat_problems(problems)


def _limits_text(limits: tuple[float, float, float]) -> tuple[str, str]:
    """The arrival/departure limits of a table in words (shown when they cut a claim)."""
    arrival, departure, together = limits
    zh, en = [], []
    each = bool(np.isfinite(arrival) or np.isfinite(departure))
    if each and arrival == departure:
        zh.append(f"报到和撤离时间分别最多计 {fmt_amount(arrival)} 天")
        en.append(f"at most {fmt_amount(arrival)} day(s) each for arrival and departure")
    elif each:
        for what_zh, what_en, most in (
            ("报到", "arrival", arrival),
            ("撤离", "departure", departure),
        ):
            if np.isfinite(most):
                zh.append(f"{what_zh}最多计 {fmt_amount(most)} 天")
                en.append(f"{what_en} at most {fmt_amount(most)} day(s)")
    if np.isfinite(together) and (not each or together < arrival + departure):
        zh.append(f"合计最多计 {fmt_amount(together)} 天")
        en.append(f"at most {fmt_amount(together)} day(s) together")
    return "，".join(zh), ", ".join(en)


def _arrival_departure_text(
    counted: float,
    claimed: float,
    arrival: float,
    departure: float,
    separate: bool,
    limits: tuple[str, str],
) -> tuple[str, str]:
    """`` + 报到撤离 2 天`` and, when the limits cut the claim, what was claimed."""
    if not claimed or counted != counted:
        return "", ""
    zh = f" + 报到撤离 {fmt_amount(counted)} 天"
    en = f" + {fmt_amount(counted)} arrival/departure day(s)"
    if counted < claimed:
        if separate:
            what_zh = f"申报报到 {fmt_amount(arrival)} 天、撤离 {fmt_amount(departure)} 天"
            what_en = f"of {fmt_amount(arrival)} arrival and {fmt_amount(departure)} departure day(s) claimed"
        else:
            what_zh = f"申报 {fmt_amount(claimed)} 天"
            what_en = f"of {fmt_amount(claimed)} claimed"
        zh += f"（{what_zh}，{limits[0]}）"
        en += f" ({what_en}; {limits[1]})"
    return zh, en


def _normalised_name(values: pd.Series) -> pd.Series:
    return values.map(
        lambda v: "".join(unicodedata.normalize("NFKC", str(v)).split()) or None,
        na_action="ignore",
    )


def _repeated_lectures(
    lines: pd.DataFrame, fee: pd.DataFrame, hours: pd.Series, dates: pd.Series
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Flag lecture lines repeating an earlier line of the same request.

    Same request, lecturer name, title (the fee line found, so aliases count as one),
    teaching hours and date: 同时为多班次一并授课的，不重复计算讲课费 (540号), so the
    later line may claim the same lecture twice.  Flagged for manual review, not cut.
    """
    index = lines.index
    flag = pd.Series(False, index=index)
    zh = pd.Series("", index=index, dtype=object)
    en = pd.Series("", index=index, dtype=object)
    if "lecturer_name" not in lines:
        return flag, zh, en
    keys = pd.DataFrame(
        {
            "request": lines["request_id"].astype(str),
            "name": _normalised_name(lines["lecturer_name"]),
            "title": fee["standard_id"].where(fee["lookup_status"].eq(OK)),
            "hours": hours,
            "date": dates,
        },
        index=index,
    )
    known = keys.notna().all(axis=1)
    keys = keys[known]
    repeat = keys.duplicated(keep="first")
    if not repeat.any():
        return flag, zh, en
    group = keys.groupby(list(keys.columns), sort=False).ngroup()
    first = pd.Series(keys.index, index=keys.index).groupby(group).transform("first")
    line_no = lines["line_no"] if "line_no" in lines else pd.Series(np.nan, index=index)
    where = lines["source_row"] if "source_row" in lines else pd.Series(index + 1, index=index)
    for i in keys.index[repeat.to_numpy()]:
        j = first[i]
        ref_zh = f"序号 {fmt_amount(line_no[j])}" if pd.notna(line_no[j]) else f"第 {where[j]} 行"
        ref_en = f"line {fmt_amount(line_no[j])}" if pd.notna(line_no[j]) else f"row {where[j]}"
        doc = fee.at[i, "document_no"] if pd.notna(fee.at[i, "document_no"]) else ""
        name, when = lines.at[i, "lecturer_name"], f"{dates[i]:%Y-%m-%d}"
        flag[i] = True
        zh[i] = (
            f"与本申报{ref_zh} 的讲课为同一讲课人员（{name}）、职称、学时（{fmt_amount(hours[i])}）和日期"
            f"（{when}）：同时为多班次一并授课的，不重复计算讲课费（{doc}），请人工复核"
        )
        en[i] = (
            f"same lecturer ({name}), title, hours ({fmt_amount(hours[i])}) and date ({when}) as "
            f"{ref_en} of this request: a lecture given to several classes at once is paid "
            f"once ({doc}); check by hand"
        )
    return flag, zh, en


register(
    ReviewRule(
        name="training",
        level="line",
        review=_review_training,
        tables={"training": "training-fee", "lecturer": "training-lecturer-fee"},
        label_zh="培训费",
        label_en="training fees",
        document="财行〔2016〕540号",
    )
)
