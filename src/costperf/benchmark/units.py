"""Benchmarks of a unit table: expected unit cost, frontier scores, outliers, groups.

Each function takes the unit table (one row per contract, from
:func:`costperf.decompose.unit_costs.unit_table`) and plain parameters
(:mod:`costperf.params`), and returns new frames; ``costperf run`` calls them as steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.errors import ParameterError
from costperf.params import FrontierParams, RegressionParams


def expected_unit_costs(units: pd.DataFrame, params: RegressionParams) -> tuple[dict, pd.DataFrame]:
    """The cost-driver regression: each contract's expected unit cost.

    OLS on the formula with the chosen standard errors; the expected unit cost of each
    contract is the retransformed prediction (Duan smearing for a log response), and the
    regression index is actual / expected x 100. With ``params.quantile`` a quantile
    regression gives the efficient-quantile unit cost too.

    Returns
    -------
    summary, units
        ``summary``: formula, method, standard errors, fit statistics, VIF, the
        coefficients of both models (JSON-ready); ``{}`` without a formula. ``units``: a
        copy with ``expected_unit_cost``, ``regression_index``, ``expected_pi_low`` /
        ``expected_pi_high`` and ``quantile_unit_cost`` [yuan per output unit].
    """
    from costperf.benchmark.costmodel import fit_cost_model, predict_cost, variance_inflation

    formula = params.formula
    if not formula:
        return {}, units
    model = fit_cost_model(units, formula, se=params.se)
    pred = predict_cost(model, units)
    vif = variance_inflation(units, formula)
    qmodel = None
    if params.quantile is not None:
        qmodel = fit_cost_model(units, formula, quantile=params.quantile)
        qpred = predict_cost(qmodel, units)
    units = units.copy()
    units["expected_unit_cost"] = pred.get("expected_cost", pred["fitted"]).to_numpy()
    units["regression_index"] = units["unit_cost"] / units["expected_unit_cost"] * 100
    if "cost_pi_low" in pred:
        units["expected_pi_low"] = pred["cost_pi_low"].to_numpy()
        units["expected_pi_high"] = pred["cost_pi_high"].to_numpy()
    coefficients = model.coefficients.assign(model="ols")
    result = {
        "formula": formula,
        "method": "ols",
        "se": model.se,
        "se_method": model.fit.get("se_method"),
        "fit": _scalars(model.fit),
        "vif": vif.to_dict("records"),
    }
    if qmodel is not None:
        units["quantile_unit_cost"] = qpred.get("quantile_cost", qpred["fitted"]).to_numpy()
        coefficients = pd.concat(
            [coefficients, qmodel.coefficients.assign(model=f"quantile tau={qmodel.quantile}")]
        )
        result["quantile"] = {
            "tau": qmodel.quantile,
            "se": qmodel.se,
            "se_method": qmodel.fit.get("se_method"),
            "fit": _scalars(qmodel.fit),
        }
    result["coefficients"] = coefficients.reset_index(drop=True).to_dict("records")
    return result, units


def _scalars(fit: dict) -> dict:
    return {k: v for k, v in fit.items() if np.isscalar(v) or v is None}


def frontier_scores(
    units: pd.DataFrame, dims: Sequence[str], params: FrontierParams
) -> pd.DataFrame:
    """DEA scores of the contracts on the frontier inputs and outputs.

    Returns
    -------
    DataFrame
        ``project_id``, ``district`` and the ``dims``, ``efficiency`` (the input score,
        or the Shephard output score), the solver's columns (status, peers, lambdas,
        super-efficiency unless FDH), ``rts``, ``orientation``, ``frontier_inputs``,
        ``frontier_outputs``; empty without inputs or outputs.
    """
    from costperf.benchmark.frontier import solve_dea

    inputs, outputs = list(params.inputs), list(params.outputs)
    if not inputs or not outputs:
        return pd.DataFrame()
    missing = [c for c in inputs + outputs if c not in units.columns]
    if missing:
        available = ", ".join(c for c in units.columns if units[c].dtype.kind == "f")
        msg = (
            f"frontier column(s) {', '.join(missing)} are not project variables, drivers "
            f"or cost elements; available: {available}"
        )
        raise ParameterError(msg, "inputs")
    table = units.set_index("project_id")
    scores = solve_dea(
        table[inputs],
        table[outputs],
        rts=params.rts,
        orientation=params.orientation,
        super_efficiency=params.rts != "fdh",
    )
    score = "efficiency_in" if params.orientation == "in" else "efficiency_out_shephard"
    keep = [c for c in units.columns if c in ("district", *dims)]
    frame = table[keep].join(scores).reset_index()
    frame.insert(len(keep) + 1, "efficiency", frame[score])
    frame["rts"] = params.rts
    frame["orientation"] = params.orientation
    frame["frontier_inputs"] = ",".join(inputs)
    frame["frontier_outputs"] = ",".join(outputs)
    return frame


def unit_cost_outliers(units: pd.DataFrame, dims: Sequence[str], rule: str) -> pd.DataFrame:
    """Contracts whose unit cost the outlier ``rule`` flags within their cell, and why."""
    from costperf.benchmark.peers import OUTLIER_COLUMNS, flag_outliers

    flagged = flag_outliers(units, "unit_cost", by=list(dims) or None, rule=rule)
    cols = ["project_id", "district", *dims, "unit_cost", *OUTLIER_COLUMNS]
    return flagged.loc[flagged["outlier"], [c for c in cols if c in flagged.columns]]


def group_benchmarks(
    groups: pd.DataFrame, units: pd.DataFrame, frontier: pd.DataFrame, *, by: str = "district"
) -> pd.DataFrame:
    """Add the regression-adjusted index and the mean frontier score to a group table.

    ``expected_unit_cost`` of a group is its output-weighted expected unit cost; the
    ``regression_index`` is its actual cost / its expected cost x 100.
    """
    out = groups.copy()
    if "expected_unit_cost" in units:
        expected_cost = (
            (units["expected_unit_cost"] * units["output_quantity"]).groupby(units[by]).sum()
        )
        output = units.groupby(by)["output_quantity"].sum()
        actual = units.groupby(by)["total_cost"].sum()
        out["expected_unit_cost"] = out[by].map(expected_cost / output)
        out["regression_index"] = out[by].map(actual / expected_cost * 100)
    if not frontier.empty:
        out["mean_efficiency"] = out[by].map(frontier.groupby(by)["efficiency"].mean())
    return out
