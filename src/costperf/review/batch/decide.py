"""Decisions: each line's and project's approved amount, cut, decision and reasons.

Order, when line rules and a project cap both apply: the lines first, then the cap on
their approved sum; the excess is cut across the lines pro rata (exact to the fen,
:func:`~costperf.review.unit_cost.allocate_cut`).  A project the target gate rejects
gets 0.  Flags (manual review) change no amount.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from costperf.columns import TEXT_DTYPE, code_label_map, message, message_column
from costperf.review.batch.book import RequestBook
from costperf.review.batch.context import BatchContext
from costperf.review.expenditure.equipment import damaged_flags
from costperf.review.expenditure.lookup import format_money, select_texts
from costperf.review.expenditure.requests import normalise_kinds
from costperf.review.registry import rule_of_code
from costperf.review.unit_cost import CAP_FACTS, DECISIONS_ZH, allocate_cut, decision_columns

LINE_COLUMNS = [
    "project_id",
    "line_no",
    "department",
    "project_name",
    "econ_code",
    "item",
    "expense_kind",
    "requested",
    "approvable",
    "line_approved",
    "approved",
    "cut",
    "cut_rate",
    "decision",
    "decision_zh",
    "rule",
    "review_rule",
    "standard_id",
    "standard_version",
    "document_no",
    "standard_lines",
    "verified",
    "quantity",
    "unit_price",
    "unit_price_cap",
    "quantity_cap",
    "approved_quantity",
    "manual_review",
    "manual_review_reason_zh",
    "manual_review_reason_en",
    "reason_zh",
    "reason_en",
    "route",
    "source_file",
    "sheet",
    "source_row",
]
PROJECT_COLUMNS = [
    "project_id",
    "project_name",
    "department",
    "class_of_matter",
    "district",
    "year",
    "n_lines",
    "requested",
    "line_approved",
    "output_quantity",
    "standard_value",
    "project_cap",
    "approved",
    "cut",
    "cut_rate",
    "decision",
    "decision_zh",
    "project_rule",
    "standard_id",
    "standard_version",
    "target_check",
    "target_check_zh",
    "manual_review",
    "manual_review_reason_zh",
    "manual_review_reason_en",
    "reason_zh",
    "reason_en",
]
SUMMARY_BY = ("department", "class_of_matter", "econ_code", "review_rule", "decision")
SUMMARY_COLUMNS = [
    "group_by",
    "group",
    "n_projects",
    "n_lines",
    "requested",
    "approved",
    "cut",
    "cut_rate",
    "n_projects_manual_review",
    "n_lines_manual_review",
]


@dataclass(frozen=True)
class BatchResult:
    """A reviewed book: line and project decisions, summaries, totals, standards used."""

    lines: pd.DataFrame
    projects: pd.DataFrame
    summaries: Mapping[str, pd.DataFrame]
    totals: Mapping[str, object]
    standards_used: pd.DataFrame
    warnings: pd.DataFrame = field(default_factory=pd.DataFrame)


def _join(*parts: pd.Series, sep: str) -> pd.Series:
    """Non-empty texts of each row joined by ``sep`` (vectorised over whole columns)."""
    out = None
    for part in parts:
        if out is None:
            out = _as_text(part)
            continue
        if part.dtype == object:  # the rows given, found before the text of any row
            cells = part.to_numpy()
            given = pd.notna(cells) & (cells != "")
            if not given.any():
                continue
            text = _as_text(part[given])
        else:
            text = _as_text(part)
            given = text.ne("").to_numpy()
            if not given.any():
                continue
            text = text[given]
        head = out[given]
        out = out.copy()
        out[given] = head + np.where(head.ne(""), sep, "") + text
    return out


def _as_text(part: pd.Series) -> pd.Series:
    """``part`` as ``str`` texts, a blank as ``""``."""
    if part.dtype == TEXT_DTYPE:  # as the object round trip gives, without it
        return part.fillna("")
    return part.astype(object).fillna("").astype(str)


def combine_verdicts(verdicts: Mapping[str, pd.DataFrame], projects: pd.DataFrame) -> pd.DataFrame:
    """One verdict per project from every project rule's (caps: the lowest)."""
    ids = pd.Index(projects["project_id"], name="project_id")
    out: dict[str, pd.Series] = {}  # the columns, made one frame at the end
    out["cap"] = pd.Series(np.nan, index=ids)
    out["reject"] = pd.Series(False, index=ids)
    out["covered"] = pd.Series(False, index=ids)
    out["manual_review"] = pd.Series(False, index=ids)
    for col in (
        "manual_review_reason_zh",
        "manual_review_reason_en",
        "rule",
        "basis_zh",
        "basis_en",
        "standard_id",
        "standard_version",
    ):
        out[col] = pd.Series("", index=ids)
    out["target_check"] = pd.Series("not_applicable", index=ids)
    for col in CAP_FACTS:
        out[col] = pd.Series(np.nan, index=ids)
    for verdict in verdicts.values():
        if verdict.empty:
            continue
        v = verdict[~verdict.index.duplicated()].reindex(ids)
        out["cap"] = np.fmin(out["cap"], v["cap"].astype(float))
        for col in CAP_FACTS:
            if col in v:
                out[col] = out[col].fillna(v[col].astype(float))
        out["reject"] |= v["reject"].fillna(False).astype(bool)
        out["covered"] |= v["covered"].fillna(False).astype(bool)
        out["manual_review"] |= v["manual_review"].fillna(False).astype(bool)
        for col in (
            "manual_review_reason_zh",
            "manual_review_reason_en",
            "basis_zh",
            "basis_en",
            "standard_id",
            "standard_version",
        ):
            lang = col.rsplit("_", 1)[-1]
            sep = message("reason.separator", lang) if lang in ("zh", "en") else "; "
            out[col] = _join(out[col], v[col], sep=sep)
        out["rule"] = _join(out["rule"], v["rule"], sep="+")
        if "target_check" in v:
            out["target_check"] = v["target_check"].fillna(out["target_check"])
    return pd.DataFrame(out, index=ids)


