"""The straightforward DEA loop: a fresh HiGHS LP per unit against all units.

No screening, no warm start, no threads: the baseline that ``bench/dea.py`` times the
fast path against, and the independent check used by the property tests.
"""

from __future__ import annotations

import numpy as np

from costperf.benchmark.dea.frame import scale_factors
from costperf.benchmark.dea.model import INF, OPTIMAL, RTS_ROW_BOUNDS, model_status, new_highs


def naive_scores(
    x: np.ndarray,
    y: np.ndarray,
    *,
    rts: str = "vrs",
    orientation: str = "in",
    scale: bool = True,
    units: np.ndarray | None = None,
) -> np.ndarray:
    """Radial scores (theta for 'in', Farrell phi for 'out'); NaN when not optimal.

    Parameters
    ----------
    x, y
        Inputs (k, m) and outputs (k, n) of the units, which are also the reference set.
    rts
        'crs', 'vrs', 'drs' or 'irs'.
    scale
        Divide each column by its largest absolute value first (scores are invariant).
    units
        Row positions of the units to score (default: all), each against all k units;
        the result then has one score per position, in that order.
    """
    import highspy

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if scale:
        x, y = x / scale_factors(x), y / scale_factors(y)
    k, m = x.shape
    n = y.shape[1]
    units = np.arange(k) if units is None else np.asarray(units)
    out = np.full(len(units), np.nan)
    block = np.hstack([x, y] + ([np.ones((k, 1))] if rts != "crs" else []))
    n_rows = block.shape[1]
    for pos, o in enumerate(units):
        h = new_highs()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k + 1, n_rows
        lp.col_cost_ = np.r_[1.0, np.zeros(k)]
        lp.col_lower_ = np.zeros(k + 1)
        lp.col_upper_ = np.full(k + 1, INF)
        lower, upper = np.zeros(n_rows), np.full(n_rows, INF)
        score_col = np.zeros(n_rows)
        if orientation == "in":
            lower[:m], upper[:m] = -INF, 0.0
            lower[m : m + n] = y[o]
            score_col[:m] = -x[o]
        else:
            lower[:m], upper[:m] = -INF, x[o]
            score_col[m : m + n] = -y[o]
        if rts != "crs":
            lower[-1], upper[-1] = RTS_ROW_BOUNDS[rts]
        lp.row_lower_, lp.row_upper_ = lower, upper
        dense = np.vstack([score_col, block]).T  # rows x (k + 1) columns
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(0, (k + 2) * n_rows, n_rows, dtype=np.int32)
        lp.a_matrix_.index_ = np.tile(np.arange(n_rows, dtype=np.int32), k + 1)
        lp.a_matrix_.value_ = dense.T.ravel()
        lp.sense_ = (
            highspy.ObjSense.kMinimize if orientation == "in" else highspy.ObjSense.kMaximize
        )
        h.passModel(lp)
        h.run()
        if model_status(h) == OPTIMAL:
            out[pos] = h.getInfo().objective_function_value
    return out
