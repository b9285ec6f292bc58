"""Travel lines 差旅 (财行〔2013〕531号; lodging table 财行〔2015〕497号 from 2016).

A whole trip: cap = travellers x (sum over the nights of the lodging cap of city,
staff level and the night's season + (meal allowance of the region + local transport)
x days).  A line naming its component (``travel_item`` 费用项目) is capped on its own,
and components do not offset each other:

- 住宿费 lodging: travellers x the sum of the nightly caps (each night its season);
- 伙食补助费 meals: travellers x the allowance x days;
- 市内交通费 local transport: travellers x 80 x days;
- 城市间交通费 intercity: passed at the requested amount and flagged (按实际票价，需核对
  舱位/席别等级).

A city the lodging table does not list is not bad input: the lodging (or whole-trip)
line is kept as requested and flagged for manual review; the rest of the batch is
reviewed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.columns import message, message_column
from costperf.review.expenditure.lookup import (
    format_amounts,
    format_money,
    join_texts,
    line_refs,
    listed_values,
    lookup_lines,
    lookup_problems,
    select_texts,
    table_refs,
    value_problems,
)
from costperf.review.expenditure.requests import (
    fact_column,
    first_present,
    require_facts,
)
from costperf.review.registry import ReviewRule, register
from costperf.schemas import concat_problems, date_expected, parse_dates, row_problems
from costperf.standards import StandardSet
from costperf.standards.lookup import OK

#: dimensions the tables may simply not cover (not bad input): flagged on the line
OPEN_DIMS = ("city",)
WHOLE, LODGING, MEALS, LOCAL, INTERCITY = "", "lodging", "meals", "local_transport", "intercity"


def _components(sub: pd.DataFrame) -> pd.Series:
    if "travel_item" not in sub:
        return pd.Series(WHOLE, index=sub.index, dtype=object)
    return sub["travel_item"].astype(object).fillna(WHOLE)


def _by_row_texts(frame: pd.DataFrame, text: pd.Series, rows: pd.Index) -> pd.Series:
    """Distinct ``text`` values per ``frame['_row']`` joined by '; ' (in order)."""
    pairs = pd.DataFrame({"_row": frame["_row"].to_numpy(), "t": text.to_numpy()})
    pairs = pairs.drop_duplicates()
    counts = pairs.groupby("_row")["t"].transform("size")
    single = pairs[counts.eq(1)].set_index("_row")["t"]
    several = pairs[counts.gt(1)]
    joined = several.groupby("_row", sort=False)["t"].agg("; ".join) if len(several) else None
    out = single if joined is None else pd.concat([single, joined])
    return out.reindex(rows).fillna("")


def _level_problems(
    req: pd.DataFrame,
    sub: pd.DataFrame,
    start: pd.Series,
    standards: StandardSet,
    names: Mapping[str, str],
) -> pd.DataFrame:
    """The unknown staff levels of lodging lines missing another fact (their cap is not
    computed): looked up on the first night for their problems only, in the same run."""
    if "staff_level" not in sub:
        return concat_problems([])
    city = first_present(sub, ("city",))
    rows = sub.index[(city.notna() & sub["staff_level"].notna()).to_numpy()]
    query = pd.DataFrame(
        {
            "city": city.loc[rows],
            "staff_level": sub.loc[rows, "staff_level"],
            "date": start.loc[rows],
        }
    )
    return value_problems(
        req,
        standards,
        query,
        {"staff_level": "staff_level"},
        "a city and staff level of the lodging table",
        open_dims=OPEN_DIMS,  # not bad input: see above
        table=names["lodging"],
        item="lodging",
        dims=["city", "staff_level"],
    )


def _levels_outside_table(
    req: pd.DataFrame, sub: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.Series, pd.DataFrame]:
    """Travel lines whose staff level is none of the lodging table's levels (its
    ``staff_level`` dimension, any version, aliases such as 司局级 accepted): bad input
    on every travel line that gives one, whether or not its city is in the table or
    its component needs the level (a closed list; as the meeting subtypes are read)."""
    flagged = pd.Series(False, index=req.index)
    given = sub["staff_level"] if "staff_level" in sub else None
    if given is None or given.isna().all():
        return flagged, concat_problems([])
    listed = listed_values(standards, names["lodging"], "staff_level", given)
    if listed is None:  # no lodging table, or no list of levels: the lookup reports it
        return flagged, concat_problems([])
    known, normal = listed
    blank = given.isna() | given.astype(str).str.strip().eq("")
    flagged.loc[sub.index] = (~blank & ~normal.isin(known)).to_numpy()
    expected = f"one of: {'、'.join(known)}"
    return flagged, row_problems(req, flagged, "staff_level", expected, "unknown_value")


def _review_travel(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = work.index
    sub = req.loc[rows]
    part = _components(sub)
    intercity = part.eq(INTERCITY)
    needs_level = part.isin([WHOLE, LODGING])
    city_rows = rows[~intercity.to_numpy()]
    level_rows = rows[needs_level.to_numpy()]
    missing_city, problems = require_facts(
        req, city_rows, {"the destination city": ("city",)}, "travel"
    )
    missing_level, found = require_facts(
        req, level_rows, {"the staff level": ("staff_level",)}, "travel lodging"
    )
    problems = [problems, found]
    missing = pd.Series(False, index=rows)
    missing.loc[missing_city.index] |= missing_city
    missing.loc[missing_level.index] |= missing_level
    start = work.loc[rows, "date"]
    end = parse_dates(sub["end_date"]) if "end_date" in sub else pd.Series(pd.NaT, index=rows)
    # an end date given but not read (2027-02-30, 9999-12-31) is no trip of unknown end
    unread = pd.Series(False, index=req.index)
    if "end_date" in sub:
        given_end = sub["end_date"]
        unread.loc[rows] = given_end.notna() & given_end.astype(str).str.strip().ne("") & end.isna()
    problems.append(row_problems(req, unread, "end_date", "a date YYYY-MM-DD", "bad_date"))
    if unread.any():
        problems[-1]["expected"] = date_expected(req.loc[unread, "end_date"])
    given_days = first_present(sub, ("travel_days", "days")).astype(float)
    span = (end - start).dt.days
    days = given_days.where(given_days.notna(), span + 1)
    bad_end = pd.Series(False, index=req.index)
    bad_end.loc[rows] = end.notna() & (span < 0)
    problems.append(
        row_problems(req, bad_end, "end_date", "a date on or after the start date", "bad_date")
    )
    # the days and the dates must tell the same trip: 5 days from 04-01 to 04-03 is not one
    days_column = fact_column(req, ("travel_days", "days"))
    clash = pd.Series(False, index=req.index)
    clash.loc[rows] = given_days.notna() & (span >= 0) & given_days.ne(span + 1)
    problems.append(
        row_problems(
            req,
            clash,
            days_column,
            "'travel_days' = the calendar days from the date to the 'end_date', both "
            "counted (or leave one of them blank)",
            "inconsistent",
        )
    )
    no_day = pd.Series(False, index=req.index)
    no_day.loc[rows] = given_days.notna() & (given_days < 1)
    problems.append(
        row_problems(req, no_day, days_column, "at least 1 travel day", "below_minimum")
    )
    given_nights = sub["nights"].astype(float) if "nights" in sub else pd.Series(np.nan, index=rows)
    too_many = pd.Series(False, index=req.index)
    too_many.loc[rows] = given_nights.notna() & days.notna() & (given_nights > days)
    problems.append(
        row_problems(
            req,
            too_many,
            "nights",
            "at most as many 'nights' as 'travel_days'",
            "inconsistent",
        )
    )
    no_days = pd.Series(False, index=req.index)
    no_days.loc[rows] = days.isna() & ~intercity & ~unread.loc[rows]  # its end told
    problems.append(
        row_problems(
            req,
            no_days,
            fact_column(req, ("travel_days", "days")),
            "the 'travel_days' or the 'end_date' for a travel line",
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
    outside = _levels_outside_table(req, sub, standards, names)
    problems.append(outside[1])
    bad = no_days | bad_end | unread | fractional | clash | no_day | too_many | outside[0]
    ok_rows = ~(missing | bad.loc[rows])
    unchecked = ~ok_rows & needs_level & ~outside[0].loc[rows]  # each bad level told once
    problems.append(_level_problems(req, sub[unchecked], start, standards, names))
    rows = rows[ok_rows.to_numpy()]
    sub, start, days, nights = sub.loc[rows], start.loc[rows], days.loc[rows], nights.loc[rows]
    part, requested = part.loc[rows], work.loc[rows, "requested"]
    persons = first_present(sub, ("travellers", "persons")).astype(float).fillna(1.0)
    city = first_present(sub, ("city",))  # blank on intercity lines, which need none
    lodges = part.isin([WHOLE, LODGING])
    allowed = part.isin([WHOLE, MEALS, LOCAL])

    # one lookup per night: the season (and the table version) is that of the night
    count = nights.fillna(0).astype(int).where(lodges, 0).to_numpy()
    owner = np.repeat(rows.to_numpy(), count)
    first_of = np.repeat(np.cumsum(count) - count, count)
    offset = np.arange(count.sum()) - first_of
    night_query = pd.DataFrame(
        {
            "city": city.to_numpy().repeat(count),
            "staff_level": sub["staff_level"].to_numpy().repeat(count)
            if "staff_level" in sub
            else np.full(count.sum(), np.nan, dtype=object),
            "date": start.to_numpy().repeat(count) + pd.to_timedelta(offset, unit="D"),
        }
    )
    lodging = lookup_lines(standards, night_query, names["lodging"], "lodging")
    lodging["_row"] = owner
    status = lodging["lookup_status"].astype(str)
    open_dim = status.str.contains("|".join(OPEN_DIMS)) & status.ne(OK)
    uncovered = pd.Series(False, index=rows)
    uncovered.loc[pd.unique(lodging.loc[open_dim.to_numpy(), "_row"])] = True
    bad_nights = (
        lodging[status.ne(OK).to_numpy() & ~open_dim.to_numpy()]
        .drop_duplicates("_row")
        .set_index("_row")
    )
    problems.append(
        lookup_problems(
            req,
            bad_nights,
            {"city": "city", "staff_level": "staff_level", "date": "date"},
            "a city and staff level of the lodging table",
        )
    )
    lodging_ok = lodging[lodging["lookup_status"].eq(OK)]
    lodging_sum = lodging_ok.groupby("_row")["value"].sum().reindex(rows).fillna(0.0)
    day_query = pd.DataFrame({"city": city, "date": start})
    meals = lookup_lines(standards, day_query, names["allowance"], "meals")
    transport = lookup_lines(standards, day_query, names["allowance"], "local_transport")
    meals_needed = pd.Series(False, index=req.index)
    meals_needed.loc[rows] = allowed
    problems.append(
        lookup_problems(
            req,
            meals[allowed],
            {"date": "date"},
            "a date with the allowance table in force",
        )
    )
    meal, local = meals["value"].where(allowed, 0.0), transport["value"].where(allowed, 0.0)
    cap = np.select(
        [part.eq(WHOLE), part.eq(LODGING), part.eq(MEALS), part.eq(LOCAL)],
        [
            persons * (lodging_sum + (meal + local) * days),
            persons * lodging_sum,
            persons * meal * days,
            persons * local * days,
        ],
        requested,
    )
    out = pd.DataFrame(index=rows)
    out["limit_reject"] = False
    out["rule"] = np.where(part.eq(WHOLE), "travel_caps", "travel_" + part.astype(str))
    out["approvable"] = pd.Series(cap, index=rows).where(~uncovered)
    out["uncovered"] = uncovered
    ref = line_refs(lodging_ok)
    night_count = (
        pd.DataFrame({"_row": lodging_ok["_row"].to_numpy(), "ref": ref.to_numpy()})
        .groupby(["_row", "ref"], sort=False)
        .size()
        .reset_index(name="n")
    )
    # stored in Chinese, the review's own language; shown in English under --lang en
    # (costperf.report.review_book.standard_lines_words)
    night_text = message_column(
        "reason.standard_line_nights",
        "zh",
        night_count.index,
        ref=night_count["ref"].astype(object),
        n=night_count["n"].astype(str).astype(object),
    )
    night_lines = _by_row_texts(night_count, night_text, rows)
    first_night = lodging_ok.drop_duplicates("_row").set_index("_row").reindex(rows)
    # the component's own standard: a lodging night's, the meals' or the local transport's
    # (a whole trip names its first night's, or the meals' on a day trip)
    allowance = meals["standard_id"].where(part.ne(LOCAL), transport["standard_id"])
    out["standard_id"] = first_night["standard_id"].where(
        first_night["standard_id"].notna() & lodges, allowance.where(allowed)
    )
    versions = _by_row_texts(
        lodging_ok, lodging_ok["table_id"] + "@" + lodging_ok["version"].astype(str), rows
    )
    docs = _by_row_texts(lodging_ok, lodging_ok["document_no"].astype(str), rows)
    refs, allowance_docs = table_refs(meals)
    refs, allowance_docs = refs.where(allowed, ""), allowance_docs.where(allowed, "")
    out["standard_version"] = join_texts(versions, refs)
    out["document_no"] = join_texts(docs, allowance_docs, unique=True)
    meal_ref = line_refs(meals).where(part.isin([WHOLE, MEALS]), "")
    local_ref = line_refs(transport).where(part.isin([WHOLE, LOCAL]), "")
    out["standard_lines"] = join_texts(join_texts(night_lines, meal_ref), local_ref)
    all_verified = lodging_ok.groupby("_row")["verified"].all().reindex(rows).fillna(True)
    out["verified"] = (
        (  # an intercity fare uses no standard: nothing to verify (blank)
            all_verified.astype(bool)
            & meals["verified"].where(allowed, True).astype(bool)
            & transport["verified"].where(allowed, True).astype(bool)
        )
        .astype(object)
        .where(~part.eq(INTERCITY))
    )
    nightly = lodging_sum / nights.where(nights > 0)
    # the lowest and highest nightly cap of each line (seasons, table versions)
    spread = lodging_ok.groupby("_row")["value"].agg(["min", "max"]).reindex(rows)
    per_night = requested / (persons * nights).where(nights > 0)
    per_day = requested / (persons * days).where(days > 0)
    out["quantity"] = np.select(
        [part.eq(LODGING), part.isin([MEALS, LOCAL])], [persons * nights, persons * days], np.nan
    )
    out["unit_price"] = np.select(
        [part.eq(LODGING), part.isin([MEALS, LOCAL])], [per_night, per_day], np.nan
    )
    out["unit_price_cap"] = np.select(
        [part.eq(LODGING), part.eq(MEALS), part.eq(LOCAL)], [nightly, meal, local], np.nan
    )
    level = sub["staff_level"] if "staff_level" in sub else pd.Series("", index=rows)
    texts = _travel_texts(
        city.astype(str),
        level.astype(object).fillna("").astype(str),
        part,
        persons,
        days,
        nights,
        lodging_sum,
        nightly,
        per_night,
        per_day,
        meal,
        local,
        pd.Series(cap, index=rows),
        spread,
    )
    city_text = city.astype(str)
    if uncovered.any():  # no cap was computed: the basis says why, not a cap of 0 yuan
        out["unit_price_cap"] = out["unit_price_cap"].where(~uncovered)
        i = rows[uncovered.to_numpy()]
        texts = tuple(
            t.where(~uncovered, message_column("reason.travel.not_listed", lang, i, city=city[i]))
            for t, lang in zip(texts, ("zh", "en"), strict=True)
        )
    out["basis_zh"], out["basis_en"] = texts
    for lang in ("zh", "en"):
        out[f"manual_review_reason_{lang}"] = np.select(
            [uncovered, part.eq(INTERCITY)],
            [
                message_column("reason.travel.city_not_listed", lang, rows, city=city_text),
                message("reason.travel.check_class", lang),
            ],
            "",
        )
    out["manual_review"] = uncovered | part.eq(INTERCITY)
    return out, concat_problems(problems)


def _travel_texts(
    city,
    level,
    part,
    persons,
    days,
    nights,
    lodge,
    nightly,
    per_night,
    per_day,
    meal,
    local,
    cap,
    spread,
) -> tuple[pd.Series, pd.Series]:
    """The basis of each travel line's cap, in zh and en (vectorised).

    Each component's text is built only for the lines of that component.  A lodging line
    whose nights have different caps (a season or a table version changes during the
    trip) names the lowest and highest beside their average.
    """
    f, m = format_amounts, format_money
    n, d, nt = f(persons), f(days), f(nights)
    over = pd.Series(per_night > nightly, index=city.index)
    no_night = part.eq(LODGING) & nights.eq(0)  # a day trip: no lodging to pay
    conds = [no_night, part.eq(LODGING), part.eq(MEALS), part.eq(LOCAL), part.eq(INTERCITY)]
    texts = []
    for lang in ("zh", "en"):

        def whole(i: pd.Index, lang: str = lang) -> pd.Series:
            values = {"city": city[i], "level": level[i], "nights": nt[i], "days": d[i]}
            values |= {"lodging": m(lodge[i]), "meal": m(meal[i]), "local": m(local[i])}
            values |= {"persons": n[i], "cap": m(cap[i])}
            return message_column("reason.travel.whole", lang, i, **values)

        def lodging(i: pd.Index, lang: str = lang) -> pd.Series:
            above = over[i].to_numpy()
            words = (message("reason.travel.above", lang), message("reason.travel.within", lang))
            values = {"per_night": m(per_night[i].round(2)), "nightly": m(nightly[i].round(2))}
            values |= {"city": city[i], "level": level[i], "nights": nt[i], "persons": n[i]}
            values |= {
                "compare": pd.Series(np.where(above, *words), index=i),
                "capped": pd.Series(
                    np.where(above, message("reason.travel.capped", lang), ""), index=i
                ),
                "cap": m(cap[i]),
            }
            low, high = spread.loc[i, "min"], spread.loc[i, "max"]
            ranged = message_column(
                "reason.travel.nightly_range", lang, i, low=m(low), high=m(high)
            )
            values["range"] = ranged.where(low.lt(high).to_numpy(), "")
            return message_column("reason.travel.lodging", lang, i, **values)

        def meals(i: pd.Index, lang: str = lang) -> pd.Series:
            values = {"rate": m(meal[i]), "days": d[i], "persons": n[i], "cap": m(cap[i])}
            return message_column("reason.travel.meals", lang, i, **values)

        def local_transport(i: pd.Index, lang: str = lang) -> pd.Series:
            values = {"rate": m(local[i]), "days": d[i], "persons": n[i], "cap": m(cap[i])}
            return message_column("reason.travel.local", lang, i, **values)

        def intercity(i: pd.Index, lang: str = lang) -> pd.Series:
            return message_column("reason.travel.intercity", lang, i)

        def day_trip(i: pd.Index, lang: str = lang) -> pd.Series:
            return message_column("reason.travel.no_nights", lang, i, days=d[i])

        builders = [day_trip, lodging, meals, local_transport, intercity]
        cases = list(zip(conds, builders, strict=True))
        # the str column the Series inferred from np.select's arrays (put together in
        # Arrow; no object a line); no text at all: as the Series infers it
        text = select_texts(city.index, cases, whole, arrow=True)
        texts.append(pd.Series(text.to_numpy(), index=city.index) if text.dtype == object else text)
    return texts[0], texts[1]


register(
    ReviewRule(
        name="travel",
        level="line",
        review=_review_travel,
        tables={"lodging": "travel-lodging", "allowance": "travel-allowance"},
        label_zh="差旅费",
        label_en="travel expenses",
        document="财行〔2013〕531号",
        open_dims=OPEN_DIMS,
        codes=("travel_caps", *(f"travel_{p}" for p in (LODGING, MEALS, LOCAL, INTERCITY))),
    )
)