def _project_rows(ids: pd.Index, pid: pd.Series) -> np.ndarray | None:
    """Each line's row in ``ids`` (the projects, in order), found once for every column
    spread to the lines; None when a line has no project there (or ids repeat)."""
    if not ids.is_unique:
        return None
    at = ids.get_indexer(pid)
    return None if (at < 0).any() else at


def _per_line(values: pd.Series, pid: pd.Series, at: np.ndarray | None) -> pd.Series:
    """``pid.map(values)``, ``values`` by project in the order :func:`_project_rows` found
    ``at`` in: one take by position (every line has its project), else the map."""
    if at is None:
        return pid.map(values)
    out = values.take(at)
    out.index, out.name = pid.index, pid.name
    return out


def _line_amounts(
    work: pd.DataFrame, verdict: pd.DataFrame, at: np.ndarray | None = None
) -> pd.DataFrame:
    """Approved per line after the project caps and gates (``at``: :func:`_project_rows`)."""
    pid = work["project_id"]
    line_approved = work["line_approved"].astype(float).round(2)
    line_sum = line_approved.groupby(pid).sum()
    cap = verdict["cap"].reindex(line_sum.index)
    over = cap.notna() & (line_sum > cap + 0.005)
    approved = line_approved.copy()
    if over.any():
        mine = pid.isin(set(over.index[over]))
        approved[mine] = allocate_cut(
            line_approved[mine], pid[mine], cap[over], order=work.loc[mine].get("line_no")
        ).to_numpy()
    rejected = _per_line(verdict["reject"], pid, at).fillna(False).astype(bool)
    approved = approved.where(~rejected, 0.0)
    if at is not None:  # every line's project is in ``verdict``: so are its sums
        over, line_sum = over.reindex(verdict.index), line_sum.reindex(verdict.index)
    capped = _per_line(over, pid, at).fillna(False).astype(bool) & ~rejected
    return pd.DataFrame(
        {
            "approved": approved,
            "capped": capped,
            "rejected": rejected,
            "line_sum": _per_line(line_sum, pid, at),
        }
    )


def decide_batch(
    book: RequestBook,
    work: pd.DataFrame,
    verdicts: Mapping[str, pd.DataFrame],
    flags: Mapping[str, pd.DataFrame],
    context: BatchContext,
) -> BatchResult:
    """Line and project decisions, the summaries and the standards used."""
    verdict = combine_verdicts(verdicts, book.projects)
    at = _project_rows(verdict.index, work["project_id"])
    amounts = _line_amounts(work, verdict, at)
    lines = _decided_lines(book, work, verdict, amounts, flags, at)
    projects = _decided_projects(book, lines, verdict)
    return BatchResult(
        lines=lines,
        projects=projects,
        summaries=summaries(lines, projects),
        totals=totals(lines, projects),
        standards_used=standards_used(lines, projects, context),
    )


