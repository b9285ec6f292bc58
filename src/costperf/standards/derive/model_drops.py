"""Leave-one-out of the cost-model rules by exact updates instead of one refit per drop.

OLS: with ``X = QR`` the leverages ``h = diag(H)`` and ``G = X (X'X)^-1`` give every
drop's coefficients at once (Sherman-Morrison):
``beta(-j) = beta - G[j] e[j] / (1 - h[j])``. The lognormal retransform has its exact
identity too, ``SSE(-j) = SSE - e[j]^2 / (1 - h[j])``. The smearing factor (a mean of
``exp`` of the residuals, which has none) and mean predictions are sums over the rows
of ``exp(x[k] beta(-j))``: computed from those coefficients in blocks of drops, with no
refit: O(n^2 p) flops, but a few matrix operations per block of 512 drops.

Quantile regression: the base fit is a vertex through ``p`` observations. Dropping any
other observation keeps it the unique optimum when the subgradient condition of
Koenker (2005, Thm 2.1) still holds strictly on the reduced data; that condition moves
by one rank-one term per drop, so it is checked for all drops at once. Up to
:data:`RQ_EXACT_MAX` observations the drops that fail it, or drop a basis
observation, are refitted by the rule's own LP from scratch
(:func:`~costperf.benchmark.costmodel.rq_coefficients`), so the numbers are those of
the rule on the reduced data even where its optimum is not unique. Above it, every
drop is walked from the base vertex by simplex steps
(:func:`~costperf.benchmark.costmodel.quantile_drops.rq_drop_fits`: drops that take
the same step share each vertex, so a vertex is factorised once for all of them), and
only the few it leaves (the basis observations, degenerate vertices) go to a
warm-started dual LP (:class:`~costperf.benchmark.costmodel.quantile.WarmRQ`). Where
the optimum without the peer is unique this is the same vertex; where it is not (e.g.
a cell whose count times tau is a whole number), it is a vertex of the same optimal
face, with the same check loss, which may differ from the one a solve from scratch
lands on. A drop whose reduced design loses rank gives NaN; the rank is decided as
``numpy.linalg.matrix_rank`` decides it, by a leverage bound (:func:`full_rank_without`)
with an SVD only where the bound is not clear.

The cells' median drivers without the dropped peer come from each cell's sorted
drivers, and every point goes through the formula's design in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.standards.derive.drops import medians_without
from costperf.standards.derive.rules import RuleSpec

#: drops per block in the O(n^2) sums (bounds the memory to n x BLOCK floats)
BLOCK = 512
#: quantile regression on up to this many observations refits every drop it cannot
#: certify from scratch (the rule's own LP: the same vertex even where the optimum is
#: not unique); above it, by the warm-started working-set LP (:class:`WarmRQ`)
RQ_EXACT_MAX = 1000
#: above it, simplex steps per drop from the base vertex before the LP is used instead
RQ_STEPS = 60


def model_drop_grid(peers, dims, spec: RuleSpec, params, grid_of=None) -> pd.DataFrame:  # noqa: ANN001
    """Leave-one-out grid of ``regression`` / ``quantile_regression`` (see the module
    docstring); equal to :func:`~costperf.standards.derive.models.regression_drop_grid`
    (checked in the tests). With Cook's-distance screening, which must be redone per
    drop, the rule is recomputed per drop."""
    from costperf.benchmark.costmodel import fit_cost_model
    from costperf.standards.derive.drops import cell_codes, grid_frame
    from costperf.standards.derive.models import case_formula, fit_rule_model, model_columns

    if params["model_outliers"] != "none":
        from costperf.standards.derive.sensitivity import refit_drop_grid

        return refit_drop_grid(peers, dims, spec, params, grid_of)
    formula = case_formula(str(params["formula"]), dims)
    used = ~peers[model_columns(peers, formula)].isna().any(axis=1).to_numpy()
    data = peers[used].reset_index(drop=True)
    model = fit_rule_model(data, formula, spec, params)
    ols = model if spec.kind == "regression" else fit_cost_model(data, formula)
    X, y = ols.result.exog, ols.result.endog
    n, p = X.shape
    keys, code_all = cell_codes(peers, dims)
    code = code_all[used]
    log = bool(model.spec.log_response)
    if spec.kind == "regression":
        beta, factor, ok = ols_drops(X, y, params["retransform"], log=log)
    else:
        beta, ok = rq_drops(X, y, float(params["tau"]))
        factor = np.ones(n + 1)
    if params["at"] == "mean_prediction":
        value = _mean_predictions(X, y, beta, factor, code, len(keys), log)
    else:
        value = _median_driver_values(data, dims, keys, code, model, beta, factor, log)
    value[~ok] = np.nan
    rows = np.zeros(len(peers), dtype=int)
    rows[used] = 1 + np.arange(n)
    ids = peers[params["id"]].astype(str).to_numpy()
    return grid_frame(dims, keys, ids, value[rows], code_all)


def ols_drops(
    X: np.ndarray, y: np.ndarray, retransform: str, *, log: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """OLS coefficients with nothing dropped (row 0) and each row dropped (row 1 + j),
    the retransform factors and which fits exist (full rank, more rows than columns)."""
    n, p = X.shape
    Q, R = np.linalg.qr(X)
    beta0 = np.linalg.solve(R, Q.T @ y)
    e = y - X @ beta0
    h = np.einsum("ij,ij->i", Q, Q)
    G = np.linalg.solve(R, Q.T).T
    ok = np.r_[True, (1.0 - h > 1e-10) & (n - 1 > p)]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(ok[1:], e / (1.0 - h), 0.0)
    beta = np.vstack([beta0, beta0[None, :] - G * d[:, None]])
    factor = np.ones(n + 1)
    if log and retransform == "smearing":
        factor[0] = float(np.mean(np.exp(e)))
        for block in _blocks(n):
            terms = np.exp(y[:, None] - X @ beta[1 + block].T)  # residuals without j
            terms[block, np.arange(len(block))] = 0.0
            factor[1 + block] = terms.sum(axis=0) / (n - 1)
    elif log:
        sse = float(e @ e)
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = (sse - np.where(ok[1:], e**2 / (1.0 - h), 0.0)) / (n - 1 - p)
        factor = np.exp(np.r_[sse / (n - p), loo] / 2)
    return beta, factor, ok


def rq_drops(X: np.ndarray, y: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
    """Quantile-regression coefficients with nothing dropped (row 0) and each row
    dropped (row 1 + j), and which fits exist; see the module docstring."""
    from costperf.benchmark.costmodel import rq_coefficients
    from costperf.benchmark.costmodel.quantile import WarmRQ
    from costperf.benchmark.costmodel.quantile_drops import OPTIMAL, UNIQUE, rq_drop_fits

    n, p = X.shape
    b0 = rq_coefficients(X, y, tau)
    beta = np.tile(b0, (n + 1, 1))
    ok = np.ones(n + 1, dtype=bool)
    exact = n <= RQ_EXACT_MAX  # walk no further than the base vertex's certificate
    fits, state = rq_drop_fits(X, y, tau, b0, steps=0 if exact else RQ_STEPS)
    found = (state == UNIQUE) | ((state == OPTIMAL) & (not exact))
    beta[1:][found] = fits[found]
    refit = np.flatnonzero(~found)
    full = full_rank_without(X, refit) if n - 1 > p else np.zeros(len(refit), dtype=bool)
    warm = WarmRQ(X, y, tau) if not exact and full.any() else None
    for j in refit[~full]:
        ok[1 + j] = False
    for j in refit[full]:
        keep = np.arange(n) != j
        got = None if warm is None else warm.without(int(j))
        beta[1 + j] = rq_coefficients(X[keep], y[keep], tau) if got is None else got
    return beta, ok


def full_rank_without(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each of ``rows``, whether ``X`` without it has full column rank, as
    ``numpy.linalg.matrix_rank`` decides it. A row of leverage ``h`` leaves the smallest
    singular value at least ``s_min sqrt(1 - h)`` (``X'X - x'x``), and the reduced
    matrix's rank tolerance is at most ``X``'s; the SVD of the reduced matrix is taken
    only where that bound does not clear the tolerance by a wide margin."""
    n, p = X.shape
    out = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return out
    s = np.linalg.svd(X, compute_uv=False)
    Q, _ = np.linalg.qr(X)
    h = np.einsum("ij,ij->i", Q[rows], Q[rows])
    tol = s[0] * max(n, p) * np.finfo(float).eps
    sure = (1.0 - h > 1e-6) & (s[-1] ** 2 * (1.0 - h) > (16.0 * tol) ** 2)
    out[sure] = True
    for i in np.flatnonzero(~sure):
        out[i] = np.linalg.matrix_rank(np.delete(X, rows[i], axis=0)) == p
    return out


