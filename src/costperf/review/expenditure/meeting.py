"""Meeting lines 会议 (财行〔2016〕214号): composite quota x attendees x meeting days.

A 二/三/四类 meeting longer than the duration limit or with more attendees than the
head-count limit (table ``meeting-limits``) is rejected (不予安排).  A line whose
optional subtype (会议性质) is 传达布置类 meets the briefing-meeting duration limit
(传达、布置类会议不得超过1天), a more specific line of the same table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.columns import message, message_column
from costperf.review.expenditure.lookup import (
    format_amounts,
    format_money,
    line_refs,
    listed_values,
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
from costperf.standards import StandardSet
from costperf.standards.lookup import OK

SUBTYPE = "meeting_subtype"

#: what a line's review found (its ``rule``): over the days, over the attendees, else the quota
CODES = ("meeting_days_limit", "meeting_attendees_limit", "meeting_quota")


def _review_meetings(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = work.index
    facts = {
        "the meeting category": ("meeting_category", "category"),
        "the number of attendees": ("attendees", "persons"),
        "the meeting days": ("meeting_days", "days"),
    }
    missing, problems = require_facts(req, rows, facts, "meeting")
    # every line naming a category is looked up, one missing another fact too: its
    # unknown category comes in this run (all problems at once), its cap is not computed
    named = first_present(req, facts["the meeting category"], rows)
    looked = rows[named.notna().to_numpy()]
    query = pd.DataFrame(
        {
            "category": normalise_category(named.loc[looked], "会议"),
            "date": work.loc[looked, "date"],
        }
    )
    quota = lookup_lines(standards, query, names["meeting"], "total")
    cat_col = fact_column(req, facts["the meeting category"])
    found = lookup_problems(
        req, quota, {"category": cat_col, "date": "date"}, "a meeting category of the table"
    )
    rows = rows[~missing.to_numpy()]  # the lines with every fact (all of them looked up)
    query, quota = query.loc[rows], quota.loc[rows]
    sub = req.loc[rows]
    category = query["category"]
    persons = first_present(sub, facts["the number of attendees"]).astype(float)
    days = first_present(sub, facts["the meeting days"]).astype(float)
    subtype, bad_subtype = _subtypes(req, sub, standards, names["meeting_limits"])
    limit_query = query.assign(**{SUBTYPE: subtype}) if subtype is not None else query
    limits = {
        item: lookup_lines(standards, limit_query, names["meeting_limits"], item)
        for item in ("max_days", "max_attendees")
    }
    max_days = limits["max_days"]["value"].where(limits["max_days"]["lookup_status"].eq(OK))
    max_people = limits["max_attendees"]["value"].where(
        limits["max_attendees"]["lookup_status"].eq(OK)
    )
    over_days = days > max_days
    over_people = persons > max_people
    cap = quota["value"] * persons * days
    out = pd.DataFrame(index=rows)
    out["limit_reject"] = over_days | over_people
    out["approvable"] = cap.where(~out["limit_reject"], 0.0)
    out["rule"] = np.select([over_days, over_people], list(CODES[:2]), CODES[2])
    out["standard_id"] = quota["standard_id"]
    refs, docs = table_refs(quota, limits["max_days"])
    out["standard_version"], out["document_no"] = refs, docs
    lines = line_refs(quota)
    for frame in limits.values():
        ok = frame["lookup_status"].eq(OK)
        lines = lines.where(~ok, lines + "; " + line_refs(frame))
    out["standard_lines"] = lines
    verified = quota["verified"].astype(bool)
    for frame in limits.values():
        verified &= frame["verified"].where(frame["lookup_status"].eq(OK), True).astype(bool)
    out["verified"] = verified
    shown = subtype if subtype is not None else pd.Series(np.nan, index=rows)
    unverified = {
        item: ~frame["verified"].where(frame["lookup_status"].eq(OK), True).astype(bool)
        for item, frame in limits.items()
    }
    f = format_amounts
    c = category.astype(str)
    subtype_text = shown.astype(object).fillna("").astype(str)
    n, d, md, mp = f(persons), f(days), f(max_days), f(max_people)
    quota_text, cap_text = format_money(quota["value"]), format_money(cap)
    for lang in ("zh", "en"):
        kind = message_column(
            "reason.meeting.kind", lang, rows, category=c, subtype=subtype_text
        ).where(shown.notna(), c)
        unverified_note = message("reason.limit_unverified", lang)
        note = {
            item: pd.Series(np.where(flag, unverified_note, ""), index=rows)
            for item, flag in unverified.items()
        }
        text = np.select(
            [over_days, over_people],
            [
                message_column(
                    "reason.meeting.days_over",
                    lang,
                    rows,
                    kind=kind,
                    days=d,
                    max_days=md,
                    note=note["max_days"],
                ),
                message_column(
                    "reason.meeting.attendees_over",
                    lang,
                    rows,
                    kind=kind,
                    persons=n,
                    max_attendees=mp,
                    note=note["max_attendees"],
                ),
            ],
            message_column(
                "reason.meeting.quota",
                lang,
                rows,
                category=c,
                quota=quota_text,
                persons=n,
                days=d,
                cap=cap_text,
            ),
        )
        out[f"basis_{lang}"] = text
    return out, concat_problems([problems, found, bad_subtype])


def _subtypes(
    req: pd.DataFrame, sub: pd.DataFrame, standards: StandardSet, table: str
) -> tuple[pd.Series | None, pd.DataFrame]:
    """The lines' meeting subtypes in the limit table's spelling, and unknown ones.

    The subtypes a table knows are the ``values`` of its ``meeting_subtype`` dimension
    (any version; aliases such as 传达、布置类会议 accepted).  A table without that
    dimension has no subtype limits: the column is then not read.
    """
    given = sub[SUBTYPE] if SUBTYPE in sub else None
    if given is None or given.isna().all():
        return None, concat_problems([])
    listed = listed_values(standards, table, SUBTYPE, given)
    if listed is None:
        return None, concat_problems([])
    known, normal = set(listed[0]), listed[1]
    bad = pd.Series(False, index=req.index)
    bad.loc[sub.index] = given.notna() & ~normal.isin(known)
    listed = ", ".join(sorted(known))
    problem = row_problems(
        req, bad, SUBTYPE, f"a meeting subtype of {table}: {listed} (or blank)", "unknown_value"
    )
    return normal, problem


register(
    ReviewRule(
        name="meeting",
        level="line",
        review=_review_meetings,
        tables={"meeting": "meeting-fee", "meeting_limits": "meeting-limits"},
        label_zh="会议费",
        label_en="meeting fees",
        document="财行〔2016〕214号",
        codes=CODES,
    )
)