def _decided_lines(
    book: RequestBook,
    work: pd.DataFrame,
    verdict: pd.DataFrame,
    amounts: pd.DataFrame,
    flags: Mapping[str, pd.DataFrame],
    at: np.ndarray | None = None,
) -> pd.DataFrame:
    out = work.copy(deep=False)  # copy on write: a column set here is its own
    project = book.projects.set_index("project_id")  # in the order of verdict's ids
    pid = out["project_id"]
    for col in ("department", "project_name"):
        out[col] = _per_line(project[col], pid, at) if col in project else np.nan
    requested = out["requested"].astype(float).round(2)
    out["requested"] = requested
    out["approved"] = amounts["approved"].round(2)
    out["cut"] = (requested - out["approved"]).round(2)
    out["cut_rate"] = out["cut"] / requested.where(requested > 0)
    reject = (out["approved"] <= 0) & (requested > 0)
    reduce = ~reject & (out["cut"] > 0)
    out["decision"], out["decision_zh"] = decision_columns(reject, reduce, out.index)
    flagged = out["manual_review"].astype(bool)
    reason_zh, reason_en = out["manual_review_reason_zh"], out["manual_review_reason_en"]
    for flag in flags.values():
        flagged = flagged | flag["manual_review"].astype(bool)
        zh_sep, en_sep = message("reason.separator", "zh"), message("reason.separator", "en")
        reason_zh = _join(reason_zh, flag["manual_review_reason_zh"], sep=zh_sep)
        reason_en = _join(reason_en, flag["manual_review_reason_en"], sep=en_sep)
    out["manual_review"] = flagged
    out["manual_review_reason_zh"], out["manual_review_reason_en"] = reason_zh, reason_en
    no_rule = out["line_rule"].isna()
    covered = _per_line(verdict["covered"], pid, at).fillna(False).astype(bool)
    capped, rejected = amounts["capped"], amounts["rejected"]
    # a line of a project the unit-cost standard covers, within its cap: that standard's
    own = np.where(covered & ~capped, "unit_cost", np.where(covered, "", "no_standard"))
    out["rule"] = out["line_rule"].where(~no_rule, own)
    out["rule"] = _join(
        out["rule"], pd.Series(np.where(capped, "unit_cost_cap", ""), index=out.index), sep="+"
    )
    out["rule"] = _join(
        out["rule"], pd.Series(np.where(rejected, "target_gate", ""), index=out.index), sep="+"
    )
    # the registered rule that set the amount last (summaries "by rule")
    out["review_rule"] = np.select(
        [rejected, capped, ~no_rule, covered],
        ["target_gate", "unit_cost", out["route_rule"], "unit_cost"],
        "no_standard",
    )
    pv = (verdict.reindex(pid) if at is None else verdict.take(at)).set_index(out.index)
    unit_std = covered & no_rule
    out["standard_id"] = out["standard_id"].where(~unit_std, pv["standard_id"])
    out["standard_version"] = out["standard_version"].where(~unit_std, pv["standard_version"])
    # a line of its own rule, then cut by the project's cap: both tables it met
    also = capped & ~unit_std
    if also.any():  # only those lines change (the column keeps its dtype, whatever the part)
        joined = _join(
            out.loc[also, "standard_version"], pv.loc[also, "standard_version"], sep="; "
        )
        out.loc[also, "standard_version"] = joined.to_numpy()
    out["quantity"] = out["quantity"] if "quantity" in out else out["rule_quantity"]
    out["quantity"] = out["quantity"].where(out["quantity"].notna(), out["rule_quantity"])
    out["unit_price"] = out["unit_price"] if "unit_price" in out else out["rule_unit_price"]
    out["unit_price"] = out["unit_price"].where(out["unit_price"].notna(), out["rule_unit_price"])
    texts = _line_reasons(out, pv, amounts["line_sum"], no_rule, covered, capped, rejected)
    # as np.select's arrays were (select_texts gives the str column a frame makes of them)
    out["reason_zh"], out["reason_en"] = (t.to_numpy() if t.dtype == object else t for t in texts)
    if "expense_kind" in out:  # the kind's code (差旅费 -> travel), as travel_item is
        kinds = normalise_kinds(out["expense_kind"])
        out["expense_kind"] = kinds.where(kinds.notna(), out["expense_kind"])
    if "damaged" in out:  # 否 -> False
        out["damaged"] = damaged_flags(out["damaged"])
    if "line_no" in out:
        whole = out["line_no"].dropna().mod(1).eq(0).all()
        out["line_no"] = out["line_no"].astype("Int64") if whole else out["line_no"]
    facts = [
        c for c in book.lines.columns if c not in LINE_COLUMNS and c not in ("requested", "amount")
    ]
    columns = [c for c in LINE_COLUMNS if c in out] + facts
    # the request's own facts beside each decision: after the amounts
    return out[columns]