def _blocks(n: int) -> list[np.ndarray]:
    return [np.arange(s, min(s + BLOCK, n)) for s in range(0, n, BLOCK)]


def _mean_predictions(X, y, beta, factor, code, cells: int, log: bool) -> np.ndarray:  # noqa: ANN001
    """Mean predicted unit cost of each cell's peers (the dropped one left out)."""
    n = len(X)
    member = (code[None, :] == np.arange(cells)[:, None]).astype(float)  # cells x n
    cost = (lambda f: np.exp(f)) if log else (lambda f: f)  # noqa: E731
    value = np.full((n + 1, cells), np.nan)
    counts = member.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        value[0] = factor[0] * (member @ cost(X @ beta[0])) / counts
        for block in _blocks(n):
            terms = cost(X @ beta[1 + block].T)
            terms[block, np.arange(len(block))] = 0.0
            left = counts[:, None] - member[:, block]
            value[1 + block] = (factor[1 + block][None, :] * (member @ terms) / left).T
    return value


def _median_driver_values(data, dims, keys, code, model, beta, factor, log: bool) -> np.ndarray:  # noqa: ANN001
    """Predicted unit cost at each cell's median drivers, for every drop."""
    import patsy

    n, cells = len(data), len(keys)
    columns = [*model.spec.numeric, *model.spec.categorical]
    base, own, has_own = _driver_points(data, dims, keys, code, model, columns)
    frame = pd.DataFrame(base + own, columns=columns)
    (design,) = patsy.build_design_matrices(
        [model.spec.design_info], frame, NA_action=patsy.NAAction(NA_types=[])
    )
    Xp = np.asarray(design, dtype=float)[:, model.spec.order]
    Xb, Xo = Xp[:cells], Xp[cells:]
    cost = (lambda f, k: np.exp(f) * k) if log else (lambda f, k: f)  # noqa: E731
    filled = np.bincount(code, minlength=cells) > 0
    value = cost(beta @ Xb.T, factor[:, None])
    value[:, ~filled] = np.nan
    mine = cost(np.einsum("ij,ij->i", beta[1:], Xo), factor[1:])
    value[1 + np.arange(n), code] = np.where(has_own, mine, np.nan)
    return value


