"""Cost, revenue and allocative efficiency given prices (Benchmarking ``cost.opt``/``revenue.opt``).

Cost efficiency of unit o: ``CE = w_o.x* / w_o.x_o`` where ``x*`` minimises cost over the
technology at the unit's outputs: ``min w_o.x s.t. x >= X lambda, Y lambda >= y_o``
(+ returns-to-scale row); allocative efficiency ``AE = CE / theta`` (input-oriented
technical efficiency under the same returns to scale), so ``CE = theta * AE``.

Revenue efficiency: ``RE = p_o.y_o / p_o.y*`` with ``y*`` maximising revenue at the unit's
inputs; ``AE_out = RE * phi`` (phi = Farrell output efficiency >= 1).

Cost is monotone in inputs, so the LP may use only the frame units of the technology
(any point is dominated by a combination of frame units); the same holds for revenue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.dea.api import Reference, reference_of
from costperf.benchmark.dea.checks import check_prices, normalize_rts, prepare
from costperf.benchmark.dea.fdh import fdh_prices, fdh_scores
from costperf.benchmark.dea.frame import default_threads, run_chunks, scale_factors
from costperf.benchmark.dea.model import INFEASIBLE, OPTIMAL, PriceLP
from costperf.benchmark.dea.radial import Technology, solve_scores
from costperf.benchmark.dea.results import snap_one
from costperf.errors import empty_problems, make_problems, raise_if_problems


def cost_efficiency(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    prices: object,
    *,
    rts: str = "vrs",
    reference: Reference | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Cost efficiency and allocative efficiency of every unit, given input prices.

    Parameters
    ----------
    inputs, outputs
        As for :func:`solve_dea`.
    prices
        Input prices: a DataFrame indexed like ``inputs`` with one column per input
        (matched by position; per-unit prices), or one price per input for all units
        (Series, mapping or sequence). [yuan per input unit]
    rts
        Returns to scale of the technology ('crs', 'vrs', 'drs', 'irs', 'fdh').
    reference
        Optional ``(inputs, outputs)`` spanning the technology.

    Returns
    -------
    DataFrame
        Indexed like ``inputs``: ``cost_efficiency`` (w.x*/w.x_o, in (0, 1]),
        ``allocative_efficiency_in`` (= cost_efficiency / efficiency_in),
        ``efficiency_in`` (technical, input-oriented), ``cost_observed`` and
        ``cost_minimum`` [price x input units], ``optimal_<input>`` (x* per input),
        ``status``.
    """
    return _price_efficiency(
        inputs, outputs, prices, rts=rts, reference=reference, threads=threads, kind="cost"
    )


