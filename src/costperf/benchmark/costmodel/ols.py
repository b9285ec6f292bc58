"""Step 3a, OLS: the QR fit with R-equivalent covariances (classical, HC0-HC3, cluster;
:mod:`~costperf.benchmark.costmodel.lsq`), the leverage check for HC2/HC3 and R's
summary.lm / logLik.lm figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.costmodel.design import Design
from costperf.benchmark.costmodel.formula import Formula, where_of
from costperf.benchmark.costmodel.lsq import least_squares
from costperf.benchmark.costmodel.model import SE_LABELS, CostModel
from costperf.benchmark.costmodel.results import coefficient_table, model_spec
from costperf.errors import raise_if_problems
from costperf.schemas import row_problems


def fit_ols(
    design: Design,
    parsed: Formula,
    se: str,
    groups: np.ndarray | None,
    cluster: str | None,
    alpha: float,
) -> CostModel:
    if se in ("HC2", "HC3"):
        _check_leverage(design, se)
    result = least_squares(design.X, design.y, se, groups)
    label = SE_LABELS.get(se, "")
    if se == "cluster":
        label = (
            f"cluster by '{cluster}', {groups.max() + 1} clusters (R sandwich::vcovCL("
            f"type = 'HC1', cadjust = TRUE); CRV1)"
        )
    table = coefficient_table(
        design.names, result.params, np.sqrt(np.diag(result.cov)), result.df_resid, alpha, label
    )
    fit = _ols_fit_stats(design, result.resid, se, label)
    if se == "cluster":
        fit.update(cluster=cluster, n_clusters=int(groups.max() + 1))
    spec = model_spec(design, parsed, result.xtx_inv)
    return CostModel(
        parsed.text,
        "ols",
        None,
        se,
        table,
        fit,
        pd.DataFrame(result.cov, index=design.names, columns=design.names),
        result,
        spec,
    )


def _check_leverage(design: Design, se: str) -> None:
    """HC2/HC3 divide by 1 - leverage: a row that alone fixes a coefficient makes it 0."""
    q, _ = np.linalg.qr(design.X)
    one = pd.Series((q**2).sum(axis=1) > 1 - 1e-8, index=design.work.index)
    expected = (
        f"a row that does not alone determine a coefficient (its leverage is 1, so {se} is "
        f"undefined, as in R); use se='HC0' or 'HC1', or drop the row or the level"
    )
    raise_if_problems(
        row_problems(design.work, one, "", expected, "leverage_one"),
        f"{where_of(design.work)} (se={se!r})",
    )


def _ols_fit_stats(design: Design, resid: np.ndarray, se: str, label: str) -> dict:
    """R's summary.lm / logLik.lm figures (R-squared uncentred without an intercept)."""
    n, k = design.X.shape
    y = design.y
    intercept = "Intercept" in design.names
    ssr = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum() if intercept else (y**2).sum())
    r2 = 1.0 - ssr / tss if tss > 0 else float("nan")
    loglik = -0.5 * n * (np.log(2 * np.pi) + 1.0 - np.log(n) + np.log(ssr))
    return {
        "method": "ols",
        "n": n,
        "n_params": k,
        "df_resid": n - k,
        "r2": r2,
        "adj_r2": 1.0 - (1.0 - r2) * (n - int(intercept)) / (n - k),
        "sigma": float(np.sqrt(ssr / (n - k))),
        "ssr": ssr,
        "loglik": float(loglik),
        "aic": float(-2 * loglik + 2 * (k + 1)),
        "bic": float(-2 * loglik + np.log(n) * (k + 1)),
        "smearing_factor": float(np.mean(np.exp(resid))),
        "se": se,
        "se_method": label,
    }
