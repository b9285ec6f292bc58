"""The fitting entry point: check the options, parse the formula, build and check the
design, then fit by OLS or quantile regression."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.costmodel.design import build_design, check_estimable
from costperf.benchmark.costmodel.formula import Formula, parse_formula, where_of
from costperf.benchmark.costmodel.model import CostModel
from costperf.benchmark.costmodel.ols import fit_ols
from costperf.benchmark.costmodel.options import check_options
from costperf.benchmark.costmodel.quantile import fit_quantile
from costperf.errors import InputError
from costperf.schemas import LOCATION


def fit_cost_model(
    frame: pd.DataFrame,
    formula: str,
    *,
    se: str = "nonrobust",
    cluster: str | None = None,
    quantile: float | None = None,
    se_quantile: str = "nid",
    alpha: float = 0.05,
) -> CostModel:
    """Fit a cost-driver regression (OLS, or quantile regression when ``quantile``).

    Parameters
    ----------
    frame
        One row per unit (contract, project, district); the columns named in the
        formula, raw (text is parsed as numbers) or typed. ``source_file``/``source_row``
        columns, if present, locate problems.
    formula
        Model formula, e.g. ``"np.log(unit_cost) ~ np.log(wage_index) + C(road_grade)"``.
    se
        OLS standard errors: one of :data:`OLS_SE_TYPES`.
    cluster
        Column whose values define clusters; required by, and only used with,
        ``se="cluster"``.
    quantile
        Quantile tau in (0, 1) for quantile regression; None for OLS.
    se_quantile
        Quantile-regression standard errors: one of :data:`QUANTILE_SE_TYPES`.
    alpha
        1 - confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    CostModel
        Coefficient table, fit statistics and what :func:`predict_cost` needs.
    """
    check_options(se, cluster, quantile, se_quantile, alpha)
    parsed = parse_formula(formula, frame, need_response=True)
    where = f"{where_of(frame)} (formula {formula!r})"
    extra = (cluster,) if cluster is not None else ()
    design = build_design(frame, _with_columns(parsed, extra, frame), what=where)
    n_params = design.X.shape[1]
    check_estimable(design, min_rows=n_params + 1, what=where)
    if quantile is None:
        groups = _cluster_codes(design.work, cluster, what=where) if cluster else None
        return fit_ols(design, parsed, se, groups, cluster, alpha)
    return fit_quantile(design, parsed, float(quantile), se_quantile, alpha, what=where)


def _with_columns(parsed: Formula, extra: tuple[str, ...], frame: pd.DataFrame) -> Formula:
    """Add the cluster column to the columns checked for blanks (as a factor)."""
    for name in extra:
        if name not in frame.columns or name in LOCATION:
            listing = ", ".join(str(c) for c in frame.columns if c not in LOCATION)
            msg = (
                f"{where_of(frame)}: cluster column '{name}' is not in the data; available "
                f"columns: {listing}"
            )
            raise InputError(msg)
    categorical = tuple(sorted(set(parsed.categorical) | (set(extra) - set(parsed.numeric))))
    return Formula(parsed.text, parsed.response, parsed.numeric, categorical, parsed.factor_columns)


def _cluster_codes(work: pd.DataFrame, cluster: str, *, what: str) -> np.ndarray:
    codes, levels = pd.factorize(work[cluster].astype(str))
    if len(levels) < 2:
        msg = f"{what}: cluster column '{cluster}' has {len(levels)} cluster(s); need >= 2"
        raise InputError(msg)
    return codes
