"""The batch review: every registered rule over a whole request book.

:func:`review_book` runs the registry's levels in order (route, line, project,
check; :mod:`costperf.review.registry`) and hands their results to
:func:`costperf.review.batch.decide.decide_batch`.  Everything is vectorised over
whole tables: the cost grows with the lines, not with distinct dates or groups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from costperf.errors import raise_if_problems
from costperf.review.batch.book import RequestBook
from costperf.review.batch.context import BatchContext
from costperf.review.batch.decide import BatchResult, decide_batch
from costperf.review.batch.routing import routing_table
from costperf.review.registry import default_tables, review_rules
from costperf.schemas import concat_problems, merge_problems
from costperf.standards import StandardSet, shipped_standards

#: what the line step keeps of a line rule's decision (see ``decide_lines``)
LINE_RESULT = [
    "approvable",
    "line_approved",
    "line_decision",
    "line_rule",
    "standard_id",
    "standard_version",
    "document_no",
    "standard_lines",
    "verified",
    "quantity_cap",
    "approved_quantity",
    "unit_price_cap",
    "rule_quantity",
    "rule_unit_price",
    "line_reason_zh",
    "line_reason_en",
    "manual_review",
    "manual_review_reason_zh",
    "manual_review_reason_en",
    "uncovered",
]


def batch_context(
    book: RequestBook,
    standards: StandardSet | None = None,
    *,
    on: object = None,
    tables: Mapping[str, str] | None = None,
    routing: pd.DataFrame | None = None,
) -> BatchContext:
    """The context a book is reviewed in (defaults: shipped tables, today)."""
    day = pd.Timestamp.today() if on is None else pd.Timestamp(on)
    return BatchContext(
        standards=shipped_standards() if standards is None else standards,
        tables={**default_tables(), **(tables or {})},
        on=day.normalize(),
        has_targets=book.has_targets,
        routing=routing_table() if routing is None else routing,
    )


def review_book(
    book: RequestBook,
    standards: StandardSet | None = None,
    *,
    on: object = None,
    tables: Mapping[str, str] | None = None,
    routing: pd.DataFrame | None = None,
    on_step: Callable[[str], None] | None = None,
) -> BatchResult:
    """Review every project and line of a checked request book.

    Parameters
    ----------
    book
        A checked book (:func:`costperf.io.book.read_request_book`, or
        :func:`~costperf.review.batch.book.check_book`).
    standards
        The standard tables (default: the shipped ones).
    on
        Date for lines without one and for the project caps (default: today).
    tables
        Table id per role, overriding the rules' defaults.
    on_step
        Called with each step's name before it runs (progress).

    Returns
    -------
    BatchResult
        Line and project decisions, summaries and the standards used.

    Raises
    ------
    InputError
        Every problem found by the rules (a value outside a closed list, a missing
        fact), located at file, sheet, row and column.
    """
    context = batch_context(book, standards, on=on, tables=tables, routing=routing)
    step = on_step or (lambda name: None)
    lines = book.lines.reset_index(drop=True)
    lines.attrs = dict(book.lines.attrs)
    step("route")
    (router,) = review_rules("route").values()
    routes, problems = router.review(lines, book.projects, context)
    step("line")
    results, found = line_step(lines, routes, context)
    where = _where(lines) if book.errors is None else ", ".join(book.sources) or "the book"
    raise_if_problems(merge_problems([book.errors, problems, found]), where)
    # a line's own standard_id routed it (``route``); the results carry the one applied
    given = lines.drop(columns=[c for c in results.columns if c in lines.columns])
    work = pd.concat([given, routes.rename(columns={"rule": "route_rule"}), results], axis=1)
    if "standard_id" in lines:  # the one the line names, beside the one applied
        work["_given_standard_id"] = lines["standard_id"]
    step("project")
    verdicts = {
        name: rule.review(book.projects, work, book.targets, context)
        for name, rule in review_rules("project").items()
    }
    step("check")
    combined = pd.concat(list(verdicts.values())) if verdicts else pd.DataFrame()
    flags = {
        name: rule.review(work, combined, context) for name, rule in review_rules("check").items()
    }
    step("decide")
    return decide_batch(book, work, verdicts, flags, context)


def line_step(
    lines: pd.DataFrame, routes: pd.DataFrame, context: BatchContext
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The line rules over the lines routed to them: :data:`LINE_RESULT` per line."""
    from costperf.review.expenditure.decide import decide_lines
    from costperf.review.expenditure.requests import prepare_requests
    from costperf.review.expenditure.review import apply_line_rules

    names = set(review_rules("line"))
    routed = routes["rule"].isin(names)
    if not routed.any():
        return _unrouted(lines), concat_problems([])
    req = lines.loc[routed].rename(columns={"project_id": "request_id"})
    req["expense_kind"] = routes.loc[routed, "rule"]
    req.attrs = dict(lines.attrs)
    headers = dict(req.attrs.get("headers", {}))
    headers["request_id"] = headers.get("project_id", "project_id")
    req.attrs["headers"] = headers
    work, problems = prepare_requests(req, on=context.on)
    results, found = apply_line_rules(req, work, context.standards, context.tables)
    problems = concat_problems([problems, found])
    if len(problems):
        return _unrouted(lines), problems
    # decided in the rules' order and placed among the book's lines once (one take a
    # column); a line with no result (none reach here: a bad line is a problem) as before
    whole = len(results) == len(work)
    decided = decide_lines(req, work, results if whole else results.reindex(work.index), arrow=True)
    renames = {
        "approved": "line_approved",
        "decision": "line_decision",
        "rule": "line_rule",
        "quantity": "rule_quantity",
        "unit_price": "rule_unit_price",
        "reason_zh": "line_reason_zh",
        "reason_en": "line_reason_en",
    }
    out = decided.rename(columns=renames).reindex(index=lines.index, columns=LINE_RESULT)
    if "uncovered" in results:
        out["uncovered"] = results["uncovered"].reindex(lines.index)
    out["uncovered"] = out["uncovered"].astype(object).fillna(False).astype(bool)
    out["manual_review"] = out["manual_review"].astype(object).fillna(False).astype(bool)
    for col in ("manual_review_reason_zh", "manual_review_reason_en"):
        out[col] = out[col].fillna("")
    free = ~routed.to_numpy()
    out["line_approved"] = out["line_approved"].where(~free, lines["requested"].astype(float))
    return out, problems


def _unrouted(lines: pd.DataFrame) -> pd.DataFrame:
    """:data:`LINE_RESULT` of lines no line rule reviews: kept at the requested amount."""
    out = pd.DataFrame(index=lines.index, columns=LINE_RESULT)
    out["approvable"] = np.nan
    out["line_approved"] = lines["requested"].astype(float)
    out["manual_review"] = False
    out["uncovered"] = False
    out["manual_review_reason_zh"] = ""
    out["manual_review_reason_en"] = ""
    return out


def _where(frame: pd.DataFrame) -> str:
    source = frame.attrs.get("source", ("", ""))
    file, sheet = source if isinstance(source, tuple) else (str(source), "")
    return (file or "the request book") + (f", sheet '{sheet}'" if sheet else "")