def _line_reasons(
    out: pd.DataFrame,
    pv: pd.DataFrame,
    line_sum: pd.Series,
    no_rule: pd.Series,
    covered: pd.Series,
    capped: pd.Series,
    rejected: pd.Series,
) -> tuple[pd.Series, pd.Series]:
    """Each line's reason (zh, en): its rule's, then the project cap's or the gate's.

    Each text is built only for the lines it applies to (:func:`select_texts`), with
    the amounts of those lines formatted once per distinct value; the texts are joined
    in Arrow and come as the ``str`` columns the lines hold (``arrow``).
    """

    def amounts(i: pd.Index, column: str) -> pd.Series:
        return format_money(out.loc[i, column], arrow=True)

    def base(lang: str) -> tuple[list, Callable[[pd.Index], pd.Series]]:
        """A line's own reason: its rule's (the column as it is), the standard that
        covers its project's, else none's; as :func:`select_texts` cases and default."""
        own = out[f"line_reason_{lang}"].astype(TEXT_DTYPE)
        cases = [
            (~no_rule, own),
            (covered, lambda j: message_column("reason.batch.covered", lang, j)),
        ]

        def no_standard(j: pd.Index) -> pd.Series:
            requested = amounts(j, "requested")
            return message_column("reason.batch.no_standard", lang, j, requested=requested)

        return cases, no_standard

    def reasons(lang: str) -> pd.Series:
        own_cases, no_standard = base(lang)

        def line(i: pd.Index) -> pd.Series:
            cases = [
                (mask[i], text[i] if isinstance(text, pd.Series) else text)
                for mask, text in own_cases
            ]
            return select_texts(i, cases, no_standard, arrow=True)

        def capped_line(i: pd.Index) -> pd.Series:
            return message_column(
                "reason.batch.line_capped",
                lang,
                i,
                line=line(i),
                basis=pv.loc[i, f"basis_{lang}"],
                line_sum=format_money(line_sum[i].round(2), arrow=True),
                approved=amounts(i, "approved"),
                cut=amounts(i, "cut"),
            )

        def no_targets(i: pd.Index) -> pd.Series:
            requested = amounts(i, "requested")
            return message_column("reason.batch.line_no_targets", lang, i, requested=requested)

        # a line's own reason where no project step changed it: one selection for all
        cases = [(rejected, no_targets), (capped, capped_line), *own_cases]
        return select_texts(out.index, cases, no_standard, arrow=True)

    return reasons("zh"), reasons("en")


