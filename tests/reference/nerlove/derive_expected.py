"""Derive ``expected_derived.csv`` for the Nerlove reference tests, independently of costperf.

Uses numpy and scipy only (no costperf, no statsmodels, no patsy):

* OLS from the normal equations (Cholesky); standard errors from the sandwich formulas
  written out: HC0..HC3 as R ``sandwich::vcovHC``, cluster as ``sandwich::vcovCL(type =
  "HC1", cadjust = TRUE)`` with clusters = Nerlove's five output-size groups (the first
  digit of the firm code);
* quantile regression from the *primal* LP ``min tau 1'u + (1 - tau) 1'v`` s.t.
  ``X b + u - v = y`` (costperf solves the dual), the vertex recomputed from the ``p``
  interpolated observations; standard errors by a transcription of R quantreg's
  ``summary.rq`` (se = "iid", "nid", "ker"; hs = TRUE).

Run from the repository root: ``python tests/reference/nerlove/derive_expected.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.optimize import linprog

HERE = Path(__file__).parent
TERMS = ["(Intercept)", "log(output)", "log(labor)", "log(fuel)", "log(capital)"]


def nerlove_design() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = pd.read_csv(HERE / "nerlove1963.csv")
    logs = np.log(data[["output", "labor", "fuel", "capital"]].to_numpy(float))
    X = np.column_stack([np.ones(len(data)), logs])
    return X, np.log(data["cost"].to_numpy(float)), (data["firm"] // 100).to_numpy()


def ols(X: np.ndarray, y: np.ndarray, se_type: str, groups: np.ndarray) -> tuple:
    n, k = X.shape
    chol = np.linalg.cholesky(X.T @ X)
    bread = np.linalg.inv(chol.T) @ np.linalg.inv(chol)
    b = bread @ (X.T @ y)
    e = y - X @ b
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    if se_type == "nonrobust":
        return b, e @ e / (n - k) * bread
    if se_type == "cluster":
        scores = np.array([X[groups == g].T @ e[groups == g] for g in np.unique(groups)])
        g_count = len(scores)
        meat = scores.T @ scores * g_count / (g_count - 1) * (n - 1) / (n - k)
        return b, bread @ meat @ bread
    omega = {
        "HC0": e**2,
        "HC1": e**2 * n / (n - k),
        "HC2": e**2 / (1 - h),
        "HC3": e**2 / (1 - h) ** 2,
    }[se_type]
    return b, bread @ (X.T * omega) @ X @ bread


def rq(X: np.ndarray, y: np.ndarray, tau: float) -> np.ndarray:
    n, p = X.shape
    eye = sparse.identity(n, format="csr")
    a_eq = sparse.hstack([sparse.csr_matrix(X), eye, -eye], format="csr")
    cost = np.concatenate([np.zeros(p), np.full(n, tau), np.full(n, 1 - tau)])
    bounds = [(None, None)] * p + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    b = res.x[:p]
    basis = np.argsort(np.abs(y - X @ b))[:p]
    return np.linalg.solve(X[basis], y[basis])


def bandwidth(tau: float, n: int) -> float:  # quantreg bandwidth.rq(hs = TRUE)
    x0 = stats.norm.ppf(tau)
    f0 = stats.norm.pdf(x0)
    return (
        n ** (-1 / 3)
        * stats.norm.ppf(0.975) ** (2 / 3)
        * (1.5 * f0**2 / (2 * x0**2 + 1)) ** (1 / 3)
    )


def rq_cov(X: np.ndarray, y: np.ndarray, tau: float, b: np.ndarray, se_type: str) -> np.ndarray:
    n, p = X.shape
    eps = np.finfo(float).eps ** 0.5
    resid = y - X @ b
    if se_type == "iid":
        pz = np.sum(np.abs(resid) < eps)
        h = max(p + 1, int(np.ceil(n * bandwidth(tau, n))))
        ir = np.arange(pz + 1, h + pz + 2)
        ord_resid = np.sort(resid[np.argsort(np.abs(resid), kind="stable")][ir - 1])
        sparsity = rq(np.column_stack([np.ones(len(ir)), ir / (n - p)]), ord_resid, 0.5)[1]
        return sparsity**2 * np.linalg.inv(X.T @ X) * tau * (1 - tau)
    h = bandwidth(tau, n)
    while tau - h < 0 or tau + h > 1:
        h /= 2
    if se_type == "nid":
        dyhat = X @ (rq(X, y, tau + h) - rq(X, y, tau - h))
        f = np.maximum(0, 2 * h / (dyhat - eps))
    else:
        iqr = np.subtract(*np.quantile(resid, [0.75, 0.25]))
        h = (stats.norm.ppf(tau + h) - stats.norm.ppf(tau - h)) * min(
            np.std(resid, ddof=1), iqr / 1.34
        )
        f = stats.norm.pdf(resid / h) / h
    hinv = np.linalg.inv(X.T @ (f[:, None] * X))
    return tau * (1 - tau) * hinv @ (X.T @ X) @ hinv


def main() -> None:
    X, y, groups = nerlove_design()
    rows = []
    for se_type in ["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"]:
        b, cov = ols(X, y, se_type, groups)
        rows += [
            ("ols", "", se_type, t, c, s)
            for t, c, s in zip(TERMS, b, np.sqrt(np.diag(cov)), strict=True)
        ]
    for tau in (0.25, 0.5):
        b = rq(X, y, tau)
        for se_type in ["iid", "nid", "ker"]:
            se = np.sqrt(np.diag(rq_cov(X, y, tau, b, se_type)))
            rows += [("rq", tau, se_type, t, c, s) for t, c, s in zip(TERMS, b, se, strict=True)]
    out = pd.DataFrame(rows, columns=["model", "tau", "se_type", "term_r", "coef", "se"])
    out.to_csv(HERE / "expected_derived.csv", index=False, float_format="%.15g")


if __name__ == "__main__":
    main()
