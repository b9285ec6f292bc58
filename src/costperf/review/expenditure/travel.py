"""Travel lines 差旅 (财行〔2013〕531号; lodging table 财行〔2015〕497号 from 2016).

Cap = travellers x (sum over the nights of the lodging cap of city, staff level and
the night's season + (meal allowance of the region + local transport) x days).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.review.expenditure.lookup import (
    fmt_amount,
    join_texts,
    line_refs,
    lookup_lines,
    lookup_problems,
    table_refs,
)
from costperf.review.expenditure.requests import (
    fact_column,
    first_present,
    parse_dates,
    require_facts,
)
from costperf.review.registry import ReviewRule, register
from costperf.schemas import concat_problems, row_problems
from costperf.standards import StandardSet
from costperf.standards.lookup import OK


def _review_travel(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = work.index
    sub = req.loc[rows]
    facts = {"the destination city": ("city",), "the staff level": ("staff_level",)}
    missing, problems = require_facts(req, rows, facts, "travel")
    problems = [problems]
    start = work.loc[rows, "date"]
    end = parse_dates(sub["end_date"]) if "end_date" in sub else pd.Series(pd.NaT, index=rows)
    days = first_present(sub, ("travel_days", "days")).astype(float)
    span = (end - start).dt.days
    days = days.where(days.notna(), span + 1)
    bad_end = pd.Series(False, index=req.index)
    bad_end.loc[rows] = end.notna() & (span < 0)
    problems.append(
        row_problems(req, bad_end, "end_date", "a date on or after the start date", "bad_date")
    )
    no_days = pd.Series(False, index=req.index)
    no_days.loc[rows] = days.isna()
    problems.append(
        row_problems(
            req,
            no_days,
            fact_column(req, ("travel_days", "days")),
            "the travel days (出差天数) or the end date (结束日期) for a travel line",
            "missing_fact",
        )
    )
    nights = sub["nights"].astype(float) if "nights" in sub else pd.Series(np.nan, index=rows)
    nights = nights.where(nights.notna(), span.where(span.notna(), days - 1)).clip(lower=0)
    fractional = pd.Series(False, index=req.index)
    fractional.loc[rows] = nights.notna() & (nights % 1 != 0)
    problems.append(
        row_problems(req, fractional, "nights", "a whole number of nights", "not_whole")
    )
    ok_rows = ~(missing | no_days.loc[rows] | bad_end.loc[rows] | fractional.loc[rows])
    rows = rows[ok_rows.to_numpy()]
    sub, start, days, nights = sub.loc[rows], start.loc[rows], days.loc[rows], nights.loc[rows]
    persons = first_present(sub, ("travellers", "persons")).astype(float).fillna(1.0)

    # one lookup per night: the season (and the table version) is that of the night
    count = nights.fillna(0).astype(int).to_numpy()
    owner = np.repeat(rows.to_numpy(), count)
    offset = np.concatenate([np.arange(n) for n in count]) if count.sum() else np.array([], int)
    night_query = pd.DataFrame(
        {
            "city": sub["city"].to_numpy().repeat(count),
            "staff_level": sub["staff_level"].to_numpy().repeat(count),
            "date": start.to_numpy().repeat(count) + pd.to_timedelta(offset, unit="D"),
        }
    )
    lodging = lookup_lines(standards, night_query, names["lodging"], "lodging")
    lodging["_row"] = owner
    bad_nights = lodging[lodging["lookup_status"].ne(OK)].drop_duplicates("_row").set_index("_row")
    problems.append(
        lookup_problems(
            req,
            bad_nights,
            {"city": "city", "staff_level": "staff_level", "date": "date"},
            "a city and staff level of the lodging table",
        )
    )
    per_row = lodging.groupby("_row")["value"].sum()
    lodging_sum = per_row.reindex(rows).fillna(0.0)
    day_query = pd.DataFrame({"city": sub["city"], "date": start})
    meals = lookup_lines(standards, day_query, names["allowance"], "meals")
    transport = lookup_lines(standards, day_query, names["allowance"], "local_transport")
    problems.append(
        lookup_problems(req, meals, {"date": "date"}, "a date with the allowance table in force")
    )
    daily = meals["value"] + transport["value"]
    out = pd.DataFrame(index=rows)
    out["limit_reject"] = False
    out["rule"] = "travel_caps"
    out["approvable"] = persons * (lodging_sum + daily * days)
    used = (
        lodging[lodging["lookup_status"].eq(OK)]
        .assign(ref=lambda f: line_refs(f))
        .groupby(["_row", "ref"], sort=False)
        .size()
        .reset_index(name="n")
    )
    used["text"] = used["ref"] + " ×" + used["n"].astype(str) + "晚"
    night_lines = used.groupby("_row")["text"].agg("; ".join).reindex(rows).fillna("")
    first_night = lodging.drop_duplicates("_row").set_index("_row").reindex(rows)
    out["standard_id"] = first_night["standard_id"].where(
        first_night["standard_id"].notna(), meals["standard_id"]
    )
    lodging_ok = lodging[lodging["lookup_status"].eq(OK)]
    versions = (
        (lodging_ok["table_id"] + "@" + lodging_ok["version"].astype(str))
        .groupby(lodging_ok["_row"])
        .agg(lambda s: "; ".join(dict.fromkeys(s)))
        .reindex(rows)
        .fillna("")
    )
    docs = (
        lodging_ok["document_no"]
        .astype(str)
        .groupby(lodging_ok["_row"])
        .agg(lambda s: "; ".join(dict.fromkeys(s)))
        .reindex(rows)
        .fillna("")
    )
    refs, allowance_docs = table_refs(meals)
    out["standard_version"] = join_texts(versions, refs)
    out["document_no"] = join_texts(docs, allowance_docs, unique=True)
    out["standard_lines"] = join_texts(
        join_texts(night_lines, line_refs(meals)), line_refs(transport)
    )
    unverified = lodging.groupby("_row")["verified"].agg(lambda s: bool(s.astype(bool).all()))
    out["verified"] = (
        unverified.reindex(rows).fillna(True).astype(bool)
        & meals["verified"].astype(bool)
        & transport["verified"].astype(bool)
    )
    zh, en = [], []
    for i, city, level, n, d, nt in zip(
        rows, sub["city"], sub["staff_level"], persons, days, nights, strict=True
    ):
        meal, local, lodge = meals.at[i, "value"], transport.at[i, "value"], lodging_sum[i]
        zh.append(
            f"{city}·{level}：住宿费 {int(nt)} 晚合计 {fmt_amount(lodge)} 元（按每晚所在淡旺季标准）"
            f" + （伙食补助 {fmt_amount(meal)} + 市内交通 {fmt_amount(local)}）元/天 × {fmt_amount(d)} 天，"
            f"× {fmt_amount(n)} 人 = {fmt_amount(n * (lodge + (meal + local) * d))} 元"
        )
        en.append(
            f"{city}, {level}: lodging {int(nt)} nights {fmt_amount(lodge)} yuan (each night at its "
            f"season's cap) + (meals {fmt_amount(meal)} + local transport {fmt_amount(local)}) yuan/day x "
            f"{fmt_amount(d)} days, x {fmt_amount(n)} persons = {fmt_amount(n * (lodge + (meal + local) * d))} yuan"
        )
    out["basis_zh"], out["basis_en"] = zh, en
    return out, concat_problems(problems)


register(
    ReviewRule(
        name="travel",
        level="line",
        review=_review_travel,
        tables={"lodging": "travel-lodging", "allowance": "travel-allowance"},
        label_zh="差旅费",
        label_en="travel expenses",
        document="财行〔2013〕531号",
    )
)
