"""Cost-model rules (regression, quantile_regression) and their fast leave-one-out grid."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.labels import code_label, message
from costperf.standards.derive.registry import DeriveRule, register
from costperf.standards.derive.result import (
    RuleResult,
    base_hash_columns,
    cell_keys,
    finish_result,
    in_cell,
    missing_reason,
    peer_rows,
    value_row,
)
from costperf.standards.derive.rules import RuleSpec


def case_formula(formula: str, dims: Sequence[str]) -> str:
    """The formula with ``C(dim)`` added for every dimension it does not use."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula.split("~", 1)[-1]))
    extra = [f"C({d})" for d in dims if d not in used]
    return formula if not extra else f"{formula} + {' + '.join(extra)}"


def fit_rule_model(units: pd.DataFrame, formula: str, spec: RuleSpec, params):  # noqa: ANN202
    from costperf.benchmark.costmodel import fit_cost_model

    tau = params["tau"] if spec.kind == "quantile_regression" else None
    se = {"se_quantile": "iid"} if tau is not None else {}
    try:
        return fit_cost_model(units, formula, quantile=tau, **se)
    except InputError as exc:
        if tau is None or "se_quantile" not in str(exc):
            raise
        return fit_cost_model(units, formula, quantile=tau, se_quantile="ker")


def model_columns(units: pd.DataFrame, formula: str) -> list[str]:
    names = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula))
    return [c for c in units.columns if c in names]