def _driver_points(data, dims: Sequence[str], keys, code, model, columns):  # noqa: ANN001, ANN202
    """Each cell's median drivers (its dimension levels; the mode of other factors),
    then each row's cell's drivers without that row; and whether that cell keeps a row.
    A cell without rows gets another cell's point (its value is NaN)."""
    n = len(data)
    base: list[dict | None] = []
    own = [dict.fromkeys(columns) for _ in range(n)]
    for c, key in enumerate(keys):
        rows = np.flatnonzero(code == c)
        if not len(rows):
            base.append(None)
            continue
        point = {}
        for column in columns:
            if column in dims:
                point[column] = key[list(dims).index(column)]
                mine = [point[column]] * len(rows)
            elif column in model.spec.numeric:
                values = pd.to_numeric(data[column]).to_numpy(dtype=float)[rows]
                point[column], mine = medians_without(values)
            else:
                point[column], mine = _modes_without(data[column].to_numpy(dtype=object)[rows])
            for i, v in zip(rows, mine, strict=True):
                own[i][column] = v
        base.append(point)
    spare = next(p for p in base if p is not None)
    base = [spare if p is None else p for p in base]
    has_own = np.bincount(code, minlength=len(keys))[code] > 1
    for i in np.flatnonzero(~has_own):
        own[i] = base[code[i]]
    return base, own, has_own


def _modes_without(levels: np.ndarray) -> tuple[object, list[object]]:
    """The mode of ``levels`` (the first in sorted order, as pandas) and, for each
    position, the mode without it."""
    mode = pd.Series(levels).mode().iloc[0]
    modes: dict[object, object] = {}
    for level in dict.fromkeys(levels):
        rest = np.delete(levels, np.flatnonzero(levels == level)[0])
        modes[level] = pd.Series(rest).mode().iloc[0] if len(rest) else level
    return mode, [modes[level] for level in levels]
