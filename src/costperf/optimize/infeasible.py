"""When the constraints cannot all hold: which must give, and by how much.

The elastic model lets every baseline, policy and limit row give, at a cost of
1/|rhs| per unit (1 per unit when rhs is 0), and minimises the total relative
relaxation; then, with that total held, the cheapest plan. Each row that gives is
explained in one plain sentence (Chinese, or English).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from costperf.columns import code_label, message
from costperf.optimize.model import LinearModel, elastic_model, with_budget_row
from costperf.optimize.solve import Solution, solve

INFEASIBILITY_COLUMNS = [
    "constraint",
    "label",
    "constraint_kind",
    "sense",
    "rhs",
    "unit",
    "relaxation",
    "relative_relaxation",
    "relaxed_rhs",
    "explanation",
    "explanation_en",
    "label_en",
]


def solve_elastic(
    model: LinearModel, solver: str = "highs", *, time_limit: float | None = None
) -> tuple[Solution, np.ndarray]:
    """The cheapest plan at the least total relative relaxation; and each row's relaxation.

    Returns the solution on the original columns (``x``) and the signed relaxation per
    row [rhs units]: the row's rhs moves to ``rhs - relaxation``.
    """
    elastic, rows, signs = elastic_model(model)
    first = solve(elastic, solver, time_limit=time_limit)
    n_rows, n_cols = model.shape
    if first.status != "optimal":
        return first, np.full(n_rows, np.nan)
    least = float(first.objective)
    cost = np.concatenate([model.cost, np.zeros(len(rows))])
    limit = least * (1 + 1e-9) + 1e-9
    second = solve(
        with_budget_row(elastic, elastic.cost, limit, cost), solver, time_limit=time_limit
    )
    best = second if second.status == "optimal" else first
    relax = np.zeros(n_rows)  # signed: > 0 lowers the rhs (a >= side gave), < 0 raises it
    np.add.at(relax, rows, signs * best.x[n_cols:])
    relax[np.abs(relax) < 1e-7 * np.maximum(1.0, np.abs(_rhs(model)))] = 0.0  # solver noise
    x = best.x[:n_cols]
    result = Solution(
        "infeasible",
        x,
        np.full(n_rows, np.nan),
        np.full(n_cols, np.nan),
        float(model.cost @ x),
        float("nan"),
        first.solve_seconds + best.solve_seconds,
        first.solver,
    )
    return result, relax


def _rhs(model: LinearModel) -> np.ndarray:
    return np.where(np.isfinite(model.row_lower), model.row_lower, model.row_upper)


def infeasibility_table(
    held: pd.DataFrame, relaxation: np.ndarray, lang: str = "zh"
) -> pd.DataFrame:
    """The rows that must give (largest relative relaxation first), with a sentence each."""
    out = held.copy().reset_index(drop=True)
    rhs = out["rhs"].to_numpy(dtype=float)
    out["relaxation"] = np.abs(relaxation)
    scale = np.where(rhs != 0, np.abs(rhs), np.nan)
    out["relative_relaxation"] = np.abs(relaxation) / scale
    out["relaxed_rhs"] = rhs - relaxation
    out["lowered"] = relaxation > 0
    out = out[out["relaxation"] > 0].copy()
    rows = out.to_dict("records")
    out["explanation"] = [explain(row, "zh") for row in rows]
    out["explanation_en"] = [explain(row | {"label": row["label_en"]}, "en") for row in rows]
    out = out.sort_values(["relative_relaxation", "relaxation"], ascending=False, kind="stable")
    return out[INFEASIBILITY_COLUMNS].reset_index(drop=True)


def explain(row: dict, lang: str = "zh") -> str:
    """One plain sentence: which constraint gives, by how much, relative to its rhs."""
    kind = code_label("constraint_kind", row["constraint_kind"], lang)
    unit = row.get("unit")
    unit = unit.strip() if isinstance(unit, str) else ""  # blank, None or NaN: no unit
    amount, rhs = float(row["relaxation"]), float(row["rhs"])
    rel = row.get("relative_relaxation")
    share = None if rel is None or not np.isfinite(rel) else rel
    if row["lowered"]:
        verb = message("optimize.infeasible.lowered", lang)
    else:
        verb = message("optimize.infeasible.raised", lang)
    text = message(
        "optimize.infeasible.row",
        lang,
        kind=kind,
        label=row["label"],
        constraint=row["constraint"],
        rhs=rhs,
        unit=unit,
        verb=verb,
        amount=amount,
        share="" if share is None else message("optimize.infeasible.share", lang, share=share),
        relaxed=float(row["relaxed_rhs"]),
    )
    # no unit: no doubled space, and none before a full-width bracket or comma
    return re.sub(r" +(?=[（，])", "", text.replace("  ", " "))