def regression_rule(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Expected (OLS) or tau-quantile (QR) unit cost of each cell from a pooled cost model."""
    from costperf.benchmark.costmodel import predict_cost
    from costperf.benchmark.peers import cooks_distance_outliers

    if not params["formula"]:
        msg = (
            f"rule '{spec.name}' needs a cost-model formula: set [benchmark] formula in "
            "case.toml or give --formula"
        )
        raise InputError(msg)
    formula = case_formula(str(params["formula"]), dims)
    if params["value"] not in formula.split("~", 1)[0]:
        msg = (
            f"rule '{spec.name}': the formula's response must be the unit cost "
            f"('{params['value']}'), got {formula!r}"
        )
        raise InputError(msg)
    columns = model_columns(units, formula)
    missing, reason, reason_zh = missing_reason(units, columns)
    reason, reason_zh = np.array(reason, dtype=object), np.array(reason_zh, dtype=object)
    used = ~missing
    fit_on = units[used]
    model = fit_rule_model(fit_on, formula, spec, params)
    if params["model_outliers"] == "cooks_distance":
        from costperf.benchmark.costmodel import fit_cost_model

        ols = model if spec.kind == "regression" else fit_cost_model(fit_on, formula)
        flags = cooks_distance_outliers(ols.result)
        positions = np.flatnonzero(used)[flags["outlier"].to_numpy()]
        reason[positions] = flags["outlier_reason"].to_numpy()[flags["outlier"].to_numpy()]
        reason_zh[positions] = flags["outlier_reason_zh"].to_numpy()[flags["outlier"].to_numpy()]
        used[positions] = False
        model = fit_rule_model(units[used], formula, spec, params)
    cost_col = "expected_cost" if spec.kind == "regression" else "quantile_cost"
    keys = cell_keys(units, dims)
    need = [*model.spec.numeric, *model.spec.categorical]
    masks = [in_cell(units, dims, k).to_numpy() for k in keys]
    filled = [i for i, m in enumerate(masks) if (m & used).any()]
    points = pd.DataFrame(
        [_median_point(units[masks[i] & used], dims, keys[i], model) for i in filled],
        columns=need,
    )
    frame = pd.concat([units.loc[used, need], points], ignore_index=True)
    predicted = predict_cost(model, frame, retransform=params["retransform"])
    if cost_col not in predicted:
        cost_col = "fitted"  # a response already in yuan: no retransform
    prediction = predicted[cost_col].to_numpy(dtype=float)
    peer_value = np.full(len(units), np.nan)
    peer_value[used] = prediction[: used.sum()]
    all_peers = peer_rows(units, dims, params, spec.name, used, reason, reason_zh, peer_value)
    method, method_zh = _regression_text(spec, params, formula, model)
    rows, peers = [], []
    for i, (key, mask) in enumerate(zip(keys, masks, strict=True)):
        if i not in filled:
            value = np.nan
        elif params["at"] == "mean_prediction":
            value = float(np.mean(peer_value[mask & used]))
        else:
            value = float(prediction[used.sum() + filled.index(i)])
        peers.append(all_peers[mask])
        rows.append(value_row(dims, key, spec.name, value, all_peers[mask], method, method_zh))
    return finish_result(rows, peers, dims, params, spec, digest)


def _median_point(cell: pd.DataFrame, dims, key, model) -> dict[str, object]:  # noqa: ANN001
    """The cell's median drivers (its own dimension levels; the mode of other factors)."""
    point = {}
    for column in (*model.spec.numeric, *model.spec.categorical):
        if column in dims:
            point[column] = key[list(dims).index(column)]
        elif column in model.spec.numeric:
            point[column] = float(pd.to_numeric(cell[column]).median())
        else:
            point[column] = cell[column].mode().iloc[0]
    return point


def _regression_text(spec: RuleSpec, params, formula: str, model) -> tuple[str, str]:  # noqa: ANN001
    """The method of a model rule in English and Chinese (labels.csv)."""
    at = "median_drivers" if params["at"] == "median_drivers" else "mean_prediction"
    said = {"formula": formula, "n": model.fit["n"]}
    if spec.kind == "regression":
        retransform = str(params["retransform"])  # the recorded English names the code
        en, zh = (
            message(
                "derive.method_regression",
                lang,
                **said,
                at=code_label("derive_at", at, lang),
                retransform=retransform if lang == "en" else code_label("retransform", retransform),
            )
            for lang in ("en", "zh")
        )
        return en, zh
    en, zh = (
        message(
            "derive.method_quantile_regression",
            lang,
            **said,
            at=code_label("derive_at", at, lang),
            tau=params["tau"],
        )
        for lang in ("en", "zh")
    )
    return en, zh


def regression_drop_grid(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params
) -> pd.DataFrame:
    """Leave-one-out values of a model rule without refitting through the formula layer.

    The design matrix and response of the base fit are reused: each drop refits by
    least squares (the QR solution of the base fit, for a full-rank design) or by
    :func:`~costperf.benchmark.costmodel.rq_coefficients`, with the retransform and
    the cells' median drivers recomputed without the dropped peer. Equal to calling
    :func:`regression_rule` on the reduced data (checked in the tests).

    Returns
    -------
    DataFrame
        The dims, ``value``, ``dropped`` (project id) and ``in_cell`` (whether the
        dropped peer belongs to the cell), for every cell and every peer.
    """
    import patsy

    from costperf.benchmark.costmodel import fit_cost_model, rq_coefficients

    formula = case_formula(str(params["formula"]), dims)
    missing, _, _ = missing_reason(units, model_columns(units, formula))
    used = ~missing
    data = units[used].reset_index(drop=True)
    model = fit_rule_model(data, formula, spec, params)
    ols = model if spec.kind == "regression" else fit_cost_model(data, formula)
    X, y = ols.result.exog, ols.result.endog
    n, p = X.shape
    keys = cell_keys(units, dims)
    ids = units[params["id"]].astype(str).to_numpy()
    used_pos = np.flatnonzero(used)
    cell_masks = [in_cell(data, dims, k).to_numpy() for k in keys]
    drops = [None, *range(n)]  # None: nothing dropped (the base value)
    points, owners = [], []
    for j, drop in enumerate(drops):
        keep = np.ones(n, dtype=bool) if drop is None else np.arange(n) != drop
        for c, key in enumerate(keys):
            if (cell_masks[c] & keep).any():
                points.append(_median_point(data[cell_masks[c] & keep], dims, key, model))
                owners.append((j, c))
    frame = pd.DataFrame(points, columns=[*model.spec.numeric, *model.spec.categorical])
    (design,) = patsy.build_design_matrices(
        [model.spec.design_info], frame, NA_action=patsy.NAAction(NA_types=[])
    )
    Xp = np.asarray(design, dtype=float)[:, model.spec.order]
    value = np.full((len(drops), len(keys)), np.nan)
    for j, drop in enumerate(drops):
        keep = np.ones(n, dtype=bool) if drop is None else np.arange(n) != drop
        if np.linalg.matrix_rank(X[keep]) < p or keep.sum() <= p:
            continue
        beta, factor = _refit(X[keep], y[keep], spec, params, model, rq_coefficients)
        rows = [i for i, (owner, _) in enumerate(owners) if owner == j]
        if params["at"] == "mean_prediction":
            for c in range(len(keys)):
                mask = cell_masks[c] & keep
                if mask.any():
                    value[j, c] = float(np.mean(_to_cost(X[mask] @ beta, model, factor)))
        else:
            for i in rows:
                value[j, owners[i][1]] = float(_to_cost(Xp[i] @ beta, model, factor))
    out = []
    base = value[0]
    for k, unit_id in enumerate(ids):
        at = np.searchsorted(used_pos, k)
        row = value[1 + at] if at < len(used_pos) and used_pos[at] == k else base
        home = tuple(units.iloc[k][d] for d in dims)
        for c, key in enumerate(keys):
            out.append(
                {
                    **dict(zip(dims, key, strict=True)),
                    "value": row[c],
                    "dropped": unit_id,
                    "in_cell": key == home,
                }
            )
    return pd.DataFrame(out)


def _refit(X, y, spec, params, model, rq_coefficients):  # noqa: ANN001, ANN202
    """Coefficients and retransform factor of one refit (see regression_drop_grid)."""
    if spec.kind == "quantile_regression":
        return rq_coefficients(X, y, float(params["tau"])), 1.0
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    if params["retransform"] == "smearing":
        return beta, float(np.mean(np.exp(resid)))
    sigma2 = float(resid @ resid) / (len(y) - X.shape[1])
    return beta, float(np.exp(sigma2 / 2))


def _to_cost(fitted, model, factor: float):  # noqa: ANN001, ANN202
    return np.exp(fitted) * factor if model.spec.log_response else fitted


MODEL_CHOICES = {
    "at": ("median_drivers", "mean_prediction"),
    "model_outliers": ("none", "cooks_distance"),
    "retransform": ("smearing", "lognormal"),
}


def _check_model_params(params: dict[str, object], where: str) -> dict[str, object]:
    tau = params["tau"]
    if not (isinstance(tau, int | float) and not isinstance(tau, bool) and 0 < tau < 1):
        msg = f"{where}: tau must be a number strictly between 0 and 1, got {tau!r}"
        raise InputError(msg)
    return params


def _model_hash(units, dims, spec, params) -> list[str]:  # noqa: ANN001, ARG001
    base = base_hash_columns(units, dims, params)
    if params["formula"]:
        base += model_columns(units, case_formula(str(params["formula"]), dims))
    return base


def model_drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001
    """The fast path (:mod:`costperf.standards.derive.model_drops`)."""
    from costperf.standards.derive.model_drops import model_drop_grid as fast

    return fast(peers, dims, spec, params, grid_of)


def _model_drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001
    """Refit by least squares / rq on the base design; with Cook's-distance screening
    the screen must be redone per drop, so the generic path is used."""
    if params["model_outliers"] == "none":
        return regression_drop_grid(peers, dims, spec, params)
    from costperf.standards.derive.sensitivity import refit_drop_grid

    return refit_drop_grid(peers, dims, spec, params, grid_of)


for _kind, _params, _label in (
    (
        "regression",
        {
            "formula": None,
            "at": "median_drivers",
            "retransform": "smearing",
            "model_outliers": "none",
        },
        "成本回归",
    ),
    (
        "quantile_regression",
        {"formula": None, "at": "median_drivers", "tau": 0.25, "model_outliers": "none"},
        "分位数回归",
    ),
):
    register(
        DeriveRule(
            kind=_kind,
            names=(_kind,),
            parse=lambda text, kind=_kind: RuleSpec(kind, kind) if text == kind else None,
            evaluate=regression_rule,
            hashed_columns=_model_hash,
            drop_grid=model_drop_grid,
            naive_drop_grid=_model_drop_grid,
            is_local=lambda spec, params: False,  # one pooled model: a drop moves every cell
            params=_params,
            choices=MODEL_CHOICES,
            check=_check_model_params if _kind == "quantile_regression" else None,
            label_zh=_label,
        )
    )
