"""Review meeting, training, travel and office-equipment requests against expenditure standards.

One request line asks for an amount for one meeting, training, trip or equipment purchase
and gives the facts its standard needs.  Each line gets the most the published tables
allow (the cap), ``approved = min(requested, cap)``, the cut, a decision and a reason, and
the value lines, table versions and document numbers used.  The rules:

- meeting 会议 (财行〔2016〕214号): cap = composite quota of the category (元/人·天) x
  attendees x meeting days (会期, not counting arrival and departure).  A 二/三/四类
  meeting longer than the duration limit or with more attendees than the head-count
  limit (table ``meeting-limits``, unverified) is rejected (不予安排).
- training 培训 (财行〔2016〕540号): cap = composite quota x trainees x chargeable days
  (arrival + departure count at most 1 day; days beyond 30 at 70 %) + lecturer fee per
  teaching hour of the lecturer's title x teaching hours (at most 4 per half day when the
  half-days are given).
- travel 差旅 (财行〔2013〕531号; lodging table 财行〔2015〕497号 from 2016): cap =
  travellers x (sum over the nights of the lodging cap of city, staff level and the
  night's season + (meal allowance of the region + local transport) x days).
- equipment 办公设备家具 (财资〔2016〕27号): approved units = requested units within the
  quantity cap (relative to staff) less the units already held (a replacement frees the
  units it replaces); a replacement before the minimum service years is rejected unless
  the old units are damaged beyond repair; approved = approved units x min(unit price,
  price cap); the meeting-table cap is room area x the rate of its area band.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from costperf.columns import label
from costperf.errors import raise_if_problems
from costperf.review.unit_cost import DECISIONS_ZH
from costperf.schemas import REQUESTS, concat_problems, row_problems
from costperf.standards import (
    StandardSet,
    lecturer_hours_cap,
    lookup_values,
    meeting_table_price_cap,
    quantity_cap,
    shipped_standards,
    training_chargeable_days,
)
from costperf.standards.lookup import OK

KINDS = ("meeting", "training", "travel", "equipment")
KINDS_ZH = {"meeting": "会议", "training": "培训", "travel": "差旅", "equipment": "办公设备家具"}
_KIND_SPELLINGS = {
    **{k: k for k in KINDS},
    **{v: k for k, v in KINDS_ZH.items()},
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
#: economic classification codes that route a line without a kind (published-standards.md §5).
ECON_KINDS = {
    "30215": "meeting",
    "30216": "training",
    "30211": "travel",
    "31002": "equipment",
    "31007": "equipment",
}
#: table ids used per role; override with ``tables=`` (e.g. a provincial meeting table).
TABLES = {
    "meeting": "meeting-fee",
    "meeting_limits": "meeting-limits",
    "training": "training-fee",
    "lecturer": "training-lecturer-fee",
    "lodging": "travel-lodging",
    "allowance": "travel-allowance",
    "equipment": "office-equipment",
}
#: everyday names of equipment items, besides the tables' codes and labels.
EQUIPMENT_SYNONYMS = {
    "desktop": "desktop_computer",
    "laptop": "laptop_computer",
    "台式机": "desktop_computer",
    "台式电脑": "desktop_computer",
    "计算机": "desktop_computer",
    "笔记本": "laptop_computer",
    "笔记本电脑": "laptop_computer",
    "便携式电脑": "laptop_computer",
    "a4打印机": "a4_mono_printer",
    "黑白打印机": "a4_mono_printer",
    "一体机": "multifunction_fax",
    "多功能一体机": "multifunction_fax",
    "传真机": "multifunction_fax",
}
_YES = {"是", "y", "yes", "true", "1", "√", "损坏", "已损坏", "报废"}

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
    "source_file",
    "source_row",
]
_RESULT = [
    "approvable",
    "limit_reject",
    "rule",
    "standard_id",
    "standard_version",
    "document_no",
    "standard_lines",
    "verified",
    "basis_zh",
    "basis_en",
]


# ---- the entry point ------------------------------------------------------------------


def review_expenditure(
    requests: pd.DataFrame,
    standards: StandardSet | None = None,
    *,
    on: object = None,
    tables: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Approved amount, cut, decision and reason for each expenditure request line.

    Parameters
    ----------
    requests
        One row per request line (canonical columns of schema ``REQUESTS``, see
        ``cases/expenditure-requests/README.md``): ``request_id``, ``expense_kind``
        (meeting/training/travel/equipment or 会议/培训/差旅/办公设备), ``requested``
        [yuan] and the facts of the kind.
    standards
        The standard tables (default: the shipped ones).
    on
        Date for lines without a ``date`` (picks the table versions in force); default
        today.  Travel lines need a date (the season depends on it).
    tables
        Table id per role, overriding :data:`TABLES`.

    Returns
    -------
    DataFrame
        :data:`OUTPUT_COLUMNS`, one row per request line in input order;
        ``approved + cut = requested`` and ``approved <= approvable`` on every row.

    Raises
    ------
    InputError
        Listing every problem (file, row, column): unknown kind, category, city, title
        or item, a missing fact of the kind, a negative number, a bad date.
    """
    standards = shipped_standards() if standards is None else standards
    names = {**TABLES, **(tables or {})}
    req = _validated(requests)
    work, problems = prepare_requests(req, on=on)
    parts, found = [], [problems]
    for kind, review in _REVIEWERS.items():
        rows = work.index[work["kind"].eq(kind) & ~work["_bad"]]
        if len(rows):
            result, kind_problems = review(req, work.loc[rows], standards, names)
            parts.append(result)
            found.append(kind_problems)
    raise_if_problems(concat_problems(found), _where(req))
    results = pd.concat(parts) if parts else pd.DataFrame(columns=_RESULT)
    return _finish(req, work, results.reindex(work.index))


