"""Checks of the fit and prediction options (standard-error type, cluster, quantile,
alpha) before any data is read."""

from __future__ import annotations

import numbers

from costperf.benchmark.costmodel.model import OLS_SE_TYPES, QUANTILE_SE_TYPES
from costperf.errors import InputError


def check_options(
    se: str, cluster: str | None, quantile: float | None, se_quantile: str, alpha: float
) -> None:
    if quantile is not None:
        if not _is_fraction(quantile):
            msg = f"quantile must be a number strictly between 0 and 1, got {quantile!r}"
            raise InputError(msg)
        if se != "nonrobust" or cluster is not None:
            msg = (
                f"se={se!r}/cluster are OLS options; quantile regression takes "
                f"se_quantile, one of: {', '.join(QUANTILE_SE_TYPES)}"
            )
            raise InputError(msg)
        if se_quantile not in QUANTILE_SE_TYPES:
            hint = (
                " (R's default 'rank', rank-inversion intervals without standard errors, "
                "is not supported)"
                if se_quantile == "rank"
                else ""
            )
            msg = (
                f"unknown quantile-regression standard error {se_quantile!r}{hint}; use "
                f"one of: {', '.join(QUANTILE_SE_TYPES)}"
            )
            raise InputError(msg)
    elif se not in OLS_SE_TYPES:
        msg = f"unknown standard-error type {se!r}; use one of: {', '.join(OLS_SE_TYPES)}"
        raise InputError(msg)
    elif (se == "cluster") != (cluster is not None):
        msg = (
            "se='cluster' needs the cluster column (cluster=..., CLI --cluster COL)"
            if cluster is None
            else f"a cluster column ({cluster!r}) is only used with se='cluster', got se={se!r}"
        )
        raise InputError(msg)
    check_alpha(alpha)


def _is_fraction(value: object) -> bool:
    return (
        isinstance(value, numbers.Real) and not isinstance(value, bool) and 0.0 < float(value) < 1.0
    )


def check_alpha(alpha: object) -> None:
    if not _is_fraction(alpha):
        msg = f"alpha must be a number strictly between 0 and 1, got {alpha!r}"
        raise InputError(msg)
