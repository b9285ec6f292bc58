"""Cross-table checks on loaded inputs (pure: each ``check_*`` returns a problems frame).

Single-table checks (types, minimums, duplicate ids) live in the schemas; these checks
need two tables or the case settings: unknown projects, amounts that disagree with
quantity x unit price, unknown cost elements.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from costperf.errors import empty_problems
from costperf.schemas import COST_ELEMENTS, concat_problems, row_problems, shown_header

_ELEMENT_SPELLINGS = {
    **{k: k for k in COST_ELEMENTS},
    **{v: k for k, v in COST_ELEMENTS.items()},
    "人员成本": "personnel",
    "人工": "personnel",
    "人工费": "personnel",
    "人员经费": "personnel",
    "材料费": "materials",
    "设备费": "equipment",
    "机械": "equipment",
    "机械费": "equipment",
    "管理": "management",
    "税费": "tax",
    "税": "tax",
    "服务": "services",
}


def normalise_cost_elements(line_items: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map cost elements written in Chinese or English to canonical English codes."""
    if "cost_element" not in line_items:
        return line_items, empty_problems()
    raw = line_items["cost_element"].astype(object)
    key = raw.map(lambda v: str(v).strip().lower() if v is not None else v, na_action="ignore")
    mapped = key.map(_ELEMENT_SPELLINGS)
    bad = raw.notna() & mapped.isna()
    allowed = ", ".join(f"{k} {v}" for k, v in COST_ELEMENTS.items())
    problems = row_problems(
        line_items, bad, "cost_element", f"one of: {allowed}", "unknown_cost_element"
    )
    out = line_items.copy()
    out["cost_element"] = mapped.where(~bad, raw)
    return out, problems


def normalise_output_categories(outputs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map the outputs' 指标类别 written in Chinese or English to their codes; a value
    outside the list is a located problem (a blank stays blank)."""
    from costperf.review.batch.book import category_problems

    if "category" not in outputs:
        return outputs, empty_problems()
    code, problems = category_problems(outputs)
    out = outputs.copy()
    out["category"] = code.where(code.notna(), outputs["category"])  # the others as written
    return out, problems


def check_amounts(
    line_items: pd.DataFrame, *, rel_tol: float = 0.005, abs_tol: float = 1.0
) -> pd.DataFrame:
    """Lines whose amount differs from quantity x unit_price beyond the tolerance.

    The tolerance is ``max(abs_tol, rel_tol * |amount|)`` [yuan]: rounding of unit prices
    to fen is allowed, a typo is not. Lines without quantity or unit price are skipped.
    """
    needed = {"quantity", "unit_price", "amount"}
    if not needed <= set(line_items.columns):
        return empty_problems()
    expected = line_items["quantity"] * line_items["unit_price"]
    diff = (line_items["amount"] - expected).abs()
    limit = np.maximum(abs_tol, rel_tol * line_items["amount"].abs())
    bad = expected.notna() & line_items["amount"].notna() & (diff > limit)
    text = [
        f"quantity x unit_price = {e:,.2f} (within {t:,.2f})"
        for e, t in zip(expected[bad], limit[bad], strict=True)
    ]
    problems = row_problems(line_items, bad, "amount", "", "amount_mismatch")
    problems["expected"] = text
    return problems


def check_known_projects(
    frame: pd.DataFrame, projects: pd.DataFrame, *, key: str = "project_id", what: str = "projects"
) -> pd.DataFrame:
    """Rows of ``frame`` whose project id is not in ``projects``."""
    if key not in frame or key not in projects:
        return empty_problems()
    unknown = frame[key].notna() & ~frame[key].isin(set(projects[key].dropna()))
    sample = ", ".join(projects[key].dropna().astype(str).head(5))
    return row_problems(
        frame,
        unknown,
        key,
        f"a {key} listed in the {what} table (e.g. {sample})",
        "unknown_project",
    )


def check_known_standards(line_items: pd.DataFrame, standards: Collection[str]) -> pd.DataFrame:
    """Lines naming a standard (``standard_id`` 适用标准) that is not among ``standards``.

    A blank cell means "the case's default standard" and is not a problem.
    """
    if "standard_id" not in line_items:
        return empty_problems()
    known = {str(s) for s in standards}
    unknown = line_items["standard_id"].notna() & ~line_items["standard_id"].isin(known)
    listing = ", ".join(sorted(known)) or "none"
    return row_problems(
        line_items,
        unknown,
        "standard_id",
        f"a known standard id ({listing}) or a blank cell",
        "unknown_standard",
    )


def check_projects_have_lines(projects: pd.DataFrame, line_items: pd.DataFrame) -> pd.DataFrame:
    """Projects with no line items at all (their cost would silently be zero)."""
    missing = ~projects["project_id"].isin(set(line_items["project_id"].dropna()))
    return row_problems(
        projects,
        missing,
        "project_id",
        "at least one line in the line-items table",
        "project_without_lines",
    )


def check_dimension_values(projects: pd.DataFrame, dimensions: Sequence[str]) -> pd.DataFrame:
    """Projects with a blank cell in a ``[units] dimensions`` column (e.g. 道路等级).

    Such a project belongs to no dimension cell: it would silently be left out of the
    standard, the peer statistics and the cost index.  A blank is an empty or all-space
    cell.  Dimensions that are not columns of ``projects`` are not checked here (that is
    a case.toml error, reported by the caller).
    """
    parts = []
    for dim in dimensions:
        if dim not in projects:
            continue
        values = projects[dim]
        text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
        blank = values.isna() | text.eq("")
        parts.append(
            row_problems(
                projects,
                blank,
                dim,
                f"a value: '{shown_header(projects, dim)}' is a [units] dimension of the "
                "case, and a project without one would be left out of the standard",
                "missing_dimension",
            )
        )
    return concat_problems(parts)


def check_inputs(
    projects: pd.DataFrame,
    line_items: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    rel_tol: float = 0.005,
    abs_tol: float = 1.0,
    standards: Collection[str] | None = None,
) -> pd.DataFrame:
    """All cross-table checks of one set of projects, line items and outputs.

    ``standards``: the standard ids lines may name (None: not checked).
    """
    return concat_problems(
        [
            check_amounts(line_items, rel_tol=rel_tol, abs_tol=abs_tol),
            check_known_projects(line_items, projects),
            check_known_projects(outputs, projects),
            check_projects_have_lines(projects, line_items),
            check_known_standards(line_items, standards) if standards is not None else None,
        ]
    )
