"""Reading request lines: kind routing, dates, amounts and the facts of each kind.

Each line's kind comes from its kind cell (zh or en) or its economic classification
code; :func:`prepare_requests` gives the working facts per line and the problems
found so far, and the kind reviewers read their facts through :func:`first_present`,
:func:`fact_column` and :func:`require_facts`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd

from costperf.columns import TEXT_DTYPE, code_label_map, label
from costperf.review.batch.routing import econ_kinds
from costperf.review.expenditure.lookup import map_distinct
from costperf.schemas import (
    blanked_rows,
    concat_problems,
    date_expected,
    parse_dates,
    row_problems,
)
from costperf.standards.derive.table import round_half_up_values

KINDS = ("meeting", "training", "travel", "equipment")


#: each kind in Chinese (labels.csv expense_kind)
KINDS_ZH = {k: code_label_map("expense_kind", "zh")[k] for k in KINDS}


#: every spelling of a kind (normalised: NFKC, lower case): codes, Chinese, and the
#: English labels of labels.csv (``office equipment and furniture``, as the English
#: template lists them)
_KIND_SPELLINGS = {
    **{k: k for k in KINDS},
    **{v: k for k, v in KINDS_ZH.items()},
    **{en.lower(): k for k, en in code_label_map("expense_kind", "en").items() if k in KINDS},
    "会议费": "meeting",
    "培训费": "training",
    "差旅费": "travel",
    "出差": "travel",
    "办公设备": "equipment",
    "家具": "equipment",
    "办公家具": "equipment",
    "设备购置": "equipment",
    "办公设备购置": "equipment",
    "meetings": "meeting",
    "trip": "travel",
}


#: economic classification codes that route a line without a kind: the routing table
#: ``standards/review-routing.csv`` (one copy of the fact).
ECON_KINDS = econ_kinds()


def first_present(
    frame: pd.DataFrame, names: tuple[str, ...], rows: pd.Index | None = None
) -> pd.Series:
    """Row-wise first non-blank of the columns ``names`` present in ``frame``; ``rows``:
    of those rows only (their cells of ``names`` read, not a copy of every column)."""
    out = pd.Series(np.nan, index=frame.index if rows is None else rows, dtype=object)
    for name in names:
        if name in frame.columns:
            column = frame[name] if rows is None else frame.loc[rows, name]
            out = out.where(out.notna(), column)
    return out


def fact_column(frame: pd.DataFrame, names: tuple[str, ...]) -> str:
    """The column a problem about ``names`` points at: the first present, else a label."""
    for name in names:
        if name in frame.columns:
            return name
    return label(names[0])


def _spelling(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


def normalise_kinds(values: pd.Series, econ_codes: pd.Series | None = None) -> pd.Series:
    """Canonical kind of each line: its kind cell (zh or en), else its econ code's kind.

    A ``str`` column (NaN: no kind), each distinct cell spelled out once: what mapping
    the normalised cells through ``_KIND_SPELLINGS`` gives, dtype included (the map
    takes the dict's dtype), without a text per row.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = [_KIND_SPELLINGS.get(_spelling(u)) for u in np.asarray(uniques, dtype=object)]
    kinds = pd.Series(pd.array([*found, None], dtype=TEXT_DTYPE)[codes], index=values.index)
    if econ_codes is not None:
        routed = map_distinct(econ_codes, lambda v: ECON_KINDS.get(str(v).strip()))
        kinds = kinds.where(values.notna(), routed)
    return kinds


def prepare_requests(req: pd.DataFrame, *, on: object = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Working facts per line (kind, date, requested) and the problems found so far.

    ``_bad`` marks lines with a problem; the kind reviewers skip them.
    """
    work = pd.DataFrame(index=req.index)
    econ = req["econ_code"] if "econ_code" in req else None
    raw_kind = req["expense_kind"] if "expense_kind" in req else pd.Series(np.nan, index=req.index)
    work["kind"] = normalise_kinds(raw_kind, econ)
    allowed = ", ".join(f"{KINDS_ZH[k]} {k}" for k in KINDS)
    problems = [
        row_problems(
            req,
            work["kind"].isna(),
            fact_column(req, ("expense_kind",)),
            f"one of: {allowed} (or an econ code 30215/30216/30211/31002)",
            "unknown_kind",
            values=raw_kind,
        )
    ]
    default = pd.Timestamp.today().normalize() if on is None else pd.Timestamp(on).normalize()
    given = req["date"] if "date" in req else pd.Series(np.nan, index=req.index, dtype=object)
    dates = parse_dates(given)
    bad = given.notna() & dates.isna()
    problems.append(row_problems(req, bad, "date", "a date YYYY-MM-DD", "bad_date"))
    if bad.any():  # a date formatted as a number says so
        problems[-1]["expected"] = date_expected(given[bad])
    no_date = given.isna() & work["kind"].eq("travel") & (on is None)
    problems.append(
        row_problems(
            req,
            no_date,
            fact_column(req, ("date",)),
            "the trip's start date (or pass --date): the lodging cap depends on the season",
            "missing_fact",
        )
    )
    work["date"] = dates.where(given.notna(), default)
    given = pd.to_numeric(first_present(req, ("requested", "amount")), errors="coerce")
    work["requested"] = round_half_up_values(given)  # to the fen: 20.005 -> 20.01
    derivable = work["kind"].eq("equipment") & first_present(req, ("quantity",)).notna()
    derivable &= first_present(req, ("unit_price",)).notna()
    missing = work["requested"].isna() & ~derivable
    missing &= ~blanked_rows(req, ("quantity", "unit_price"))  # a problem of its own
    problems.append(
        row_problems(
            req,
            missing,
            fact_column(req, ("requested", "amount")),
            "the requested amount [yuan]",
            "missing_fact",
        )
    )
    problems = concat_problems(problems)
    bad_rows = set(problems["source_row"]) if len(problems) else set()
    rows = req["source_row"] if "source_row" in req else pd.Series(req.index + 1, index=req.index)
    work["_bad"] = rows.isin(bad_rows)
    return work, problems


def require_facts(
    req: pd.DataFrame, rows: pd.Index, facts: Mapping[str, tuple[str, ...]], what: str
) -> tuple[pd.Series, pd.DataFrame]:
    """Lines of ``rows`` missing one of ``facts`` (name -> columns that may hold it).

    A fact no column of the file holds (its header mistyped: 参会人 for 人数) is one
    problem at the header row, naming the headers the book does not know, not one per
    line."""
    missing = pd.Series(False, index=req.index)
    parts = []
    for expected, names in facts.items():
        absent = pd.Series(False, index=req.index)
        absent.loc[rows] = first_present(req, names, rows).isna()
        zh = "/".join(label(n) for n in names)
        if absent.any() and not set(names) & set(req.columns):
            parts.append(_absent_column(req, absent, names, (expected, zh), what))
            missing |= absent
            continue
        parts.append(
            row_problems(
                req,
                absent,
                fact_column(req, names),
                f"{expected} ({zh}) for {'an' if what[:1] in 'aeiou' else 'a'} {what} line",
                "missing_fact",
            )
        )
        missing |= absent
    return missing.loc[rows], concat_problems(parts)


def _absent_column(
    req: pd.DataFrame,
    absent: pd.Series,
    names: tuple[str, ...],
    fact: tuple[str, str],
    what: str,
) -> pd.DataFrame:
    """One problem for a fact column missing from the file (see :func:`require_facts`)."""
    from costperf.schemas import table_problem, unknown_headers

    unknown = unknown_headers(req)
    at = np.flatnonzero(absent.to_numpy())
    first = int(req["source_row"].iloc[at[0]]) if "source_row" in req else int(at[0]) + 1
    fact_text, zh = fact
    n = len(at)
    expected = f"a column {fact_text} ({zh}): {n} {what} line(s) need it; the first in row {first}"
    if unknown:
        expected += "; the header has columns the book does not know"
    head = req.attrs.get("header_row")
    return table_problem(
        req,
        label(names[0]),
        expected,
        "missing_column",
        value=", ".join(unknown),
        row=int(head) if head else None,
    )


_DIGITS = {"1": "一", "2": "二", "3": "三", "4": "四"}
#: what a category's number is followed by in the standard tables' names (二类会议)
_CLASS = "类"


def normalise_category(values: pd.Series, suffix: str) -> pd.Series:
    """``'二类'``, ``'2'``, ``'二类会议'`` -> ``'二类会议'`` (``suffix`` 会议 or 培训)."""

    def one(value: object) -> str:
        text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix(suffix)
        core = text.removesuffix(_CLASS)
        if core == text and core not in _DIGITS and core not in _DIGITS.values():
            return text  # not a class ('False', 'abc'): reported as written
        # one digit is a class number ('2' -> 二类); anything else stays as written, to
        # be reported as an unknown category ('-1' is not '-一类')
        return _DIGITS.get(core, core) + _CLASS + suffix  # a table's name, not a text

    return map_distinct(values, one)