def revenue_efficiency(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    prices: object,
    *,
    rts: str = "vrs",
    reference: Reference | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Revenue efficiency and output allocative efficiency, given output prices.

    Returns
    -------
    DataFrame
        ``revenue_efficiency`` (p.y_o/p.y*, in (0, 1]), ``allocative_efficiency_out``
        (= revenue_efficiency * efficiency_out_farrell), ``efficiency_out_farrell``,
        ``revenue_observed``, ``revenue_maximum``, ``optimal_<output>``, ``status``.

    See :func:`cost_efficiency` for the parameters (``prices`` are per output).
    """
    return _price_efficiency(
        inputs, outputs, prices, rts=rts, reference=reference, threads=threads, kind="revenue"
    )


def _price_efficiency(inputs, outputs, prices, *, rts, reference, threads, kind) -> pd.DataFrame:
    rts = normalize_rts(rts)
    orientation = "in" if kind == "cost" else "out"
    x, y = prepare(inputs, outputs, rts=rts, orientation=orientation)
    goods = inputs if kind == "cost" else outputs
    w, problems = check_prices(
        prices, goods, what=f"{'input' if kind == 'cost' else 'output'} prices"
    )
    if problems.empty and kind == "cost":
        problems = _zero_value(w, x, inputs, "input prices x inputs (observed cost)")
    raise_if_problems(problems, f"the {kind} prices")
    ref_in, ref_out = reference_of(inputs, outputs, reference)
    xr, yr = (
        (x, y)
        if reference is None
        else prepare(ref_in, ref_out, rts=rts, orientation=orientation, what="the reference set")
    )
    sx, sy = scale_factors(x, xr), scale_factors(y, yr)
    tech = Technology(x / sx, y / sy, xr / sx, yr / sy, rts, orientation, same=reference is None)
    scale = sx if kind == "cost" else sy
    score, value, optimal, status = _optimise(tech, w * scale, kind, threads or default_threads())
    optimal = optimal * scale
    observed = np.einsum("ij,ij->i", w, x if kind == "cost" else y)
    return _assemble(inputs.index, goods, kind, observed, value, optimal, status, score)


def _zero_value(w: np.ndarray, x: np.ndarray, inputs: pd.DataFrame, what: str) -> pd.DataFrame:
    bad = np.flatnonzero(np.einsum("ij,ij->i", w, x) <= 0)
    if len(bad) == 0:
        return empty_problems()
    return make_problems(
        {
            "source_row": int(i) + 1,
            "column": str(inputs.columns[0]),
            "value": "0",
            "expected": f"{what} > 0 (unit {inputs.index[i]!r}: all priced inputs are 0)",
            "check": "zero_cost",
        }
        for i in bad
    )


def _optimise(tech: Technology, w: np.ndarray, kind: str, threads: int):
    """Technical score, optimal value and optimal goods per unit (``w`` in scaled units).

    The technical score (theta for cost, Farrell phi for revenue) comes from the same
    frame pass that supplies the reference columns of the price LPs.
    """
    k = len(tech.x)
    goods_ref = tech.xr if kind == "cost" else tech.yr
    value = np.full(k, np.nan)
    optimal = np.full((k, goods_ref.shape[1]), np.nan)
    status = np.full(k, "", dtype=object)
    if tech.rts == "fdh":
        _, score, _ = fdh_scores(tech.x, tech.y, tech.xr, tech.yr, tech.orientation)
        value, peer = fdh_prices(tech.x, tech.y, tech.xr, tech.yr, w, kind)
        found = peer >= 0
        optimal[found] = goods_ref[peer[found]]
        status[:] = np.where(found, OPTIMAL, INFEASIBLE)
        return score, value, optimal, status
    score = solve_scores(tech, threads=threads).score
    frame = tech.frame
    g_frame = goods_ref[frame]

    def work(chunk: np.ndarray, lp: PriceLP) -> None:
        for o in chunk:
            costs = g_frame @ w[o]
            norm = float(costs.max()) if costs.max() > 0 else 1.0
            bound = tech.y[o] if kind == "cost" else tech.x[o]
            st, obj, lam = lp.solve(costs / norm, bound)
            status[o] = st
            if st == OPTIMAL:
                value[o] = obj * norm
                optimal[o] = lam @ g_frame

    run_chunks(
        np.arange(k), threads, lambda: PriceLP(tech.xr[frame], tech.yr[frame], tech.rts, kind), work
    )
    return snap_one(score), value, optimal, status


def _assemble(index, goods, kind, observed, value, optimal, status, score) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "cost":
            eff = value / observed
            cols = {
                "cost_efficiency": snap_one(eff),
                "allocative_efficiency_in": snap_one(eff / score),
                "efficiency_in": score,
                "cost_observed": observed,
                "cost_minimum": value,
            }
        else:
            eff = np.where(value > 0, observed / value, np.nan)
            cols = {
                "revenue_efficiency": snap_one(eff),
                "allocative_efficiency_out": snap_one(eff * score),
                "efficiency_out_farrell": score,
                "revenue_observed": observed,
                "revenue_maximum": value,
            }
    for k, name in enumerate(goods.columns):
        cols[f"optimal_{name}"] = optimal[:, k]
    cols["status"] = status
    return pd.DataFrame(cols, index=index)
