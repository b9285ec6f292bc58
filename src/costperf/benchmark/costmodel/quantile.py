"""Step 3b, quantile regression: the exact LP fit (R ``rq`` 'br'), check loss and
subgradient, R's bandwidths and the ``summary.rq`` covariances (iid, nid, ker)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.costmodel.design import Design
from costperf.benchmark.costmodel.formula import Formula
from costperf.benchmark.costmodel.model import SE_LABELS, CostModel
from costperf.benchmark.costmodel.results import coefficient_table, model_spec
from costperf.errors import InputError

_SQRT_EPS = float(np.sqrt(np.finfo(float).eps))  # quantreg's eps in summary.rq
_NORM_PDF_C = np.sqrt(2 * np.pi)  # scipy.stats' _norm_pdf_C


def rq_coefficients(X: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """Exact quantile-regression coefficients (an optimal LP vertex, as R ``rq`` 'br').

    Solves Koenker's dual LP ``max y'a s.t. X'a = (1 - tau) X'1, 0 <= a <= 1`` with the
    HiGHS dual simplex; its equality duals are the coefficients. The vertex is then
    recomputed from the ``p`` observations it interpolates, to full precision.
    """
    return rq_vertex(X, y, tau, _dual_lp_coefficients(X, y, tau))


def _dual_lp_coefficients(X: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    """The dual LP in highspy, posed and solved as ``scipy.optimize.linprog(-y, A_eq=X.T,
    b_eq=(1 - tau) X'1, bounds=(0, 1), method="highs-ds", options={"presolve": False})``
    poses it (the same sparse columns and options: dual simplex, no presolve, which is
    3x faster here), without importing scipy.optimize (0.2 s). Equal to linprog's duals
    in the tests, degenerate problems included."""
    import highspy

    from costperf.solvers import quiet_highs

    n, p = X.shape
    obs, params = np.nonzero(X)  # row-major: the nonzeros of X' column by column
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, p
    lp.col_cost_ = -np.asarray(y, dtype=float)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_ = lp.row_upper_ = (1.0 - tau) * X.sum(axis=0)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.r_[0, np.cumsum(np.count_nonzero(X, axis=1))].astype(np.int32)
    lp.a_matrix_.index_ = params.astype(np.int32)
    lp.a_matrix_.value_ = np.asarray(X[obs, params], dtype=float)
    h = quiet_highs(presolve="off", solver="simplex", simplex_strategy=1)  # 1: dual
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:  # the LP is always feasible and bounded
        msg = f"quantile-regression LP failed: {h.modelStatusToString(status)}"
        raise RuntimeError(msg)
    return -np.asarray(h.getSolution().row_dual, dtype=float)


def rq_vertex(X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray) -> np.ndarray:
    """The LP's coefficients recomputed from the ``p`` observations they interpolate
    (when that is no worse in check loss), to full precision."""
    basis = np.argsort(np.abs(y - X @ coef), kind="stable")[: X.shape[1]]
    if np.linalg.matrix_rank(X[basis]) == X.shape[1]:
        vertex = np.linalg.solve(X[basis], y[basis])
        if check_loss(y - X @ vertex, tau) <= check_loss(y - X @ coef, tau) * (1 + 1e-12):
            return vertex
    return coef


class WarmRQ:
    """Koenker's dual LP of one data set kept in HiGHS, to refit with one observation
    left out, warm-started from the last optimal basis, on a working set.

    Leaving observation ``j`` out fixes its dual variable at 0 and moves the right-hand
    side by ``(1 - tau) x_j``; the dual simplex then needs a few pivots. Only the
    ``working`` observations nearest the full fit are LP columns: the others keep their
    dual value (0 or 1, the side of the fit they lie on) folded into the right-hand side
    (Portnoy and Koenker's 1997 "globbing"). A refit is accepted only if every
    observation outside the working set stays on its side of the new fit (then the
    restricted optimum satisfies the optimality conditions of the whole problem);
    otherwise :meth:`without` returns None.

    Where the optimum without ``j`` is unique, the result is the vertex
    :func:`rq_coefficients` finds on that data; where it is not (a degenerate problem),
    it is an optimal vertex with the same check loss, possibly another one.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, tau: float, *, working: int = 400) -> None:
        import highspy

        from costperf.solvers import quiet_highs

        self.X, self.y, self.tau = X, y, tau
        n, p = X.shape
        coef = rq_coefficients(X, y, tau)
        r = y - X @ coef
        near = np.argsort(np.abs(r), kind="stable")[: min(n, max(working, 4 * p))]
        self.inside = np.zeros(n, dtype=bool)
        self.inside[near] = True
        self.column = np.full(n, -1)
        self.column[near] = np.arange(len(near))
        self.dual = (r > 0).astype(float)  # outside the working set: 1 above the fit
        out = ~self.inside
        self.rhs = (1.0 - tau) * X.sum(axis=0) - X[out].T @ self.dual[out]
        self.rows = np.arange(p, dtype=np.int32)
        k = len(near)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k, p
        lp.col_cost_ = -np.asarray(y[near], dtype=float)
        lp.col_lower_, lp.col_upper_ = np.zeros(k), np.ones(k)
        lp.row_lower_ = lp.row_upper_ = self.rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(0, k * p + 1, p, dtype=np.int32)
        lp.a_matrix_.index_ = np.tile(self.rows, k)
        lp.a_matrix_.value_ = np.ascontiguousarray(X[near], dtype=float).ravel()
        self.h = quiet_highs(presolve="off")
        self.h.passModel(lp)
        self.h.run()

    def without(self, j: int) -> np.ndarray | None:
        """Coefficients of the fit without observation ``j``, or None when an
        observation outside the working set would change side (see the class)."""
        import highspy

        h, X, y = self.h, self.X, self.y
        rhs = self.rhs - (1.0 - self.tau) * X[j]
        if self.inside[j]:
            h.changeColBounds(int(self.column[j]), 0.0, 0.0)
        else:
            rhs = rhs + self.dual[j] * X[j]
        h.changeRowsBounds(len(self.rows), self.rows, rhs, rhs)
        h.run()
        optimal = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        coef = -np.asarray(h.getSolution().row_dual, dtype=float)
        if self.inside[j]:
            h.changeColBounds(int(self.column[j]), 0.0, 1.0)
        h.changeRowsBounds(len(self.rows), self.rows, self.rhs, self.rhs)
        if not optimal:
            return None
        keep = np.arange(len(X)) != j
        near = self.inside & keep  # the basis lies in the working set
        vertex = rq_vertex(X[near], y[near], self.tau, coef)
        out = ~self.inside & keep
        r = y[out] - X[out] @ vertex
        above = self.dual[out] == 1.0
        if np.any(above & (r < 0)) or np.any(~above & (r > 0)):
            return None
        return vertex


def check_loss(residuals: np.ndarray, tau: float) -> float:
    """Koenker-Bassett objective: sum of rho_tau(u) = u * (tau - 1[u < 0])."""
    u = np.asarray(residuals, dtype=float)
    return float(np.sum(u * (tau - (u < 0))))


def rq_subgradient(X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray) -> np.ndarray | None:
    """Koenker (2005, Thm 2.1) xi(h); optimal iff -tau <= xi <= 1 - tau, unique if strict.

    Returns None when the solution is degenerate (not exactly p zero residuals).
    """
    r = y - X @ coef
    zero = np.abs(r) <= 1e-9 * max(1.0, float(np.max(np.abs(y))))
    if zero.sum() != X.shape[1] or np.linalg.matrix_rank(X[zero]) < X.shape[1]:
        return None
    psi = np.where(zero, 0.0, tau - (r < 0))
    return np.linalg.solve(X[zero].T, X.T @ psi)


def norm_ppf(q: float | np.ndarray) -> float | np.ndarray:
    """Standard normal quantile: ``scipy.special.ndtri``, what ``scipy.stats.norm.ppf``
    calls (-inf at 0, inf at 1), without importing scipy.stats (0.5 s)."""
    from scipy.special import ndtri

    return ndtri(q)


def norm_pdf(x: float | np.ndarray) -> float | np.ndarray:
    """Standard normal density, written as ``scipy.stats.norm.pdf`` computes it."""
    return np.exp(-(x**2) / 2.0) / _NORM_PDF_C


def bandwidth_rq(tau: float, n: int, *, hs: bool = True, alpha: float = 0.05) -> float:
    """R quantreg ``bandwidth.rq``: Hall-Sheather (``hs``) or Bofinger bandwidth."""
    x0 = norm_ppf(tau)
    f0 = norm_pdf(x0)
    if hs:
        return float(
            n ** (-1 / 3)
            * norm_ppf(1 - alpha / 2) ** (2 / 3)
            * ((1.5 * f0**2) / (2 * x0**2 + 1)) ** (1 / 3)
        )
    return float(n**-0.2 * ((4.5 * f0**4) / (2 * x0**2 + 1) ** 2) ** 0.2)


def _rq_cov(
    X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray, se: str, *, what: str
) -> tuple[np.ndarray, dict]:
    """Covariance of rq coefficients as in R quantreg ``summary.rq`` (hs = TRUE)."""
    if se == "iid":
        return _rq_cov_iid(X, y, tau, coef, what=what)
    n = len(y)
    h = bandwidth_rq(tau, n)
    while tau - h < 0 or tau + h > 1:
        h /= 2
    if se == "nid":
        dyhat = X @ (rq_coefficients(X, y, tau + h) - rq_coefficients(X, y, tau - h))
        f = np.maximum(0.0, (2 * h) / (dyhat - _SQRT_EPS))
        info = {"bandwidth": h, "nonpositive_density": int((dyhat <= 0).sum())}
    else:  # ker: Powell's kernel estimate with a Gaussian kernel
        u = y - X @ coef
        q75, q25 = np.quantile(u, [0.75, 0.25])
        h = (norm_ppf(tau + h) - norm_ppf(tau - h)) * min(np.std(u, ddof=1), (q75 - q25) / 1.34)
        f = norm_pdf(u / h) / h
        info = {"bandwidth": float(h)}
    hessian = X.T @ (f[:, None] * X)
    if np.linalg.matrix_rank(hessian) < X.shape[1]:
        msg = (
            f"{what}: se_quantile={se!r} estimates a zero density for too many rows; "
            f"use se_quantile='iid' or more data"
        )
        raise InputError(msg)
    hinv = np.linalg.inv(hessian)
    return tau * (1 - tau) * hinv @ (X.T @ X) @ hinv, info


def _rq_cov_iid(
    X: np.ndarray, y: np.ndarray, tau: float, coef: np.ndarray, *, what: str
) -> tuple[np.ndarray, dict]:
    n, p = X.shape
    resid = y - X @ coef
    pz = int((np.abs(resid) < _SQRT_EPS).sum())
    h = max(p + 1, int(np.ceil(n * bandwidth_rq(tau, n))))
    ir = np.arange(pz + 1, h + pz + 2)  # R's 1-based (pz + 1):(h + pz + 1)
    if ir[-1] > n:
        msg = (
            f"{what}: se_quantile='iid' needs more than {ir[-1] - 1} rows for tau={tau} "
            f"(has {n}); use se_quantile='nid' or 'ker'"
        )
        raise InputError(msg)
    ord_resid = np.sort(resid[np.argsort(np.abs(resid), kind="stable")][ir - 1])
    xt = np.column_stack([np.ones(len(ir)), ir / (n - p)])
    sparsity = float(rq_coefficients(xt, ord_resid, 0.5)[1])
    cov = sparsity**2 * np.linalg.inv(X.T @ X) * tau * (1 - tau)
    return cov, {"sparsity": sparsity}


def fit_quantile(
    design: Design, parsed: Formula, tau: float, se: str, alpha: float, *, what: str
) -> CostModel:
    X, y = design.X, design.y
    n, p = X.shape
    coef = rq_coefficients(X, y, tau)
    cov, info = _rq_cov(X, y, tau, coef, se, what=what)
    label = SE_LABELS[se]
    table = coefficient_table(design.names, coef, np.sqrt(np.diag(cov)), n - p, alpha, label)
    xi = rq_subgradient(X, y, tau, coef)
    unique = None if xi is None else bool(np.all(xi > -tau + 1e-9) and np.all(xi < 1 - tau - 1e-9))
    objective = check_loss(y - X @ coef, tau)
    null = check_loss(y - np.sort(y)[int(np.ceil(n * tau)) - 1], tau)
    loglik = n * (np.log(tau * (1 - tau)) - 1 - np.log(objective / n)) if objective > 0 else np.inf
    fit = {
        "method": "quantile",
        "tau": tau,
        "n": n,
        "n_params": p,
        "df_resid": n - p,
        "objective": objective,
        "pseudo_r2": 1.0 - objective / null if null > 0 else float("nan"),
        "solution_unique": unique,
        "loglik": float(loglik),
        "aic": float(-2 * loglik + 2 * p),
        "bic": float(-2 * loglik + np.log(n) * p),
        "se": se,
        "se_method": label,
        **info,
    }
    spec = model_spec(design, parsed, np.linalg.inv(X.T @ X))
    return CostModel(
        parsed.text,
        "quantile",
        tau,
        se,
        table,
        fit,
        pd.DataFrame(cov, index=design.names, columns=design.names),
        None,
        spec,
    )
