"""Graph (hyperbolic) efficiency: min G s.t. X lambda <= G x_o, Y lambda >= y_o / G.

The constraint set is not linear in G, so G is found as the root of
``h(G) = theta(x_o, y_o / G) - G``, where ``theta(x, y)`` is the input-oriented radial
score of the point (x, y). ``h`` is strictly decreasing (a smaller G asks for more
output), so a bracketing root finder converges; an infeasible LP counts as
``h = +inf``. The root lies in ``[theta(x_o, y_o), 1]`` for units inside the
technology. Benchmarking finds G by bisection to about 1e-6; this is exact to ~1e-10.
Under CRS, ``G = sqrt(theta)``.
"""

from __future__ import annotations

import numpy as np

from costperf.benchmark.dea.frame import Solutions, run_chunks
from costperf.benchmark.dea.model import OPTIMAL, EnvelopmentLP

XTOL = 1e-12  # bracket width at which G is final
ROOT_TOL = 1e-13  # |theta(G) - G| at which G is final


def solve_graph(
    x: np.ndarray,
    y: np.ndarray,
    xr: np.ndarray,
    yr: np.ndarray,
    frame: np.ndarray,
    rts: str,
    base: Solutions,
    *,
    threads: int = 1,
) -> Solutions:
    """Graph efficiency of every unit (scaled data) against the frame units ``frame``.

    ``base`` holds the input-oriented solutions (same technology), used for the bracket
    and, under CRS, for the closed form ``G = sqrt(theta)``, ``lambda = lambda_in / G``.
    """
    k, m = x.shape
    n = y.shape[1]
    sols = Solutions.empty(k, m + n + (rts != "crs"))
    theta = base.score

    def make() -> EnvelopmentLP:
        lp = EnvelopmentLP(m, n, rts, "in")
        lp.add_units(frame, xr[frame], yr[frame])
        return lp

    def work(chunk: np.ndarray, lp: EnvelopmentLP) -> None:
        for o in chunk:

            def h(g: float, o: int = o) -> float:
                lp.set_unit(x[o], y[o] / g)
                status, score, _, _ = lp.solve()
                return score - g if status == OPTIMAL else 1e6

            g = _root(h, theta[o])
            lp.set_unit(x[o], y[o] / g)
            status, score, lam, duals = lp.solve()
            sols.store(o, status, g, lam, duals, lp.ref_ids)

    if rts == "crs":
        g = np.sqrt(theta)
        for o in range(k):
            sols.status[o], sols.score[o] = base.status[o], g[o]
            sols.lam_ids[o] = base.lam_ids[o]
            sols.lam_vals[o] = (
                base.lam_vals[o] / g[o] if base.status[o] == OPTIMAL else base.lam_vals[o]
            )
        return sols
    run_chunks(np.arange(k), threads, make, work)
    return sols


def _root(h, theta: float) -> float:
    """Root of the decreasing function ``h`` near ``[theta, 1]`` (expanding if needed).

    Illinois (modified regula falsi) on a bracket whose end values are kept, so a
    re-solved LP that lands 1e-16 on the other side of 0 cannot break the bracket.
    """
    lo = theta if np.isfinite(theta) and 0 < theta < 1 else 1.0
    hi = 1.0
    f_lo, f_hi = h(lo), h(hi)
    while f_hi > 0 and hi < 1e6:
        lo, f_lo, hi = hi, f_hi, hi * 2
        f_hi = h(hi)
    while f_lo < 0 and lo > 1e-9:
        hi, f_hi, lo = lo, f_lo, lo / 2
        f_lo = h(lo)
    side = 0
    for _ in range(200):
        if abs(f_hi) <= ROOT_TOL or hi - lo <= XTOL:
            return hi if abs(f_hi) <= abs(f_lo) else lo
        if abs(f_lo) <= ROOT_TOL:
            return lo
        big = f_lo >= 1e5  # infeasible end: bisect instead of interpolating
        g = 0.5 * (lo + hi) if big else (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not lo < g < hi:
            g = 0.5 * (lo + hi)
        f_g = h(g)
        if f_g > 0:
            lo, f_lo = g, f_g
            if side == 1:
                f_hi *= 0.5
            side = 1
        else:
            hi, f_hi = g, f_g
            if side == -1:
                f_lo *= 0.5
            side = -1
    return 0.5 * (lo + hi)