def _decided_projects(
    book: RequestBook, lines: pd.DataFrame, verdict: pd.DataFrame
) -> pd.DataFrame:
    projects = book.projects.set_index("project_id", drop=False)
    ids = projects.index
    out: dict[str, object] = {}  # the columns, made one frame at the end
    for col in ("project_id", "project_name", "department", "class_of_matter", "district", "year"):
        out[col] = projects[col] if col in projects else np.nan
    if "year" in projects:  # checked whole: shown 2027, not 2027.0
        out["year"] = pd.to_numeric(out["year"], errors="coerce").round().astype("Int64")
    extra = [
        c
        for c in book.projects.columns
        if c not in PROJECT_COLUMNS and c not in ("source_file", "sheet", "source_row")
    ]
    by = lines.groupby("project_id", sort=False)
    sums = by[["requested", "line_approved", "approved"]].sum().reindex(ids).fillna(0.0)
    out["n_lines"] = by.size().reindex(ids).fillna(0).astype(int)
    out["requested"] = sums["requested"].round(2)
    out["line_approved"] = sums["line_approved"].round(2)
    out["project_cap"] = verdict["cap"].reindex(ids)
    for col in CAP_FACTS:  # the cap = standard_value x output_quantity (to the fen)
        out[col] = verdict[col].reindex(ids)
    out["approved"] = sums["approved"].round(2)
    out["cut"] = (out["requested"] - out["approved"]).round(2)
    out["cut_rate"] = out["cut"] / out["requested"].where(out["requested"] > 0)
    v = verdict.reindex(ids)
    rejected = v["reject"].fillna(False).astype(bool) | (
        (out["approved"] <= 0) & (out["requested"] > 0)
    )
    reduce = ~rejected & (out["cut"] > 0)
    out["decision"], out["decision_zh"] = decision_columns(rejected, reduce, ids)
    out["project_rule"] = v["rule"]
    out["standard_id"], out["standard_version"] = v["standard_id"], v["standard_version"]
    out["target_check"] = v["target_check"]
    out["target_check_zh"] = out["target_check"].map(code_label_map("target_check"))
    flagged_lines = lines.loc[lines["manual_review"].to_numpy(), ["project_id"]]
    n_flag = flagged_lines.groupby("project_id").size().reindex(ids).fillna(0).astype(int)
    out["manual_review"] = v["manual_review"].fillna(False).astype(bool) | n_flag.gt(0)
    for lang in ("zh", "en"):
        flagged_text = message_column("reason.batch.flagged_lines", lang, ids, n=n_flag.astype(str))
        out[f"manual_review_reason_{lang}"] = _join(
            v[f"manual_review_reason_{lang}"],
            pd.Series(np.where(n_flag > 0, flagged_text, ""), index=ids),
            sep=message("reason.separator", lang),
        )
    for col in extra:  # the project's own dimension columns (road_grade ...)
        out[col] = projects[col]
    r, a, c = (format_money(out[k]) for k in ("requested", "approved", "cut"))
    cut_lines = lines.loc[(lines["cut"] > 0).to_numpy(), ["project_id"]]
    n_cut = cut_lines.groupby("project_id").size().reindex(ids).fillna(0)
    gate = v["reject"].fillna(False).astype(bool)
    capped = out["project_cap"].notna() & (out["line_approved"] > out["project_cap"] + 0.005)
    line_sum, n_cut_text = format_money(out["line_approved"]), n_cut.astype(int).astype(str)
    within = v["covered"].fillna(False).astype(bool) & ~capped & ~gate  # the cap it met
    for lang in ("zh", "en"):
        cap = {"basis": v[f"basis_{lang}"], "line_sum": line_sum, "approved": a, "cut": c}
        out[f"reason_{lang}"] = np.select(
            [gate, capped, within],
            [
                message_column("reason.batch.no_targets", lang, ids, requested=r),
                message_column("reason.batch.capped", lang, ids, **cap),
                message_column(
                    "reason.batch.within_cap", lang, ids, **cap, requested=r, n_cut=n_cut_text
                ),
            ],
            message_column(
                "reason.batch.project",
                lang,
                ids,
                requested=r,
                approved=a,
                cut=c,
                n_cut=n_cut_text,
            ),
        )
    frame = pd.DataFrame({c: out[c] for c in PROJECT_COLUMNS + extra}, index=ids)
    return frame.reset_index(drop=True)


