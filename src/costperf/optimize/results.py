"""Result tables of a solve: the plan, the constraints, projects, groups and totals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.optimize.model import LinearModel
from costperf.optimize.solve import Solution

PLAN_COLUMNS = [
    "resource",
    "label",
    "project_id",
    "group",
    "unit",
    "integer",
    "unit_cost",
    "current",
    "proposed",
    "change",
    "current_cost",
    "proposed_cost",
    "reduced_cost",
    "unit_cost_source",
    "standard_id",
    "standard_version",
]
CONSTRAINT_COLUMNS = [
    "constraint",
    "label",
    "constraint_kind",
    "sense",
    "rhs",
    "unit",
    "project_id",
    "current_lhs",
    "current_holds",
    "current_shortfall",
    "proposed_lhs",
    "slack",
    "binding",
    "shadow_price",
    "label_en",
]


def tolerance(rhs: np.ndarray) -> np.ndarray:
    """Feasibility tolerance of a row [rhs units]: 1e-7 relative, at least 1e-7."""
    return 1e-7 * np.maximum(1.0, np.abs(rhs))


def _gaps(sense: np.ndarray, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``lhs`` inside the row by this much (>= 0 holds; < 0 misses it)."""
    return np.where(
        sense == ">=", lhs - rhs, np.where(sense == "<=", rhs - lhs, -np.abs(lhs - rhs))
    )


def plan_table(resources: pd.DataFrame, solution: Solution) -> pd.DataFrame:
    """One row per resource: current and proposed quantity and cost, reduced cost."""
    out = resources.copy()
    x = solution.x.copy()
    x[out["integer"].to_numpy()] = np.round(x[out["integer"].to_numpy()])
    x = x + 0.0  # no -0.0
    out["proposed"] = x
    out["change"] = out["proposed"] - out["current"]
    out["current_cost"] = out["unit_cost"] * out["current"]
    out["proposed_cost"] = out["unit_cost"] * out["proposed"]
    out["reduced_cost"] = solution.col_dual + 0.0
    return out[[c for c in PLAN_COLUMNS if c in out.columns]].reset_index(drop=True)


def constraint_table(
    held: pd.DataFrame, model: LinearModel, current: np.ndarray, solution: Solution
) -> pd.DataFrame:
    """One row per constraint: left-hand sides now and proposed, slack, shadow price.

    ``shadow_price`` is the LP relaxation's dual [yuan per unit of rhs]; it is named
    ``shadow_price_lp_relaxation`` when some resources are integers.
    """
    out = held.copy()
    sense, rhs = out["sense"].to_numpy(dtype=object), out["rhs"].to_numpy(dtype=float)
    now = model.matrix @ current
    lhs = model.matrix @ solution.x if np.isfinite(solution.x).all() else np.full(len(out), np.nan)
    tol = tolerance(rhs)
    gap_now = _gaps(sense, now, rhs)
    out["current_lhs"] = now
    out["current_holds"] = gap_now >= -tol
    out["current_shortfall"] = np.where(gap_now < -tol, -gap_now, 0.0)
    out["proposed_lhs"] = lhs
    slack = _gaps(sense, lhs, rhs)
    out["slack"] = np.where(np.abs(slack) <= tol, 0.0, slack)
    out["binding"] = np.abs(slack) <= tol
    out["shadow_price"] = solution.row_dual + 0.0  # no -0.0
    out = out[[c for c in CONSTRAINT_COLUMNS if c in out.columns]]
    if model.integer.any():
        out = out.rename(columns={"shadow_price": "shadow_price_lp_relaxation"})
    return out.reset_index(drop=True)


def cost_by(plan: pd.DataFrame, by: str) -> pd.DataFrame:
    """Current and proposed cost, savings and savings rate per ``by`` value."""
    if by not in plan or plan[by].isna().all():
        return pd.DataFrame(
            columns=[by, "current_cost", "proposed_cost", "savings", "savings_rate"]
        )
    keys = [by, "group"] if by == "project_id" and "group" in plan else [by]
    part = plan[plan[by].notna()]
    sums = part.groupby(keys, sort=True, dropna=False)[["current_cost", "proposed_cost"]].sum()
    sums = sums.reset_index()
    sums["savings"] = sums["current_cost"] - sums["proposed_cost"]
    sums["savings_rate"] = sums["savings"] / sums["current_cost"].where(sums["current_cost"] != 0)
    return sums


def totals_of(plan: pd.DataFrame, solution: Solution, model: LinearModel, status: str) -> dict:
    """The run's totals: status, costs, savings, LP relaxation cost, solver, times."""
    current = float(plan["current_cost"].sum())
    proposed = float(plan["proposed_cost"].sum()) if status != "not_solved" else float("nan")
    savings = current - proposed
    return {
        "status": status,
        "current_cost": current,
        "proposed_cost": proposed,
        "savings": savings,
        "savings_rate": savings / current if current else float("nan"),
        "lp_relaxation_cost": float(solution.lp_objective),
        "solver": solution.solver,
        "solve_seconds": float(solution.solve_seconds),
        "integer": bool(model.integer.any()),
        "shadow_price_basis": "lp_relaxation" if model.integer.any() else "lp",
        "n_resources": int(model.shape[1]),
        "n_constraints": int(model.shape[0]),
        "n_nonzeros": int(model.matrix.nnz),
    }
