"""The fitted-model record (:class:`CostModel`, its prediction spec) and the option
names shared by the fitting and prediction steps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

OLS_SE_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")
QUANTILE_SE_TYPES = ("iid", "nid", "ker")
RETRANSFORMS = ("smearing", "lognormal")

SE_LABELS = {
    "nonrobust": "nonrobust (classical OLS; R summary(lm))",
    **{f"HC{k}": f"HC{k} (R sandwich::vcovHC(type = 'HC{k}'))" for k in range(4)},
    "iid": "iid (R quantreg summary.rq(se = 'iid'), Hall-Sheather bandwidth)",
    "nid": "nid (R quantreg summary.rq(se = 'nid'), Hall-Sheather bandwidth)",
    "ker": "ker (R quantreg summary.rq(se = 'ker'), Powell kernel)",
}


def se_words(fit: Mapping[str, object], lang: str = "zh") -> str:
    """A fit's standard-error method in words: ``labels.csv`` (kind ``se_method``) in
    Chinese, the library's own text (``fit["se_method"]``, as recorded) in English."""
    from costperf.labels import code_label

    if lang != "zh" or not fit.get("se"):
        return str(fit.get("se_method") or "")
    template = code_label("se_method", fit["se"], lang)  # {cluster} and {n} for clusters
    return template.format(cluster=fit.get("cluster"), n=fit.get("n_clusters"))


@dataclass(frozen=True, eq=False)
class ModelSpec:
    """What prediction needs to rebuild the design for new rows."""

    design_info: object  # patsy DesignInfo of the right-hand side
    order: np.ndarray  # column permutation from patsy's order to R's order
    numeric: tuple[str, ...]  # right-hand-side columns parsed as numbers
    categorical: tuple[str, ...]  # right-hand-side columns used as factors
    factor_columns: dict[str, tuple[str, ...]]  # factor code -> data columns it uses
    log_response: bool
    xtx_inv: np.ndarray  # (X'X)^-1, for R predict.lm intervals


@dataclass(frozen=True, eq=False)
class CostModel:
    """A fitted cost-driver regression.

    Attributes
    ----------
    formula
        The model formula as given.
    method
        ``"ols"`` or ``"quantile"``.
    quantile
        The quantile tau for quantile regression, else None.
    se
        Standard-error type (one of :data:`OLS_SE_TYPES` or :data:`QUANTILE_SE_TYPES`).
    coefficients
        One row per coefficient: ``term`` (patsy name), ``term_r`` (R name), ``coef``,
        ``se``, ``stat_name`` ('t'), ``stat``, ``df``, ``p_value`` (two-sided),
        ``ci_low``, ``ci_high`` (level ``1 - alpha``), ``se_method`` (the R equivalent).
    fit
        Scalars: ``n``, ``n_params``, ``df_resid``, ``se``, ``se_method`` and for OLS
        ``r2``, ``adj_r2``, ``sigma``, ``ssr``, ``loglik``, ``aic``, ``bic`` (R's
        ``AIC(lm)``, counting sigma), ``smearing_factor``; for quantile regression
        ``tau``, ``objective`` (sum of check losses), ``pseudo_r2`` (Koenker-Machado
        R1), ``solution_unique`` (None when degenerate), ``aic``/``bic`` (R ``AIC.rq``)
        and the bandwidth or sparsity used by the standard errors.
    cov
        Covariance matrix of the coefficients used for ``se``.
    result
        The least-squares fit, an :class:`~costperf.benchmark.costmodel.lsq.OlsFit`
        (OLS only, else None): design matrix, response, residuals, leverages and
        :meth:`~costperf.benchmark.costmodel.lsq.OlsFit.cooks_distance`.
    """

    formula: str
    method: str
    quantile: float | None
    se: str
    coefficients: pd.DataFrame
    fit: dict[str, object]
    cov: pd.DataFrame = field(repr=False)
    result: object | None = field(default=None, repr=False)
    spec: ModelSpec | None = field(default=None, repr=False)
