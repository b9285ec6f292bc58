"""Collinearity diagnostic: variance inflation factors per term, as R ``car::vif``
(GVIF for factor terms)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costperf.benchmark.costmodel.design import build_design, check_estimable
from costperf.benchmark.costmodel.formula import parse_formula, where_of
from costperf.benchmark.costmodel.names import r_term_name
from costperf.errors import InputError


def variance_inflation(frame: pd.DataFrame, formula: str) -> pd.DataFrame:
    """Variance inflation factors per term, as R ``car::vif`` (GVIF for factor terms).

    Parameters
    ----------
    frame
        The data (the response, if the formula has one, is ignored).
    formula
        Model formula; only its right-hand side is used.

    Returns
    -------
    DataFrame
        ``term``, ``term_r``, ``vif`` (GVIF; the classical 1 / (1 - R_j^2) for a
        one-column term in a model with an intercept), ``df`` (columns of the term),
        ``gvif_adj`` (``GVIF^(1/(2 df))``, comparable across terms).
    """
    rhs_text = "~ " + formula.split("~", 1)[-1] if isinstance(formula, str) else formula
    parsed = parse_formula(rhs_text, frame, need_response=False)
    where = f"{where_of(frame)} (formula {formula!r})"
    design = build_design(frame, parsed, what=where)
    check_estimable(design, min_rows=design.X.shape[1], what=where)
    slices = [(t, s) for t, s in design.term_slices if t != "Intercept"]
    if len(slices) < 2:
        msg = f"{where}: VIF needs at least two terms besides the intercept"
        raise InputError(msg)
    v = np.linalg.inv(design.X.T @ design.X)
    keep = np.concatenate([np.arange(s.start, s.stop) for _, s in slices])
    v = v[np.ix_(keep, keep)]
    corr = v / np.sqrt(np.outer(np.diag(v), np.diag(v)))
    det_all = np.linalg.det(corr)
    rows, start = [], 0
    for term, s in slices:
        idx = np.arange(start, start + s.stop - s.start)
        rest = np.setdiff1d(np.arange(len(keep)), idx)
        gvif = (
            np.linalg.det(corr[np.ix_(idx, idx)])
            * np.linalg.det(corr[np.ix_(rest, rest)])
            / det_all
        )
        rows.append(
            {
                "term": term,
                "term_r": r_term_name(term),
                "vif": float(gvif),
                "df": len(idx),
                "gvif_adj": float(gvif ** (1 / (2 * len(idx)))),
            }
        )
        start += len(idx)
    return pd.DataFrame(rows)
