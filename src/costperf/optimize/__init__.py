"""Savings proposals: the cheapest resource plan that still meets every output baseline.

The model is data (:mod:`.tables`): resources with unit costs, constraints (baselines,
policies, limits) and their coefficients. :func:`prepare_model` checks and types the
three tables and fills unit costs from standards; :func:`optimize_plan` builds one
sparse model (:mod:`.model`), solves it (:mod:`.solve`: HiGHS, or pulp + CBC) and
returns a :class:`Proposal`. When the constraints cannot all hold, the elastic model
(:mod:`.infeasible`) says which must give and by how much. Pure: no files, no
terminal; the inputs are never changed.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from costperf.errors import LOCATION
from costperf.optimize.costs import resolve_unit_costs
from costperf.optimize.infeasible import infeasibility_table, solve_elastic
from costperf.optimize.model import LinearModel, build_model
from costperf.optimize.results import constraint_table, cost_by, plan_table, totals_of
from costperf.optimize.solve import MIP_REL_GAP, SOLVERS, solve, write_lp
from costperf.optimize.tables import (
    COEFFICIENTS,
    CONSTRAINTS,
    HEADER_MEANINGS,
    RESOURCES,
    SCHEMAS,
    check_model,
    normalise_model,
)
from costperf.schemas import concat_problems, shown_header


@dataclass(frozen=True)
class ModelTables:
    """The three checked, normalised tables and the standards their unit costs used."""

    resources: pd.DataFrame
    constraints: pd.DataFrame
    coefficients: pd.DataFrame
    standards_used: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Proposal:
    """What :func:`optimize_plan` returns.

    Attributes
    ----------
    plan
        One row per resource (:data:`~costperf.optimize.results.PLAN_COLUMNS`).
    constraints
        One row per constraint, the generated equity and floor rows included, with
        ``shadow_price`` [yuan per unit of rhs] (``shadow_price_lp_relaxation`` with
        integers).
    projects, groups
        Current and proposed cost, savings and rate per project / group (may be empty).
    totals
        status, current_cost, proposed_cost, savings, savings_rate, lp_relaxation_cost,
        solver, build_seconds, solve_seconds, ...
    infeasibility
        When ``status`` is ``infeasible``: the rows that must give, with a sentence each.
    current_issues
        Constraints the current plan misses (not an error: often why one re-plans).
    """

    plan: pd.DataFrame
    constraints: pd.DataFrame
    projects: pd.DataFrame
    groups: pd.DataFrame
    totals: dict
    infeasibility: pd.DataFrame
    current_issues: pd.DataFrame
    standards_used: pd.DataFrame
    model: LinearModel

    @property
    def status(self) -> str:
        return str(self.totals["status"])


def prepare_model(
    resources: pd.DataFrame,
    constraints: pd.DataFrame,
    coefficients: pd.DataFrame,
    *,
    standards: object | None = None,
    on: dt.date | None = None,
) -> tuple[ModelTables, pd.DataFrame]:
    """Check the typed tables across each other and fill unit costs from standards.

    Returns the normalised tables and every problem found (a problems frame; the caller
    raises). ``on``: the date whose standards are in force (default: today).
    """
    problems = check_model(resources, constraints, coefficients)
    res, con, coef = normalise_model(resources, constraints, coefficients)
    res, used, found = resolve_unit_costs(res, standards, on or dt.date.today())
    if not found.empty:  # the column as the file names it (the normalised copy has no headers)
        found["column"] = shown_header(resources, "standard_id")
    tables = ModelTables(res, con, coef, used)
    return tables, concat_problems([problems, found])


def optimize_plan(
    tables: ModelTables,
    *,
    solver: str = "highs",
    max_group_cut: float | None = None,
    project_floor: float | None = None,
    time_limit: float | None = None,
    mip_rel_gap: float = MIP_REL_GAP,
) -> Proposal:
    """The cheapest plan meeting every constraint, or what must give when none does.

    Parameters
    ----------
    tables
        From :func:`prepare_model` (checked: no problems).
    solver
        ``highs`` (default, HiGHS through its array API) or ``cbc`` (pulp + CBC).
    max_group_cut
        Portfolio equity: no group's cost falls by more than this share (None: none).
    project_floor
        Every project keeps at least this share of its current cost (None: none).
    time_limit, mip_rel_gap
        Seconds a solve may take (None: no limit); the relative gap at which a MILP is
        solved (default 1e-6).
    """
    start = time.perf_counter()
    model, held = build_model(
        tables.resources,
        tables.constraints,
        tables.coefficients,
        max_group_cut=max_group_cut,
        project_floor=project_floor,
    )
    build_seconds = time.perf_counter() - start
    solution = solve(model, solver, time_limit=time_limit, mip_rel_gap=mip_rel_gap)
    infeasibility = infeasibility_table(held, np.zeros(len(held)))
    if solution.status == "infeasible":
        solution, relaxation = solve_elastic(model, solver, time_limit=time_limit)
        infeasibility = infeasibility_table(held, relaxation)
    plan = plan_table(tables.resources, solution)
    current = tables.resources["current"].to_numpy(dtype=float)
    rows = constraint_table(held, model, current, solution)
    totals = totals_of(plan, solution, model, solution.status)
    totals["build_seconds"] = build_seconds
    issues = rows.loc[~rows["current_holds"], ["constraint", "label", "constraint_kind"]]
    issues = issues.join(rows[["sense", "rhs", "current_lhs", "current_shortfall"]])
    totals["current_plan_misses"] = int(len(issues))
    return Proposal(
        plan=plan,
        constraints=rows,
        projects=cost_by(plan, "project_id"),
        groups=cost_by(plan, "group"),
        totals=totals,
        infeasibility=infeasibility,
        current_issues=issues.reset_index(drop=True),
        standards_used=tables.standards_used,
        model=model,
    )


def in_language(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """``frame`` for display in ``lang``: ``label``/``explanation`` in that language (the
    ``*_en`` columns are used for English, then dropped), no location columns."""
    out = frame.drop(columns=list(LOCATION), errors="ignore")
    for col in ("label", "explanation"):
        english = f"{col}_en"
        if english in out:
            if lang == "en":
                out[col] = out[english]
            out = out.drop(columns=[english])
    return out


__all__ = [
    "COEFFICIENTS",
    "CONSTRAINTS",
    "HEADER_MEANINGS",
    "RESOURCES",
    "SCHEMAS",
    "SOLVERS",
    "LinearModel",
    "ModelTables",
    "Proposal",
    "check_model",
    "in_language",
    "optimize_plan",
    "prepare_model",
    "write_lp",
]
