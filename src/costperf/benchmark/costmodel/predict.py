"""Step 4, prediction: the design for new rows (validated like the fitting data, unseen
levels refused), intervals as R ``predict.lm``/``predict.rq`` and the retransformation
to the cost scale (smearing or lognormal)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import patsy
import patsy.builtins

from costperf.benchmark.costmodel.design import nonfinite_problems
from costperf.benchmark.costmodel.formula import Formula, typed_columns, where_of
from costperf.benchmark.costmodel.model import RETRANSFORMS, CostModel, ModelSpec
from costperf.benchmark.costmodel.options import check_alpha
from costperf.benchmark.costmodel.results import t_ppf
from costperf.errors import InputError, raise_if_problems
from costperf.schemas import LOCATION, concat_problems, row_problems


def predict_cost(
    model: CostModel, frame: pd.DataFrame, *, alpha: float = 0.05, retransform: str = "smearing"
) -> pd.DataFrame:
    """Predict the response (and the cost, for a log response) for new rows.

    Parameters
    ----------
    model
        A model from :func:`fit_cost_model`.
    frame
        Rows with the right-hand-side columns of the formula (the response is not
        needed).
    alpha
        1 - level of the intervals.
    retransform
        For a ``log(cost)`` response under OLS, how the expected cost is obtained from
        the log scale: ``"smearing"`` (Duan 1983: ``exp(fit) * mean(exp(residuals))``)
        or ``"lognormal"`` (``exp(fit + sigma**2 / 2)``).

    Returns
    -------
    DataFrame
        Indexed like ``frame``. ``fitted``, ``se_fit``, ``ci_low``, ``ci_high`` (mean
        for OLS, as R ``predict.lm(interval = "confidence")``; the tau-quantile for
        quantile regression, as R ``predict.rq(interval = "confidence")`` with the
        model's se type). OLS adds ``pi_low``, ``pi_high`` (R ``predict.lm(interval =
        "prediction")``; classical, whatever ``se``). With a log response, OLS adds
        ``expected_cost`` [cost units], ``median_cost`` (``exp(fitted)``),
        ``cost_pi_low``, ``cost_pi_high`` and ``retransform`` (the method and factor);
        quantile regression adds ``quantile_cost`` (``exp(fitted)``, the tau-quantile
        of cost) and ``cost_ci_low``, ``cost_ci_high``.
    """
    if retransform not in RETRANSFORMS:
        msg = f"unknown retransform {retransform!r}; use one of: {', '.join(RETRANSFORMS)}"
        raise InputError(msg)
    check_alpha(alpha)
    X = _new_design(model, frame)
    coef = model.coefficients["coef"].to_numpy(dtype=float)
    fitted = X @ coef
    df = model.fit["df_resid"]
    crit = t_ppf(1 - alpha / 2, df)
    if model.method == "ols":
        sigma = model.fit["sigma"]
        se_fit = sigma * np.sqrt(np.einsum("ij,jk,ik->i", X, model.spec.xtx_inv, X))
        se_pred = np.sqrt(se_fit**2 + sigma**2)
    else:
        se_fit = np.sqrt(np.einsum("ij,jk,ik->i", X, model.cov.to_numpy(), X))
    out = pd.DataFrame(
        {
            "fitted": fitted,
            "se_fit": se_fit,
            "ci_low": fitted - crit * se_fit,
            "ci_high": fitted + crit * se_fit,
        },
        index=frame.index,
    )
    if model.method == "ols":
        out["pi_low"], out["pi_high"] = fitted - crit * se_pred, fitted + crit * se_pred
    if model.spec.log_response:
        out = _cost_scale(out, model, retransform)
    return out


def _cost_scale(out: pd.DataFrame, model: CostModel, retransform: str) -> pd.DataFrame:
    out = out.copy()
    if model.method == "quantile":
        out["quantile_cost"] = np.exp(out["fitted"])
        out["cost_ci_low"], out["cost_ci_high"] = np.exp(out["ci_low"]), np.exp(out["ci_high"])
        return out
    factor = retransform_factor(model, retransform)
    out["expected_cost"] = np.exp(out["fitted"]) * factor
    out["median_cost"] = np.exp(out["fitted"])
    out["cost_pi_low"], out["cost_pi_high"] = np.exp(out["pi_low"]), np.exp(out["pi_high"])
    out["retransform"] = retransform_words(model, retransform, "en")
    return out


def retransform_factor(model: CostModel, retransform: str = "smearing") -> float:
    """The factor taking ``exp(fit)`` to the expected cost: Duan's smearing factor, or
    ``exp(sigma**2 / 2)`` under a lognormal error."""
    if retransform == "smearing":
        return model.fit["smearing_factor"]
    return float(np.exp(model.fit["sigma"] ** 2 / 2))


def retransform_words(model: CostModel, retransform: str = "smearing", lang: str = "en") -> str:
    """The retransformation and its factor in words (labels.csv: kind ``retransform``,
    message ``costmodel.retransform``): ``smearing (Duan 1983), factor 1.00454`` (the
    text the predictions record) or its Chinese."""
    from costperf.labels import code_label, message

    factor = f"{retransform_factor(model, retransform):.6g}"
    method = code_label("retransform", retransform, lang)
    return message("costmodel.retransform", lang, method=method, factor=factor)


def _new_design(model: CostModel, frame: pd.DataFrame) -> np.ndarray:
    """Right-hand-side design for new rows, validated like the fitting data."""
    spec = model.spec
    missing = [c for c in (*spec.numeric, *spec.categorical) if c not in frame.columns]
    if missing:
        listing = ", ".join(str(c) for c in frame.columns if c not in LOCATION)
        msg = (
            f"{where_of(frame)}: prediction needs column(s) {', '.join(missing)} used by "
            f"the formula {model.formula!r}; available columns: {listing}"
        )
        raise InputError(msg)
    what = f"{where_of(frame)} (prediction with formula {model.formula!r})"
    work = typed_columns(frame, spec.numeric, spec.categorical, what=what)
    raise_if_problems(_unseen_levels(work, spec), what)
    try:
        with np.errstate(all="ignore"):
            (X,) = patsy.build_design_matrices(
                [spec.design_info], work, NA_action=patsy.NAAction(NA_types=[])
            )
    except patsy.PatsyError as exc:
        msg = f"{what}: the formula could not be evaluated on these rows: {exc}"
        raise InputError(msg) from exc
    parsed = Formula(model.formula, None, spec.numeric, spec.categorical, spec.factor_columns)
    frame_x = pd.DataFrame(np.asarray(X), index=work.index)
    raw = frame.reset_index(drop=True)
    raise_if_problems(nonfinite_problems(work, raw, parsed, frame_x, None), what)
    return np.asarray(X, dtype=float)[:, spec.order]


def _unseen_levels(work: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    parts = []
    for factor, info in spec.design_info.factor_infos.items():
        columns = spec.factor_columns.get(factor.code, ())
        if info.type != "categorical" or len(columns) != 1:
            continue
        levels = [str(c) for c in info.categories]
        bad = ~work[columns[0]].astype(str).isin(levels)
        parts.append(
            row_problems(
                work,
                bad,
                columns[0],
                f"one of the levels seen when fitting: {', '.join(levels)}",
                "unseen_level",
            )
        )
    return concat_problems(parts)