def _validated(requests: pd.DataFrame) -> pd.DataFrame:
    typed, problems = REQUESTS.validate(requests.reset_index(drop=True))
    typed.attrs = dict(requests.attrs)
    raise_if_problems(problems, _where(requests))
    return typed


def _where(frame: pd.DataFrame) -> str:
    source = frame.attrs.get("source", ("", ""))
    file, sheet = source if isinstance(source, tuple) else (str(source), "")
    return (file or "the requests") + (f", sheet '{sheet}'" if sheet else "")


# ---- preparing the facts --------------------------------------------------------------


def _first(frame: pd.DataFrame, names: tuple[str, ...]) -> pd.Series:
    """Row-wise first non-blank of the columns ``names`` present in ``frame``."""
    out = pd.Series(np.nan, index=frame.index, dtype=object)
    for name in names:
        if name in frame.columns:
            out = out.where(out.notna(), frame[name])
    return out


def _col(frame: pd.DataFrame, names: tuple[str, ...]) -> str:
    """The column a problem about ``names`` points at: the first present, else a label."""
    for name in names:
        if name in frame.columns:
            return name
    return label(names[0])


def _parse_dates(values: pd.Series) -> pd.Series:
    text = values.astype(object).where(values.notna(), None)
    text = text.map(
        lambda v: str(v).replace("年", "-").replace("月", "-").replace("日", "").strip(),
        na_action="ignore",
    )
    return pd.to_datetime(text, errors="coerce", format="mixed").dt.normalize()


def normalise_kinds(values: pd.Series, econ_codes: pd.Series | None = None) -> pd.Series:
    """Canonical kind of each line: its kind cell (zh or en), else its econ code's kind."""
    key = values.map(
        lambda v: unicodedata.normalize("NFKC", str(v)).strip().lower(), na_action="ignore"
    )
    kinds = key.map(_KIND_SPELLINGS)
    if econ_codes is not None:
        routed = econ_codes.map(lambda v: ECON_KINDS.get(str(v).strip()), na_action="ignore")
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
            _col(req, ("expense_kind",)),
            f"one of: {allowed} (or an econ code 30215/30216/30211/31002)",
            "unknown_kind",
            values=raw_kind,
        )
    ]
    default = pd.Timestamp.today().normalize() if on is None else pd.Timestamp(on).normalize()
    given = req["date"] if "date" in req else pd.Series(np.nan, index=req.index, dtype=object)
    dates = _parse_dates(given)
    problems.append(
        row_problems(req, given.notna() & dates.isna(), "date", "a date YYYY-MM-DD", "bad_date")
    )
    no_date = given.isna() & work["kind"].eq("travel") & (on is None)
    problems.append(
        row_problems(
            req,
            no_date,
            _col(req, ("date",)),
            "the trip's start date (or pass --date): the lodging cap depends on the season",
            "missing_fact",
        )
    )
    work["date"] = dates.where(given.notna(), default)
    work["requested"] = pd.to_numeric(_first(req, ("requested", "amount")), errors="coerce")
    derivable = work["kind"].eq("equipment") & _first(req, ("quantity",)).notna()
    derivable &= _first(req, ("unit_price",)).notna()
    missing = work["requested"].isna() & ~derivable
    problems.append(
        row_problems(
            req,
            missing,
            _col(req, ("requested", "amount")),
            "the requested amount [yuan]",
            "missing_fact",
        )
    )
    problems = concat_problems(problems)
    bad_rows = set(problems["source_row"]) if len(problems) else set()
    rows = req["source_row"] if "source_row" in req else pd.Series(req.index + 1, index=req.index)
    work["_bad"] = rows.isin(bad_rows)
    return work, problems