def _group_sums(
    frame: pd.DataFrame,
    by: str,
    lines: pd.DataFrame,
    projects: pd.DataFrame,
    of_line: np.ndarray | None = None,
) -> pd.DataFrame:
    """Sums of ``frame`` (the projects or the lines) by ``by``, a blank value a group of
    its own (no value: shown as （空） / (blank)); the projects and the lines flagged for
    manual review counted apart: by a project grouping the flagged projects, by a line
    grouping (econ code, rule) the projects with a flagged line in the group.
    ``of_line``: each line's row in the projects (``-1``: none), found once for every
    project grouping (:func:`_line_projects`)."""
    key = frame[by].astype(object)
    grouped = frame.groupby(key, sort=True, dropna=False)
    sums = grouped[["requested", "approved", "cut"]].sum().round(2)
    k = len(sums)
    group = grouped.ngroup().to_numpy()  # each row's group: its row in ``sums``
    flagged = lines["manual_review"].astype(bool).to_numpy()
    if frame is lines:  # a line-level grouping: the projects of each group's lines
        n_lines = np.bincount(group, minlength=k)
        project = pd.factorize(lines["project_id"])[0]
        n_projects = _n_distinct(group, project, k)
        # the projects with a flagged line in the group (a project flagged for another
        # line, or for itself, is not counted under a rule it did not meet a flag in)
        n_projects_flagged = _n_distinct(group[flagged], project[flagged], k)
        line_group = group
    else:
        n_projects = np.bincount(group, minlength=k)
        n_lines = grouped["n_lines"].sum().to_numpy()
        own = frame["manual_review"].astype(bool).to_numpy(dtype=float)
        n_projects_flagged = np.bincount(group, weights=own, minlength=k).astype(np.int64)
        # each line in its project's group; a line of no project (or of a project
        # without a value) in the blank group, if there is one
        blank = np.flatnonzero(sums.index.isna())
        of_line = _line_projects(lines, frame) if of_line is None else of_line
        line_group = np.where(of_line >= 0, group[of_line], blank[0] if len(blank) else -1)
    counted = flagged & (line_group >= 0)
    n_lines_flagged = np.bincount(line_group[counted], minlength=k)
    cut_rate = sums["cut"] / sums["requested"].where(sums["requested"] > 0)
    out = {
        "group_by": by,
        "group": sums.index,
        "n_projects": n_projects,
        "n_lines": n_lines,
        **{c: sums[c].to_numpy() for c in ("requested", "approved", "cut")},
        "cut_rate": cut_rate.to_numpy(),
        "n_projects_manual_review": n_projects_flagged.astype(int),
        "n_lines_manual_review": n_lines_flagged.astype(int),
    }
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def _line_projects(lines: pd.DataFrame, projects: pd.DataFrame) -> np.ndarray:
    """Each line's row in ``projects`` (``-1``: a line of no project there)."""
    return pd.Index(projects["project_id"]).get_indexer(lines["project_id"])


