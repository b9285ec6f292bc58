"""Quantile regression with one observation left out, for every observation at once, by
simplex steps from the full fit's vertex (Barrodale and Roberts 1973, as R ``rq`` 'br').

The full fit is a vertex: ``p`` observations ``B`` with zero residual,
``b = X_B^-1 y_B``. With ``psi_i = tau - 1[r_i < 0]`` off the basis (0 on it) and
``Z = X_B^-T X'``, the fit is optimal iff ``xi = Z psi`` lies in ``[-tau, 1 - tau]``
(Koenker 2005, Thm 2.1), and the unique optimum if strictly. Leaving out ``j`` (not in
``B``) takes one term out of ``xi``: ``xi - Z[:, j] psi_j``. Where a coordinate ``k``
leaves the interval, releasing basis observation ``k`` (its residual pushed up where
``xi_k < -tau``, down where ``xi_k > 1 - tau``) is a descent edge; along it the
objective is piecewise linear, each observation whose residual crosses zero adds
``|Z[k, i]|`` to the slope, and the next vertex is the crossing where the slope turns
nonnegative: that observation replaces ``B[k]``. Drops that take the same step share
the vertex, so each vertex visited is factorised once for every drop that reaches it.

A drop ends at a vertex whose condition holds (to rounding) for its data. Each step
lowers the objective (no tie of crossings, no other zero residual: else the drop is
left to the caller), so no vertex repeats. The coefficients are recomputed from the
``p`` interpolated observations, like :func:`~costperf.benchmark.costmodel.rq_vertex`.
"""

from __future__ import annotations

import numpy as np

#: a drop's condition is taken to hold when no coordinate is outside by more than this
#: (rounding of ``xi``, a sum of n terms of order 1)
OPTIMAL_TOL = 1e-12
#: strictly inside by this much: the optimum is unique (as the certificate in
#: :mod:`costperf.standards.derive.model_drops`)
UNIQUE_MARGIN = 1e-9
#: steps before a drop is left to the caller (each step lowers the objective; a few
#: suffice in practice)
MAX_STEPS = 60

UNSOLVED, UNIQUE, OPTIMAL = 0, 1, 2


def rq_drop_fits(
    X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray, *, steps: int = MAX_STEPS
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients without each observation (row ``j``: ``j`` left out) and how each
    was found: :data:`UNIQUE` (the unique optimum on that data), :data:`OPTIMAL` (an
    optimal vertex, the optimum not unique) or :data:`UNSOLVED` (for the caller: ``j``
    is a basis observation, a vertex on the way is degenerate, or more than ``steps``
    steps would be needed).

    ``coef`` is the full data's fit (:func:`~costperf.benchmark.costmodel.rq_coefficients`);
    the drops it stays optimal for get ``coef`` itself (with ``steps=0`` only those:
    the certificate of the base vertex alone).
    """
    n, p = X.shape
    out = np.full((n, p), np.nan)
    state = np.full(n, UNSOLVED, dtype=np.int8)
    scale = max(1.0, float(np.max(np.abs(y))))
    zero = np.abs(y - X @ coef) <= 1e-9 * scale
    if zero.sum() != p or np.linalg.matrix_rank(X[zero]) < p or n - 1 <= p:
        return out, state
    pending = {tuple(np.flatnonzero(zero).tolist()): np.flatnonzero(~zero)}
    b = np.asarray(coef, dtype=float)
    for level in range(steps + 1):
        reached: dict[tuple, list[np.ndarray]] = {}
        for basis, drops in pending.items():
            at = np.array(basis)
            vertex = b if level == 0 else np.linalg.solve(X[at], y[at])
            moves = _step(X, y, tau, at, vertex, drops, scale, out, state)
            for key, moved in moves if level < steps else ():
                reached.setdefault(key, []).append(moved)
        if not reached:
            break
        pending = {key: np.concatenate(parts) for key, parts in reached.items()}
    return out, state


def _step(X, y, tau, basis, b, drops, scale, out, state):  # noqa: ANN001, PLR0913
    """One vertex: record the drops it is optimal for; return (next basis, drops) of
    the others, one simplex step each."""
    XB = X[basis]
    r = y - X @ b
    off = np.ones(len(y), dtype=bool)
    off[basis] = False
    r[basis] = 0.0
    if np.any(np.abs(r[off]) <= 1e-9 * scale):  # another zero residual: degenerate
        return []
    psi = np.where(off, tau - (r < 0), 0.0)
    Z = np.linalg.solve(XB.T, X.T)
    xi = (Z @ psi)[:, None] - Z[:, drops] * psi[drops][None, :]
    low, high = xi + tau, (1.0 - tau) - xi  # both must be >= 0
    k_low, k_high = np.argmin(low, axis=0), np.argmin(high, axis=0)
    cols = np.arange(len(drops))
    w_low, w_high = low[k_low, cols], high[k_high, cols]
    worst = np.minimum(w_low, w_high)
    done = worst >= -OPTIMAL_TOL
    out[drops[done]] = b
    state[drops[done]] = np.where(worst[done] > UNIQUE_MARGIN, UNIQUE, OPTIMAL)
    up = w_low <= w_high  # push the residual of B[k] up (s = +1) or down (s = -1)
    k = np.where(up, k_low, k_high)
    slope = np.where(up, w_low, w_high)  # the edge's initial slope (< 0)
    moving, moves = ~done, []
    for kk in np.unique(k[moving]):
        for s in (1.0, -1.0):
            mine = moving & (k == kk) & (up == (s > 0))
            if mine.any():
                moves += _line_search(basis, drops[mine], -slope[mine], s * Z[kk], r, off, kk)
    return moves


def _line_search(basis, drops, need, rate, r, off, k) -> list[tuple[tuple, np.ndarray]]:  # noqa: ANN001, PLR0913
    """Along the edge releasing ``basis[k]`` (residuals move at ``rate``), the crossing
    where the slope, starting at ``-need``, turns nonnegative, for each drop (its own
    crossing left out): (next basis, drops) pairs."""
    crossing = off & (r * rate < 0)
    candidates = np.flatnonzero(crossing)
    t = -r[candidates] / rate[candidates]
    order = candidates[np.argsort(t, kind="stable")]
    weight = np.abs(rate[order])
    total = np.cumsum(weight)
    position = np.full(len(r), len(order))
    position[order] = np.arange(len(order))
    first = np.searchsorted(total, need, side="left")
    mine = position[drops]
    own = np.where(mine < len(order), weight[np.minimum(mine, len(order) - 1)], 0.0)
    later = np.searchsorted(total, need + own, side="left")
    at = np.where(mine <= first, later, first)
    ok = at < len(order)
    enter = np.where(ok, order[np.minimum(at, len(order) - 1)], -1)
    ok &= enter != drops
    moves = []
    for e in np.unique(enter[ok]):
        nxt = basis.copy()
        nxt[k] = e
        moves.append((tuple(np.sort(nxt).tolist()), drops[ok & (enter == e)]))
    return moves
