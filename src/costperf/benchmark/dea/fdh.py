"""Free disposal hull (FDH): no LP, a vectorised enumeration over dominating units.

Under FDH the reference technology is the union of the free-disposal cones of the
observed units (lambda binary, sum 1), so every score is a min/max over single
reference units. Only non-dominated reference units can be optimal (a dominating unit
does at least as well in every formula below), which keeps the enumeration small.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from costperf.benchmark.dea.frame import pareto_candidates
from costperf.benchmark.dea.model import INFEASIBLE, OPTIMAL, UNBOUNDED

CELLS_PER_CHUNK = 4_000_000  # units x candidates x goods per numpy block
REL_TOL = 1e-12


def _chunks(k: int, width: int) -> Iterator[slice]:
    step = max(1, CELLS_PER_CHUNK // max(1, width))
    for s in range(0, k, step):
        yield slice(s, min(k, s + step))


def _input_ratios(x: np.ndarray, xc: np.ndarray) -> np.ndarray:
    """max_i xc_ji / x_oi for each (o, j); 0/0 counts as 0, a/0 as inf."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = xc[None, :, :] / x[:, None, :]
    r = np.where((xc[None, :, :] == 0) & (x[:, None, :] == 0), 0.0, r)
    return r.max(axis=2)


def _output_ratios(y: np.ndarray, yc: np.ndarray) -> np.ndarray:
    """min_r yc_jr / y_or over outputs with y_or > 0 for each (o, j)."""
    pos = y[:, None, :] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(pos, yc[None, :, :] / np.where(pos, y[:, None, :], 1.0), np.inf)
    return r.min(axis=2)


def _feasible(x, y, xc, yc, orientation: str) -> np.ndarray:
    if orientation == "in":
        return (yc[None, :, :] >= y[:, None, :]).all(axis=2)
    return (xc[None, :, :] <= x[:, None, :]).all(axis=2)


def fdh_scores(
    x: np.ndarray,
    y: np.ndarray,
    xr: np.ndarray,
    yr: np.ndarray,
    orientation: str,
    *,
    exclude_self: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FDH score of each unit: ``(status, score, peer)`` (peer = reference index or -1).

    Input: ``theta = min_j max_i x_ji / x_oi`` over units j with ``y_j >= y_o``.
    Output: ``phi = max_j min_r y_jr / y_or`` over units j with ``x_j <= x_o``.
    Graph: ``G = min_j max(max_i x_ji / x_oi, max_r y_or / y_jr)``.
    ``exclude_self`` drops unit o from its own candidates (super-efficiency; the
    evaluated units must then be the reference units).
    """
    cand = pareto_candidates(xr, yr, max_dominators=1 if exclude_self else 0)
    xc, yc = xr[cand], yr[cand]
    k = len(x)
    score = np.full(k, np.nan)
    peer = np.full(k, -1, dtype=np.int64)
    width = len(cand) * (x.shape[1] + y.shape[1])
    for part in _chunks(k, width):
        xs, ys = x[part], y[part]
        if orientation == "graph":
            with np.errstate(divide="ignore", invalid="ignore"):
                gy = np.where(ys[:, None, :] > 0, ys[:, None, :] / yc[None, :, :], 0.0)
            gy = np.where(np.isnan(gy) | (gy < 0), np.inf, gy).max(axis=2)
            value = np.maximum(_input_ratios(xs, xc), gy)
            ok = np.isfinite(value)
        else:
            ok = _feasible(xs, ys, xc, yc, orientation)
            value = _input_ratios(xs, xc) if orientation == "in" else _output_ratios(ys, yc)
        if exclude_self:
            ok &= cand[None, :] != np.arange(part.start, part.stop)[:, None]
        if orientation == "out":
            masked = np.where(ok, value, -np.inf)
            best = masked.argmax(axis=1)
        else:
            masked = np.where(ok, value, np.inf)
            best = masked.argmin(axis=1)
        rows = np.arange(len(best))
        found = ok[rows, best]
        score[part] = np.where(found, masked[rows, best], np.nan)
        peer[part] = np.where(found, cand[best], -1)
    status = np.where(peer >= 0, OPTIMAL, INFEASIBLE).astype(object)
    status[np.isinf(score)] = UNBOUNDED
    score[np.isinf(score)] = np.nan
    return status, score, peer


def fdh_slacks(
    x: np.ndarray,
    y: np.ndarray,
    xr: np.ndarray,
    yr: np.ndarray,
    score: np.ndarray,
    orientation: str,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 2 under FDH: the feasible reference unit with the largest slack sum.

    Returns slacks (k, m+n) in original units (``weights`` = column scales) and the
    chosen reference unit per row (-1 when none).
    """
    cand = pareto_candidates(xr, yr)
    xc, yc = xr[cand], yr[cand]
    k, m = x.shape
    n = y.shape[1]
    slacks = np.full((k, m + n), np.nan)
    peer = np.full(k, -1, dtype=np.int64)
    wx, wy = weights[:m], weights[m:]
    for part in _chunks(k, len(cand) * (m + n)):
        s = score[part][:, None]
        if orientation == "in":
            tx, ty = s * x[part], y[part]
        elif orientation == "out":
            tx, ty = x[part], s * y[part]
        else:
            tx, ty = s * x[part], y[part] / s
        sx = tx[:, None, :] - xc[None, :, :]
        sy = yc[None, :, :] - ty[:, None, :]
        tol_x = REL_TOL * np.maximum(np.abs(tx), 1.0)[:, None, :] * 1e3
        tol_y = REL_TOL * np.maximum(np.abs(ty), 1.0)[:, None, :] * 1e3
        ok = (sx >= -tol_x).all(axis=2) & (sy >= -tol_y).all(axis=2)
        total = np.where(
            ok, (np.maximum(sx, 0) * wx).sum(axis=2) + (np.maximum(sy, 0) * wy).sum(axis=2), -np.inf
        )
        best = total.argmax(axis=1)
        rows = np.arange(len(best))
        found = ok[rows, best] & np.isfinite(score[part])
        chosen = np.where(found, best, 0)
        sl = np.concatenate(
            [np.maximum(sx[rows, chosen], 0) * wx, np.maximum(sy[rows, chosen], 0) * wy], axis=1
        )
        slacks[part] = np.where(found[:, None], sl, np.nan)
        peer[part] = np.where(found, cand[chosen], -1)
    return slacks, peer


def fdh_prices(
    x: np.ndarray, y: np.ndarray, xr: np.ndarray, yr: np.ndarray, prices: np.ndarray, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum cost (``kind='cost'``, prices per input) or maximum revenue over FDH.

    Returns ``(value, peer)`` per unit with prices already in scaled units.
    """
    cand = pareto_candidates(xr, yr)
    xc, yc = xr[cand], yr[cand]
    k = len(x)
    value = np.full(k, np.nan)
    peer = np.full(k, -1, dtype=np.int64)
    for part in _chunks(k, len(cand) * (x.shape[1] + y.shape[1])):
        if kind == "cost":
            ok = (yc[None, :, :] >= y[part][:, None, :]).all(axis=2)
            v = np.where(ok, prices[part] @ xc.T, np.inf)
            best = v.argmin(axis=1)
        else:
            ok = (xc[None, :, :] <= x[part][:, None, :]).all(axis=2)
            v = np.where(ok, prices[part] @ yc.T, -np.inf)
            best = v.argmax(axis=1)
        rows = np.arange(len(best))
        found = ok[rows, best]
        value[part] = np.where(found, v[rows, best], np.nan)
        peer[part] = np.where(found, cand[best], -1)
    return value, peer
