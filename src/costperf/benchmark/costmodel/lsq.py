"""Least squares in numpy: the QR fit, the classical, HC0-HC3 and cluster (CRV1)
covariances and Cook's distance.

Each figure is computed with the same numpy operations, in the same order, as
statsmodels 0.14/0.15 ``OLS(y, X).fit(method="qr", cov_type=...)`` and
``get_influence().cooks_distance`` (checked in the tests, where statsmodels is the
oracle): importing statsmodels and scipy.stats would cost a case run about 0.6 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class OlsFit:
    """A fitted least-squares regression ``y = X b + e``.

    Attributes
    ----------
    exog, endog
        The design matrix X (n x k) and the response y (n).
    params
        Coefficients b, by QR: ``solve(R, Q'y)``.
    resid, fitted
        ``y - X b`` and ``X b``.
    xtx_inv
        ``(X'X)^-1`` as ``inv(R'R)`` (statsmodels' ``normalized_cov_params``).
    pinv_exog
        Moore-Penrose pseudo-inverse of X (k x n), the bread of the HC sandwiches.
    df_resid
        Residual degrees of freedom ``n - k`` (the design is checked full rank first).
    scale
        ``e'e / df_resid``.
    cov_type, cov
        The covariance type (``nonrobust``, ``HC0``..``HC3``, ``cluster``) and the
        coefficients' covariance matrix of that type.
    n_groups
        Number of clusters (``cluster`` only, else None).
    row_labels
        Labels of the rows (a RangeIndex: positions in the fitted data).
    """

    exog: np.ndarray = field(repr=False)
    endog: np.ndarray = field(repr=False)
    params: np.ndarray
    resid: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    xtx_inv: np.ndarray = field(repr=False)
    pinv_exog: np.ndarray = field(repr=False)
    df_resid: float
    scale: float
    cov_type: str
    cov: np.ndarray = field(repr=False)
    n_groups: int | None
    row_labels: pd.Index = field(repr=False)

    @property
    def nobs(self) -> int:
        return self.exog.shape[0]

    def hat_diagonal(self) -> np.ndarray:
        """Leverages h_i, the diagonal of ``X pinv(X)``."""
        return (self.exog * self.pinv_exog.T).sum(1)

    def cooks_distance(self) -> np.ndarray:
        """Cook's distance ``D_i = e_i^2 h_i / (k s^2 (1 - h_i)^2)``; inf or NaN where
        ``h_i = 1`` (the fit passes through the row)."""
        h = self.hat_diagonal()
        with np.errstate(divide="ignore", invalid="ignore"):
            studentized = self.resid / np.sqrt(self.scale) / np.sqrt(1 - h)
            distance = studentized**2 / self.exog.shape[1]
            distance *= h / (1 - h)
        return distance


def least_squares(
    X: np.ndarray, y: np.ndarray, cov_type: str = "nonrobust", groups: np.ndarray | None = None
) -> OlsFit:
    """Fit ``y = X b + e`` by QR, with the covariance ``cov_type``.

    Parameters
    ----------
    X
        Full-rank design matrix (n x k), n > k (not checked here).
    y
        Response (n).
    cov_type
        ``nonrobust`` (``s^2 (X'X)^-1``), ``HC0``..``HC3`` (White's sandwich with the
        weights 1, n/(n-k), 1/(1-h), 1/(1-h)^2 on e^2) or ``cluster`` (CRV1: score sums
        per cluster, times ``G/(G-1) * (n-1)/(n-k)``).
    groups
        Cluster codes 0..G-1 per row (``cluster`` only).

    Returns
    -------
    OlsFit
    """
    n, k = X.shape
    q, r = np.linalg.qr(X)
    xtx_inv = np.linalg.inv(np.dot(r.T, r))
    pinv = np.linalg.pinv(X)
    params = np.linalg.solve(r, np.dot(q.T, y))
    fitted = np.dot(X, params)
    resid = y - fitted
    df_resid = float(n - k)
    scale = np.dot(resid, resid) / df_resid
    n_groups = None
    if cov_type == "nonrobust":
        cov = xtx_inv * scale
    elif cov_type == "cluster":
        cov, n_groups = _cluster_cov(X, resid, xtx_inv, groups)
    else:
        cov = _hc_cov(X, resid, xtx_inv, pinv, cov_type, df_resid)
    return OlsFit(
        X,
        y,
        params,
        resid,
        fitted,
        xtx_inv,
        pinv,
        df_resid,
        float(scale),
        cov_type,
        cov,
        n_groups,
        pd.RangeIndex(n),
    )


def _hc_cov(
    X: np.ndarray,
    resid: np.ndarray,
    xtx_inv: np.ndarray,
    pinv: np.ndarray,
    cov_type: str,
    df_resid: float,
) -> np.ndarray:
    """``pinv(X) diag(w e^2) pinv(X)'`` (statsmodels ``cov_HC0``..``cov_HC3``)."""
    if cov_type == "HC0":
        weight = resid**2
    elif cov_type == "HC1":
        weight = float(X.shape[0]) / df_resid * resid**2
    elif cov_type in ("HC2", "HC3"):
        h = np.einsum("ij,ik,kj->i", X, X, xtx_inv)
        weight = resid**2 / (1 - h) if cov_type == "HC2" else (resid / (1 - h)) ** 2
    else:
        msg = f"unknown covariance type {cov_type!r}"
        raise ValueError(msg)
    return np.dot(pinv, weight[:, None] * pinv.T)


def _cluster_cov(
    X: np.ndarray, resid: np.ndarray, xtx_inv: np.ndarray, groups: np.ndarray | None
) -> tuple[np.ndarray, int]:
    """CRV1: ``(X'X)^-1 (sum_g s_g s_g') (X'X)^-1 * G/(G-1) * (n-1)/(n-k)`` with ``s_g``
    the sum of ``x_i e_i`` over cluster g (statsmodels ``cov_cluster``,
    ``use_correction=True``; R ``sandwich::vcovCL(type = "HC1", cadjust = TRUE)``)."""
    if groups is None:
        msg = "cov_type='cluster' needs groups"
        raise ValueError(msg)
    groups = np.asarray(groups)
    scores = X * resid[:, None]
    n, k = scores.shape
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        msg = f"cov_type='cluster' needs at least 2 clusters, got {n_groups}"
        raise ValueError(msg)
    sums = np.array([np.bincount(groups, weights=scores[:, j]) for j in range(k)]).T
    cov = np.dot(np.dot(xtx_inv, np.dot(sums.T, sums)), xtx_inv.T)
    cov *= n_groups / (n_groups - 1.0) * ((n - 1.0) / float(n - k))
    return cov, n_groups