def _n_distinct(group: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """How many distinct ``codes`` (``-1``: none) each of the ``k`` groups holds."""
    given = codes >= 0
    width = int(codes.max()) + 1 if given.any() else 1
    # each distinct pair once, by hash (no sort: the counts do not depend on the order)
    pairs = pd.unique(group[given].astype(np.int64) * width + codes[given])
    return np.bincount(pairs // width, minlength=k)


#: the steps of a line's ``rule`` trail that act on its project after the line rules,
#: as they end it (``travel_lodging+unit_cost_cap``), and the rule each step is booked to
_PROJECT_STEPS = {"unit_cost_cap": "unit_cost", "target_gate": "target_gate"}


def _steps_of(trail: str) -> tuple[str, str]:
    """A ``rule`` trail's own rule (a registered rule's name) and its project step
    (``""``: none)."""
    own, project = trail, ""
    for code, rule in _PROJECT_STEPS.items():
        if own == code or own.endswith("+" + code):
            own, project = own[: -len(code)].rstrip("+"), rule
    if not own:  # the unit-cost standard's cap alone
        return (project or "no_standard"), project
    return rule_of_code(own), project


def rule_steps(lines: pd.DataFrame) -> pd.DataFrame:
    """Each line once per rule that reviewed it, with the amount that rule took in
    (``requested``) and let through (``approved``), in the order of the review: the
    line's own rule (requested -> ``line_approved``), then its project's unit-cost cap
    (-> the capped amount) or the target gate (-> 0).  A line of a project the unit-cost
    standard alone reviews is one step (requested -> approved).

    Every step's cut is the cut its rule made: the cuts of a line's steps sum to its
    cut, and a line cut by the travel standard and then by its project's cap books each
    part under its own rule.  The steps are read from the line's ``rule`` trail and the
    codes each registered rule declares (:func:`~costperf.review.registry.rule_of_code`),
    so the summary needs nothing but the decided lines.
    """
    # a few distinct trails: each parsed once, the lines taking theirs by code (no
    # column of a million texts made of the rule column or the project ids)
    codes, trails = pd.factorize(lines["rule"], use_na_sentinel=False)
    parsed = [_steps_of("" if pd.isna(t) else str(t)) for t in trails]
    own = np.array([p[0] for p in parsed], dtype=object)[codes]
    project = np.array([p[1] for p in parsed], dtype=object)[codes]
    requested = lines["requested"].to_numpy(dtype=float)
    line_approved = lines["line_approved"].to_numpy(dtype=float).round(2)
    approved = lines["approved"].to_numpy(dtype=float)
    # a line whose own step is its project's step (the unit-cost standard alone): one step
    single = (project == "") | (project == own)
    second = ~single
    first_out = np.where(single, approved, line_approved)
    # the projects by code: the summary counts distinct projects, it shows no id
    base = {
        "project_id": np.where((pc := pd.factorize(lines["project_id"])[0]) >= 0, pc, np.nan),
        "manual_review": lines["manual_review"].to_numpy(dtype=bool),
    }
    steps = pd.DataFrame(
        {
            **{c: np.concatenate([v, v[second]]) for c, v in base.items()},
            "review_rule": np.concatenate([own, project[second]]),
            "requested": np.concatenate([requested, line_approved[second]]),
            "approved": np.concatenate([first_out, approved[second]]),
        }
    )
    steps["cut"] = (steps["requested"] - steps["approved"]).round(2)
    return steps


def summaries(lines: pd.DataFrame, projects: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Sums by department, class of matter, econ code, rule (lines) and decision
    (projects).  By rule each line is counted under every rule that reviewed it, with
    the amount that rule took in and the cut it made (:func:`rule_steps`): the rules'
    cuts sum to the batch's cut, their requested amounts may sum to more."""
    out = {}
    of_line = None  # each line's project, found once for the project groupings
    for by in SUMMARY_BY:
        if by in ("department", "class_of_matter", "decision"):
            if by in projects:
                if of_line is None:
                    of_line = _line_projects(lines, projects)
                out[by] = _group_sums(projects, by, lines, projects, of_line)
        elif by == "review_rule" and {"rule", "line_approved"} <= set(lines.columns):
            steps = rule_steps(lines)
            out[by] = _group_sums(steps, by, steps, projects)
        elif by in lines:
            out[by] = _group_sums(lines, by, lines, projects)
    return out


def totals(lines: pd.DataFrame, projects: pd.DataFrame) -> dict[str, object]:
    """Counts and sums over the whole batch (JSON-ready)."""
    requested, approved = float(projects["requested"].sum()), float(projects["approved"].sum())
    counts = projects["decision"].value_counts()
    line_counts = lines["decision"].value_counts()
    return {
        "projects": int(len(projects)),
        "lines": int(len(lines)),
        "requested": round(requested, 2),
        "approved": round(approved, 2),
        "cut": round(requested - approved, 2),
        "cut_rate": (requested - approved) / requested if requested else 0.0,
        **{f"projects_{d}": int(counts.get(d, 0)) for d in DECISIONS_ZH},
        **{f"lines_{d}": int(line_counts.get(d, 0)) for d in DECISIONS_ZH},
        "projects_manual_review": int(projects["manual_review"].sum()),
        "lines_manual_review": int(lines["manual_review"].sum()),
    }


def standards_used(
    lines: pd.DataFrame, projects: pd.DataFrame, context: BatchContext
) -> pd.DataFrame:
    """Every table version a decision cites: ``table_id, version, content_hash, ...``."""
    refs = pd.concat([lines["standard_version"], projects["standard_version"]]).dropna()
    refs = pd.Series(pd.unique(refs.astype(str)), dtype=object)  # few distinct lists
    refs = refs.str.split(r";\s*").explode().str.strip()
    refs = pd.unique(refs[refs.str.contains("@", regex=False)])
    table = context.standards.tables.assign(
        ref=lambda t: t["table_id"] + "@" + t["version"].astype(str)
    )
    used = table[table["ref"].isin(set(refs))]
    cols = [
        "table_id",
        "version",
        "status",
        "title",
        "title_en",
        "document_no",
        "issuer",
        "source_method",
        "effective_from",
        "content_hash",
    ]
    return used.reindex(columns=cols).sort_values(["table_id", "version"]).reset_index(drop=True)