def _require(
    req: pd.DataFrame, rows: pd.Index, facts: Mapping[str, tuple[str, ...]], what: str
) -> tuple[pd.Series, pd.DataFrame]:
    """Lines of ``rows`` missing one of ``facts`` (name -> columns that may hold it)."""
    missing = pd.Series(False, index=req.index)
    parts = []
    for expected, names in facts.items():
        absent = pd.Series(False, index=req.index)
        absent.loc[rows] = _first(req.loc[rows], names).isna()
        zh = "/".join(label(n) for n in names)
        parts.append(
            row_problems(
                req,
                absent,
                _col(req, names),
                f"{expected} ({zh}) for a {what} line",
                "missing_fact",
            )
        )
        missing |= absent
    return missing.loc[rows], concat_problems(parts)


def _lookup(
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


def _lookup_problems(
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


def _line_refs(found: pd.DataFrame) -> pd.Series:
    """``standard_id@version=value unit`` of looked-up lines."""
    return (
        found["standard_id"].astype(str)
        + "@"
        + found["version"].astype(str)
        + "="
        + found["value"].map(_fmt).astype(str)
        + " "
        + found["unit"].astype(str)
    )


def _table_refs(*found: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``table@version`` list and document numbers per row (NaN lookups skipped)."""
    refs, docs = None, None
    for frame in found:
        ok = frame["lookup_status"].eq(OK)
        ref = (frame["table_id"].astype(str) + "@" + frame["version"].astype(str)).where(ok, "")
        doc = frame["document_no"].astype(object).fillna("").astype(str).where(ok, "")
        refs = ref if refs is None else _join(refs, ref)
        docs = doc if docs is None else _join(docs, doc, unique=True)
    return refs, docs


def _join(left: pd.Series, right: pd.Series, *, unique: bool = False) -> pd.Series:
    def one(a: str, b: str) -> str:
        parts = [p for p in a.split("; ") if p]
        if b and not (unique and b in parts):
            parts.append(b)
        return "; ".join(parts)

    return pd.Series([one(a, b) for a, b in zip(left, right, strict=True)], index=left.index)


def _fmt(x: object) -> str:
    """Money and counts for reasons: 114,000 / 33.5 / 1,234.56."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    value = float(x)
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


# ---- meetings ---------------------------------------------------------------------------

_DIGITS = {"1": "一", "2": "二", "3": "三", "4": "四"}


def normalise_category(values: pd.Series, suffix: str) -> pd.Series:
    """``'二类'``, ``'2'``, ``'二类会议'`` -> ``'二类会议'`` (``suffix`` 会议 or 培训)."""

    def one(value: object) -> str:
        text = unicodedata.normalize("NFKC", str(value)).strip().removesuffix(suffix)
        text = "".join(_DIGITS.get(c, c) for c in text)
        if not text.endswith("类"):
            text += "类"
        return text + suffix

    return values.map(one, na_action="ignore")


def _review_meetings(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = work.index
    facts = {
        "the meeting category": ("meeting_category", "category"),
        "the number of attendees": ("attendees", "persons"),
        "the meeting days": ("meeting_days", "days"),
    }
    missing, problems = _require(req, rows, facts, "meeting")
    rows = rows[~missing.to_numpy()]
    sub = req.loc[rows]
    category = normalise_category(_first(sub, facts["the meeting category"]), "会议")
    persons = _first(sub, facts["the number of attendees"]).astype(float)
    days = _first(sub, facts["the meeting days"]).astype(float)
    query = pd.DataFrame({"category": category, "date": work.loc[rows, "date"]})
    quota = _lookup(standards, query, names["meeting"], "total")
    cat_col = _col(req, facts["the meeting category"])
    found = _lookup_problems(
        req, quota, {"category": cat_col, "date": "date"}, "a meeting category of the table"
    )
    limits = {
        item: _lookup(standards, query, names["meeting_limits"], item)
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
    out["rule"] = np.select(
        [over_days, over_people], ["meeting_days_limit", "meeting_attendees_limit"], "meeting_quota"
    )
    out["standard_id"] = quota["standard_id"]
    refs, docs = _table_refs(quota, limits["max_days"])
    out["standard_version"], out["document_no"] = refs, docs
    lines = _line_refs(quota)
    for frame in limits.values():
        ok = frame["lookup_status"].eq(OK)
        lines = lines.where(~ok, lines + "; " + _line_refs(frame))
    out["standard_lines"] = lines
    verified = quota["verified"].astype(bool)
    for frame in limits.values():
        verified &= frame["verified"].where(frame["lookup_status"].eq(OK), True).astype(bool)
    out["verified"] = verified
    zh, en = [], []
    for c, q, n, d, md, mp, od, op, total in zip(
        category,
        quota["value"],
        persons,
        days,
        max_days,
        max_people,
        over_days,
        over_people,
        cap,
        strict=True,
    ):
        if od:
            zh.append(f"{c}会期 {_fmt(d)} 天超过上限 {_fmt(md)} 天（上限未经核实）")
            en.append(f"{c}: {_fmt(d)} meeting days exceed the limit of {_fmt(md)} (unverified)")
        elif op:
            zh.append(f"{c}参会人数 {_fmt(n)} 人超过上限 {_fmt(mp)} 人（上限未经核实）")
            en.append(f"{c}: {_fmt(n)} attendees exceed the limit of {_fmt(mp)} (unverified)")
        else:
            zh.append(
                f"会议费综合定额（{c}）{_fmt(q)} 元/人·天 × {_fmt(n)} 人 × {_fmt(d)} 天"
                f" = {_fmt(total)} 元"
            )
            en.append(
                f"meeting composite quota ({c}) {_fmt(q)} yuan/person-day x {_fmt(n)} "
                f"persons x {_fmt(d)} days = {_fmt(total)} yuan"
            )
    out["basis_zh"], out["basis_en"] = zh, en
    return out, concat_problems([problems, found])


# ---- training ---------------------------------------------------------------------------


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


# ---- travel -----------------------------------------------------------------------------


def _review_travel(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = work.index
    sub = req.loc[rows]
    facts = {"the destination city": ("city",), "the staff level": ("staff_level",)}
    missing, problems = _require(req, rows, facts, "travel")
    problems = [problems]
    start = work.loc[rows, "date"]
    end = _parse_dates(sub["end_date"]) if "end_date" in sub else pd.Series(pd.NaT, index=rows)
    days = _first(sub, ("travel_days", "days")).astype(float)
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
            _col(req, ("travel_days", "days")),
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
    persons = _first(sub, ("travellers", "persons")).astype(float).fillna(1.0)

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
    lodging = _lookup(standards, night_query, names["lodging"], "lodging")
    lodging["_row"] = owner
    bad_nights = lodging[lodging["lookup_status"].ne(OK)].drop_duplicates("_row").set_index("_row")
    problems.append(
        _lookup_problems(
            req,
            bad_nights,
            {"city": "city", "staff_level": "staff_level", "date": "date"},
            "a city and staff level of the lodging table",
        )
    )
    per_row = lodging.groupby("_row")["value"].sum()
    lodging_sum = per_row.reindex(rows).fillna(0.0)
    day_query = pd.DataFrame({"city": sub["city"], "date": start})
    meals = _lookup(standards, day_query, names["allowance"], "meals")
    transport = _lookup(standards, day_query, names["allowance"], "local_transport")
    problems.append(
        _lookup_problems(req, meals, {"date": "date"}, "a date with the allowance table in force")
    )
    daily = meals["value"] + transport["value"]
    out = pd.DataFrame(index=rows)
    out["limit_reject"] = False
    out["rule"] = "travel_caps"
    out["approvable"] = persons * (lodging_sum + daily * days)
    used = (
        lodging[lodging["lookup_status"].eq(OK)]
        .assign(ref=lambda f: _line_refs(f))
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
    refs, allowance_docs = _table_refs(meals)
    out["standard_version"] = _join(versions, refs)
    out["document_no"] = _join(docs, allowance_docs, unique=True)
    out["standard_lines"] = _join(_join(night_lines, _line_refs(meals)), _line_refs(transport))
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
            f"{city}·{level}：住宿费 {int(nt)} 晚合计 {_fmt(lodge)} 元（按每晚所在淡旺季标准）"
            f" + （伙食补助 {_fmt(meal)} + 市内交通 {_fmt(local)}）元/天 × {_fmt(d)} 天，"
            f"× {_fmt(n)} 人 = {_fmt(n * (lodge + (meal + local) * d))} 元"
        )
        en.append(
            f"{city}, {level}: lodging {int(nt)} nights {_fmt(lodge)} yuan (each night at its "
            f"season's cap) + (meals {_fmt(meal)} + local transport {_fmt(local)}) yuan/day x "
            f"{_fmt(d)} days, x {_fmt(n)} persons = {_fmt(n * (lodge + (meal + local) * d))} yuan"
        )
    out["basis_zh"], out["basis_en"] = zh, en
    return out, concat_problems(problems)


# ---- office equipment and furniture ------------------------------------------------------


def _key(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower().replace(" ", "")


def equipment_items(standards: StandardSet, table: str) -> dict[str, str]:
    """Spelling -> item code of every priced item of ``table`` (code, zh and en labels)."""
    spellings: dict[str, str] = {}
    values = standards.values[standards.values["table_id"] == table]
    priced = set(values.loc[values["component"].isin(["price", "price_per_m2"]), "item"])
    for version in standards.versions_of(table):
        for code, spec in (version.header.get("items") or {}).items():
            if code in priced:
                for text in (code, spec.get("label_zh"), spec.get("label_en")):
                    if text:
                        spellings[_key(text)] = code
    spellings.update({_key(k): v for k, v in EQUIPMENT_SYNONYMS.items() if v in priced})
    return spellings


def _quantity_items(standards: StandardSet, table: str) -> set[str]:
    """Items with a quantity cap: their own or a shared quantity line, or a tiers rule."""
    values = standards.values[standards.values["table_id"] == table]
    items = set(values.loc[values["component"] == "quantity", "item"])
    for version in standards.versions_of(table):
        rules = version.header.get("rules") or {}
        shared = (rules.get("shared_quantity") or {}).get("value") or {}
        items |= {k for k, v in shared.items() if v in items}
        items |= {r["item"] for r in rules.values() if r.get("type") == "tiers" and "item" in r}
    return items


def _review_equipment(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = names["equipment"]
    rows = work.index
    facts = {"the item": ("equipment_item", "item"), "the quantity": ("quantity",)}
    missing, problems = _require(req, rows, facts, "equipment")
    problems = [problems]
    spellings = equipment_items(standards, table)
    raw_item = _first(req.loc[rows], facts["the item"])
    item = raw_item.map(lambda v: spellings.get(_key(v)), na_action="ignore")
    unknown = pd.Series(False, index=req.index)
    unknown.loc[rows] = raw_item.notna() & item.isna()
    listing = "、".join(sorted({label_zh for label_zh in _item_labels(standards, table)}))
    problems.append(
        row_problems(
            req,
            unknown,
            _col(req, facts["the item"]),
            f"an item of {table}: {listing}",
            "unknown_item",
        )
    )
    rows = rows[~(missing | unknown.loc[rows]).to_numpy()]
    sub, item = req.loc[rows], item.loc[rows]
    quantity = sub["quantity"].astype(float)
    requested = work.loc[rows, "requested"]
    price = (
        sub["unit_price"].astype(float) if "unit_price" in sub else pd.Series(np.nan, index=rows)
    )
    price = price.where(price.notna(), requested / quantity.where(quantity > 0))
    requested = requested.where(requested.notna(), quantity * price)
    dates = work.loc[rows, "date"]
    level = sub["staff_level"] if "staff_level" in sub else pd.Series(np.nan, index=rows)
    unit_type = sub["unit_type"] if "unit_type" in sub else pd.Series(np.nan, index=rows)
    is_table = item.eq("meeting_table")

    # price caps: per unit, or for meeting tables per room (area x band rate)
    query = pd.DataFrame(
        {"item": item, "staff_level": level, "unit_type": unit_type, "date": dates}
    )
    price_line = lookup_values(
        standards,
        query[~is_table.to_numpy()],
        on="date",
        table=table,
        component="price",
        dims=["staff_level", "unit_type"],
    )
    problems.append(
        _lookup_problems(
            req,
            price_line,
            {"staff_level": "staff_level", "unit_type": "unit_type", "date": "date"},
            "the facts the price cap depends on",
        )
    )
    price_cap = price_line["value"].reindex(rows)
    room_cap = pd.Series(np.nan, index=rows)
    area_line = pd.DataFrame(index=rows[is_table.to_numpy()])
    if is_table.any():
        tables_rows = rows[is_table.to_numpy()]
        area = sub.loc[tables_rows, "room_area_m2"] if "room_area_m2" in sub else None
        area = pd.Series(np.nan, index=tables_rows) if area is None else area.astype(float)
        no_area = pd.Series(False, index=req.index)
        no_area.loc[tables_rows] = area.isna()
        problems.append(
            row_problems(
                req,
                no_area,
                _col(req, ("room_area_m2",)),
                "the meeting-room area (会议室面积, m2) for a meeting-table line",
                "missing_fact",
            )
        )
        have = area.notna()
        area_line = lookup_values(
            standards,
            pd.DataFrame({"room_area_m2": area[have], "date": dates.loc[tables_rows][have]}),
            on="date",
            table=table,
            item="meeting_table",
            component="price_per_m2",
            dims=[],
        )
        for when, idx in area_line.groupby("effective_from").groups.items():
            room_cap.loc[idx] = meeting_table_price_cap(
                area.loc[idx].to_numpy(), standards=standards, on=when, table=table
            )

    # quantity caps relative to staff, less the units already held
    capped = item.isin(_quantity_items(standards, table))
    staff = (
        sub["staff_count"].astype(float) if "staff_count" in sub else pd.Series(np.nan, index=rows)
    )
    no_staff = pd.Series(False, index=req.index)
    no_staff.loc[rows] = capped & staff.isna()
    problems.append(
        row_problems(
            req,
            no_staff,
            _col(req, ("staff_count",)),
            "the staff on the establishment (编制内实有人数): the item's quantity cap is relative to it",
            "missing_fact",
        )
    )
    qty_cap = pd.Series(np.nan, index=rows)
    qty_ref = pd.Series("", index=rows, dtype=object)
    groups = pd.DataFrame(
        {
            "item": item,
            "level": level.astype(object).fillna(""),
            "unit_type": unit_type.astype(object).fillna(""),
            "date": dates,
        }
    )[capped & staff.notna()]
    for (code, lev, utype, when), idx in groups.groupby(
        ["item", "level", "unit_type", "date"]
    ).groups.items():
        try:
            qty_cap.loc[idx] = quantity_cap(
                code,
                staff.loc[idx].to_numpy(),
                standards=standards,
                on=when,
                table=table,
                staff_level=lev or None,
                unit_type=utype or None,
            )
        except Exception as exc:  # noqa: BLE001 - an InputError naming the missing fact
            mask = pd.Series(False, index=req.index)
            mask.loc[idx] = True
            column = "staff_level" if "staff_level" in str(exc) else _col(req, facts["the item"])
            problems.append(row_problems(req, mask, column, str(exc), "unknown_value"))
            continue
        qty_ref.loc[idx] = _quantity_ref(standards, table, code, lev, utype, when)
    existing = (
        sub["existing_quantity"] if "existing_quantity" in sub else pd.Series(np.nan, index=rows)
    )
    age = (
        sub["replaced_age_years"] if "replaced_age_years" in sub else pd.Series(np.nan, index=rows)
    )
    replacing = age.notna()
    held_after = existing.fillna(0.0).where(~replacing, existing.fillna(quantity) - quantity)
    room = (qty_cap - held_after).clip(lower=0)
    allowed = quantity.where(~capped, np.minimum(quantity, room))

    # minimum service years before a replacement
    years = lookup_values(
        standards,
        pd.DataFrame({"item": item, "date": dates}),
        on="date",
        table=table,
        component="min_service_years",
        dims=[],
    ).set_index(rows)
    damaged = (
        sub["damaged"].map(lambda v: _key(v) in _YES, na_action="ignore").fillna(False)
        if "damaged" in sub
        else pd.Series(False, index=rows)
    ).astype(bool)
    too_young = replacing & (age < years["value"]) & ~damaged
    allowed = allowed.where(~too_young, 0.0)

    unit_used = np.minimum(price, price_cap)
    cap = (allowed * price_cap).where(~is_table, room_cap)
    approved_amount = (allowed * unit_used).where(~is_table, np.minimum(requested, room_cap))
    out = pd.DataFrame(index=rows)
    out["limit_reject"] = too_young | (capped & (allowed <= 0) & (quantity > 0))
    out["approvable"] = cap
    out["_approved_amount"] = np.minimum(requested, approved_amount)
    out["quantity"], out["quantity_cap"], out["approved_quantity"] = quantity, qty_cap, allowed
    out["unit_price"], out["unit_price_cap"] = price, price_cap
    over_qty = capped & (allowed < quantity) & ~too_young
    over_price = price > price_cap
    out["rule"] = np.select(
        [too_young, over_qty & over_price, over_qty, over_price, is_table],
        [
            "equipment_min_service_years",
            "equipment_quantity_cap+price_cap",
            "equipment_quantity_cap",
            "equipment_price_cap",
            "meeting_table_area_cap",
        ],
        "equipment_caps",
    )
    main = pd.concat([f for f in (price_line, area_line) if len(f)]).reindex(rows)
    out["standard_id"] = main["standard_id"]
    out["standard_version"] = (main["table_id"] + "@" + main["version"].astype(str)).where(
        main["lookup_status"].eq(OK), ""
    )
    out["document_no"] = main["document_no"].astype(object).where(main["lookup_status"].eq(OK), "")
    lines = _line_refs(main).where(main["lookup_status"].eq(OK), "")
    lines = _join(lines, qty_ref)
    lines = _join(lines, _line_refs(years).where(replacing & years["lookup_status"].eq(OK), ""))
    out["standard_lines"] = lines
    out["verified"] = main["verified"].where(main["lookup_status"].eq(OK), True).astype(bool)
    labels = _item_label_map(standards, table)
    zh, en = [], []
    for i in rows:
        z, e = _equipment_text(
            labels.get(item[i], item[i]),
            quantity[i],
            allowed[i],
            qty_cap[i],
            held_after[i],
            price[i],
            price_cap[i],
            room_cap[i],
            age[i],
            years.at[i, "value"],
            bool(too_young[i]),
            bool(replacing[i]),
        )
        zh.append(z)
        en.append(e)
    out["basis_zh"], out["basis_en"] = zh, en
    return out, concat_problems(problems)


def _item_labels(standards: StandardSet, table: str) -> list[str]:
    values = standards.values[standards.values["table_id"] == table]
    priced = values[values["component"].isin(["price", "price_per_m2"])]
    return list(dict.fromkeys(priced["item_zh"].astype(str)))


def _item_label_map(standards: StandardSet, table: str) -> dict[str, str]:
    """Item code -> Chinese label, from the table's headers."""
    labels: dict[str, str] = {}
    for version in standards.versions_of(table):
        for code, spec in (version.header.get("items") or {}).items():
            labels.setdefault(code, str(spec.get("label_zh") or code))
    return labels


def _quantity_ref(
    standards: StandardSet, table: str, item: str, level: str, unit_type: str, when: object
) -> str:
    """Provenance of one item's quantity cap: its (shared) quantity line or tiers rule."""
    from costperf.standards.rules import table_in_force

    version = table_in_force(standards, table, when)
    rules = version.header.get("rules") or {}
    for name, spec in rules.items():
        if spec.get("type") == "tiers" and spec.get("item") == item:
            return f"{version.ref} rules.{name}（{spec.get('label_zh', name)}）"
    shared = (rules.get("shared_quantity") or {}).get("value") or {}
    found = lookup_values(
        standards,
        pd.DataFrame(
            {"staff_level": [level or np.nan], "unit_type": [unit_type or np.nan], "date": [when]}
        ),
        on="date",
        table=table,
        item=shared.get(item, item),
        component="quantity",
        dims=["staff_level", "unit_type"],
    )
    return "" if found["lookup_status"].iloc[0] != OK else _line_refs(found).iloc[0]


def _equipment_text(
    item: str,
    quantity: float,
    allowed: float,
    cap: float,
    held: float,
    price: float,
    price_cap: float,
    room_cap: float,
    age: float,
    min_years: float,
    too_young: bool,
    replacing: bool,
) -> tuple[str, str]:
    if too_young:
        return (
            f"{item}已使用 {_fmt(age)} 年，未达到最低使用年限 {_fmt(min_years)} 年且未损坏，"
            "不予更新",
            f"{item}: in service {_fmt(age)} years, below the minimum of {_fmt(min_years)} "
            "and not damaged beyond repair: no replacement",
        )
    if room_cap == room_cap:
        return (
            f"会议桌价格上限按会议室面积计 {_fmt(room_cap)} 元",
            f"meeting-table cap by room area {_fmt(room_cap)} yuan",
        )
    qzh = qen = ""
    if cap == cap:
        qzh = (
            f"数量上限 {_fmt(cap)}，{'更新后' if replacing else '现有'}保有 {_fmt(held)}，"
            f"可配置 {_fmt(allowed)}（申报 {_fmt(quantity)}）；"
        )
        qen = (
            f"quantity cap {_fmt(cap)}, {'kept after replacement' if replacing else 'held'} "
            f"{_fmt(held)}, allowed {_fmt(allowed)} (of {_fmt(quantity)}); "
        )
    return (
        f"{item}：{qzh}单价 {_fmt(price)} 元，价格上限 {_fmt(price_cap)} 元，"
        f"按 {_fmt(allowed)} × {_fmt(min(price, price_cap))} 元核定",
        f"{item}: {qen}unit price {_fmt(price)} yuan, cap {_fmt(price_cap)} yuan; "
        f"approved {_fmt(allowed)} x {_fmt(min(price, price_cap))} yuan",
    )


_REVIEWERS: dict[
    str,
    Callable[
        [pd.DataFrame, pd.DataFrame, StandardSet, Mapping[str, str]],
        tuple[pd.DataFrame, pd.DataFrame],
    ],
] = {
    "meeting": _review_meetings,
    "training": _review_training,
    "travel": _review_travel,
    "equipment": _review_equipment,
}


# ---- decisions ---------------------------------------------------------------------------


def _finish(req: pd.DataFrame, work: pd.DataFrame, res: pd.DataFrame) -> pd.DataFrame:
    """Approved, cut, decision and the reason text for every line."""
    out = pd.DataFrame(index=work.index)
    out["request_id"] = req["request_id"]
    line_no = req["line_no"] if "line_no" in req else pd.Series(np.nan, index=req.index)
    whole = line_no.dropna().mod(1).eq(0).all()
    out["line_no"] = line_no.astype("Int64") if whole else line_no
    requested = work["requested"]
    if "_approved_amount" in res:  # equipment: units within caps at min(price, cap)
        requested = requested.where(requested.notna(), res["quantity"] * res["unit_price"])
    approvable = res["approvable"].astype(float).round(2)
    approved = np.minimum(requested, approvable)
    if "_approved_amount" in res:
        own = res["_approved_amount"].astype(float)
        approved = approved.where(own.isna(), np.minimum(approved, own))
    approved = approved.where(~res["limit_reject"].fillna(False).astype(bool), 0.0).round(2)
    out["expense_kind"] = work["kind"]
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
    out["decision"] = np.select([reject, reduce], ["reject", "reduce"], "approve")
    out["decision_zh"] = out["decision"].map(DECISIONS_ZH)
    for col in ("rule", "standard_id", "standard_version", "document_no", "standard_lines"):
        out[col] = res[col]
    out["verified"] = res["verified"]
    zh, en = [], []
    for basis_zh, basis_en, r, a, c, d in zip(
        res["basis_zh"],
        res["basis_en"],
        out["requested"],
        out["approved"],
        out["cut"],
        out["decision"],
        strict=True,
    ):
        if d == "reject":
            zh.append(f"{basis_zh}；申报 {_fmt(r)} 元，不予安排")
            en.append(f"{basis_en}; requested {_fmt(r)} yuan: rejected")
        elif d == "reduce":
            zh.append(
                f"{basis_zh}；申报 {_fmt(r)} 元超过标准，核减 {_fmt(c)} 元，审定 {_fmt(a)} 元"
            )
            en.append(f"{basis_en}; requested {_fmt(r)} yuan is above it: cut {_fmt(c)} yuan")
        else:
            zh.append(f"{basis_zh}；申报 {_fmt(r)} 元未超过标准，通过")
            en.append(f"{basis_en}; requested {_fmt(r)} yuan is within it: approved")
    out["reason_zh"], out["reason_en"] = zh, en
    for col in ("source_file", "source_row"):
        out[col] = req[col] if col in req else np.nan
    return out[OUTPUT_COLUMNS]


__all__ = [
    "ECON_KINDS",
    "EQUIPMENT_SYNONYMS",
    "KINDS",
    "OUTPUT_COLUMNS",
    "TABLES",
    "equipment_items",
    "normalise_category",
    "normalise_kinds",
    "prepare_requests",
    "review_expenditure",
]
