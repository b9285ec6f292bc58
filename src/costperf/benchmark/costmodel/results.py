"""The last step shared by both fits: the coefficient table (t tests and intervals)
and the spec that prediction needs to rebuild the design."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.costmodel.design import Design
from costperf.benchmark.costmodel.formula import LOG_RESPONSE, Formula
from costperf.benchmark.costmodel.model import ModelSpec
from costperf.benchmark.costmodel.names import r_term_name


def t_ppf(q: float, df: float) -> float:
    """Student t quantile: ``scipy.special.stdtrit``, what ``scipy.stats.t.ppf`` calls
    for 0 < q < 1 (without importing scipy.stats, 0.5 s)."""
    from scipy.special import stdtrit

    return stdtrit(df, q)


def t_sf(x: np.ndarray, df: float) -> np.ndarray:
    """Student t upper tail ``P(T > x)``: ``stdtr(df, -x)``, as ``scipy.stats.t.sf``
    (also at x = +-inf and NaN)."""
    from scipy.special import stdtr

    return stdtr(df, -np.asarray(x, dtype=float))


def coefficient_table(
    names: list[str], coef: np.ndarray, se: np.ndarray, df: float, alpha: float, se_method: str
) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = coef / se
    crit = t_ppf(1.0 - alpha / 2.0, df)
    return pd.DataFrame(
        {
            "term": names,
            "term_r": [r_term_name(n) for n in names],
            "coef": coef,
            "se": se,
            "stat_name": "t",
            "stat": stat,
            "df": float(df),
            "p_value": 2.0 * t_sf(np.abs(stat), df),
            "ci_low": coef - crit * se,
            "ci_high": coef + crit * se,
            "se_method": se_method,
        }
    )


def model_spec(design: Design, parsed: Formula, xtx_inv: np.ndarray) -> ModelSpec:
    rhs_codes = {f.code for t in design.design_info.terms for f in t.factors}
    rhs_columns = {c for code in rhs_codes for c in parsed.factor_columns.get(code, ())}
    return ModelSpec(
        design.design_info,
        design.order,
        tuple(c for c in parsed.numeric if c in rhs_columns),
        tuple(c for c in parsed.categorical if c in rhs_columns),
        {code: parsed.factor_columns.get(code, ()) for code in rhs_codes},
        bool(parsed.response and LOG_RESPONSE.match(parsed.response)),
        xtx_inv,
    )
