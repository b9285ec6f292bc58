"""The entry point: validate the requests, route each kind to its reviewer, decide."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from costperf.errors import raise_if_problems
from costperf.review.expenditure.decide import decide_lines
from costperf.review.expenditure.requests import prepare_requests
from costperf.review.registry import LINE_RESULT_COLUMNS, default_tables, review_rules
from costperf.schemas import REQUESTS, concat_problems
from costperf.standards import StandardSet, shipped_standards


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
        Table id per role, overriding the rules' defaults
        (:func:`~costperf.review.registry.default_tables`, e.g. a provincial meeting
        table for ``meeting``).

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
    names = {**default_tables(), **(tables or {})}
    req = _validated(requests)
    work, problems = prepare_requests(req, on=on)
    results, found = apply_line_rules(req, work, standards, names)
    raise_if_problems(concat_problems([problems, found]), _where(req))
    return decide_lines(req, work, results.reindex(work.index))


def apply_line_rules(
    req: pd.DataFrame, work: pd.DataFrame, standards: StandardSet, names: Mapping[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every registered line rule over the lines of its kind.

    A line with a problem already (a bad amount, a bad date) is reviewed too, for the
    problems the rules find in its other cells (all problems of a run come at once), but
    yields no result.

    Returns
    -------
    results, problems
        The rules' results (one row per reviewed line, index of ``work``) and the
        problems they found.
    """
    parts, found = [], []
    for kind, rule in review_rules("line").items():
        rows = work.index[work["kind"].eq(kind)]
        if len(rows):
            result, kind_problems = rule.review(req, work.loc[rows], standards, names)
            bad = work["_bad"].reindex(result.index, fill_value=False).to_numpy(dtype=bool)
            parts.append(result[~bad] if bad.any() else result)
            found.append(kind_problems)
    results = pd.concat(parts) if parts else pd.DataFrame(columns=list(LINE_RESULT_COLUMNS))
    return results, concat_problems(found)


def _validated(requests: pd.DataFrame) -> pd.DataFrame:
    typed, problems = REQUESTS.validate(requests.reset_index(drop=True))
    typed.attrs = dict(requests.attrs)
    raise_if_problems(problems, _where(requests))
    return typed


def _where(frame: pd.DataFrame) -> str:
    source = frame.attrs.get("source", ("", ""))
    file, sheet = source if isinstance(source, tuple) else (str(source), "")
    return (file or "the requests") + (f", sheet '{sheet}'" if sheet else "")
