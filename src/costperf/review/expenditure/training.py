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

from costperf.columns import TEXT_DTYPE, message, message_column
from costperf.review.expenditure.lookup import (
    fmt_amount,
    format_amounts,
    format_money,
    join_texts,
    line_order,
    line_refs,
    lookup_lines,
    lookup_problems,
    table_refs,
    value_problems,
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
    # a line missing another fact still has its category and its lecturer's title
    # checked: their unknown values come in the same run (all problems at once)
    category_col = fact_column(req, quota_facts["the training category"])
    named = first_present(sub, quota_facts["the training category"])
    partial = miss_q.index[miss_q.to_numpy() & named.loc[miss_q.index].notna().to_numpy()]
    query = pd.DataFrame(
        {"category": normalise_category(named.loc[partial], "培训"), "date": dates.loc[partial]}
    )
    problems.append(
        value_problems(
            req,
            standards,
            query,
            {"category": category_col},
            "a training category of the table",
            table=names["training"],
            item="total",
            dims=["category"],
        )
    )
    titled = sub["lecturer_title"] if "lecturer_title" in sub else pd.Series(np.nan, index=rows)
    partial = miss_l.index[miss_l.to_numpy() & titled.loc[miss_l.index].notna().to_numpy()]
    query = pd.DataFrame({"professional_title": titled.loc[partial], "date": dates.loc[partial]})
    problems.append(
        value_problems(
            req,
            standards,
            query,
            {"professional_title": "lecturer_title"},
            "a lecturer title of the table",
            table=names["lecturer"],
            item="lecturer_fee",
            dims=["professional_title"],
        )
    )

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
                {"category": category_col, "date": "date"},
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
        total = format_money(q * persons * charged)
        c = category.astype(str)
        for lang, tier, extra_text, target in (
            ("zh", tier_zh, extra_zh, text_q),
            ("en", tier_en, extra_en, text_qe),
        ):
            tiers = message_column("reason.training.tiers", lang, q_rows, tiers=tier)
            target.loc[q_rows] = message_column(
                "reason.training.quota",
                lang,
                q_rows,
                category=c,
                quota=format_money(q),
                persons=n,
                charged=ch,
                days=d,
                arrival_departure=extra_text,
                tiers=tiers.where(tier.ne(""), ""),
                total=total,
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
        for lang, target in (("zh", text_l), ("en", text_le)):
            capped = message_column("reason.training.hours_capped", lang, l_rows, claimed=h)
            target.loc[l_rows] = message_column(
                "reason.training.lecturer",
                lang,
                l_rows,
                title=t,
                rate=format_money(r),
                hours=pd_,
                hours_capped=capped.where(capped_hours, ""),
                fee=format_money(r * paid),
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
    total = format_money(out.loc[both, "approvable"])  # only where both parts are given
    for lang, quota_text, lecturer_text in (("zh", text_q, text_l), ("en", text_qe, text_le)):
        basis = quota_text + lecturer_text
        if both.any():
            two = rows[both.to_numpy()]
            basis.loc[two] = message_column(
                "reason.training.total",
                lang,
                two,
                basis=message_column(
                    "reason.training.parts",
                    lang,
                    two,
                    quota=quota_text.loc[two],
                    lecturer=lecturer_text.loc[two],
                ),
                total=total,
            )
        # the str column the other rules' bases are: the rules' results concatenate as
        # str, not as a million objects converted back for the reasons
        out[f"basis_{lang}"] = basis.astype(TEXT_DTYPE)
    out["manual_review"] = flag
    out["manual_review_reason_zh"], out["manual_review_reason_en"] = flag_zh, flag_en
    return out, concat_problems(problems)


def _limits_text(limits: tuple[float, float, float]) -> tuple[str, str]:
    """The arrival/departure limits of a table in words (shown when they cut a claim)."""
    arrival, departure, together = limits
    each = bool(np.isfinite(arrival) or np.isfinite(departure))
    texts = []
    for lang in ("zh", "en"):
        parts = []
        if each and arrival == departure:
            parts.append(message("reason.training.each_at_most", lang, days=fmt_amount(arrival)))
        elif each:
            if np.isfinite(arrival):
                days = fmt_amount(arrival)
                parts.append(message("reason.training.arrival_at_most", lang, days=days))
            if np.isfinite(departure):
                days = fmt_amount(departure)
                parts.append(message("reason.training.departure_at_most", lang, days=days))
        if np.isfinite(together) and (not each or together < arrival + departure):
            days = fmt_amount(together)
            parts.append(message("reason.training.together_at_most", lang, days=days))
        texts.append(message("list.separator", lang).join(parts))
    return texts[0], texts[1]


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
    texts = []
    for lang, limit in zip(("zh", "en"), limits, strict=True):
        text = message("reason.training.arrival_departure", lang, days=fmt_amount(counted))
        if counted < claimed:
            if separate:
                days = {"arrival": fmt_amount(arrival), "departure": fmt_amount(departure)}
                what = message("reason.training.claimed_each", lang, **days)
            else:
                what = message("reason.training.claimed", lang, days=fmt_amount(claimed))
            text = message(
                "reason.training.claim_limited", lang, counted=text, claimed=what, limits=limit
            )
        texts.append(text)
    return texts[0], texts[1]


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
    keys = keys.iloc[line_order(lines)]  # the first of the repeats by 序号, not by row
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
        if pd.notna(line_no[j]):
            refs = [
                message("reason.ref.line_no", g, line_no=fmt_amount(line_no[j]))
                for g in ("zh", "en")
            ]
        else:
            refs = [message("reason.ref.row", g, row=where[j]) for g in ("zh", "en")]
        doc = fee.at[i, "document_no"] if pd.notna(fee.at[i, "document_no"]) else ""
        name, when = lines.at[i, "lecturer_name"], f"{dates[i]:%Y-%m-%d}"
        flag[i] = True
        values = {"name": name, "hours": fmt_amount(hours[i]), "date": when, "document": doc}
        zh[i] = message("reason.training.repeated_lecture", "zh", ref=refs[0], **values)
        en[i] = message("reason.training.repeated_lecture", "en", ref=refs[1], **values)
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
        codes=("training_quota",),
    )
)
