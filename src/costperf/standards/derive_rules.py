"""Derivation rules as data: one function per rule, each giving values and peer rows.

A rule turns the peers of each dimension cell into one unit-cost standard. Every rule
returns a :class:`RuleResult`: ``values`` (one row per cell) and ``peers`` (one row per
peer and cell, used or excluded, with the reason), so each value can be recomputed.

Rules
    ``median``, ``mean``, ``p10``, ``p25``, ``p75``, ``p90``, ``quantile:<q>``
        Peer statistic of the cell's unit costs after outlier screening
        (``outlier_rule`` iqr | mad | none, :func:`~costperf.benchmark.peers.flag_outliers`;
        quantiles with ``quantile_method``, default type 7 = Excel PERCENTILE.INC).
    ``regression``
        OLS cost model (:func:`~costperf.benchmark.costmodel.fit_cost_model`) on all
        peers pooled, the formula extended by ``C(<dim>)`` for every dimension it does not
        already use (so each cell keeps its own level). The standard is the expected unit
        cost (smearing retransform for a log response) at the cell's **median drivers**
        (``at = "median_drivers"``, default) or the mean of the predictions over the
        cell's peers (``at = "mean_prediction"``).
    ``quantile_regression``
        The same with quantile regression at ``tau`` (default 0.25): a frontier of the
        efficient quartile; the standard is the tau-quantile of unit cost at the same
        evaluation point.
    ``dea``
        Per cell, DEA (input-oriented, ``dea_rts`` default VRS) of the cell's peers on
        ``dea_inputs``/``dea_outputs``. Each peer's efficient unit cost is its unit cost
        times its score (``dea_score = "technical"``: the radial input score theta, i.e.
        all cost elements shrink in proportion; ``"cost"``: cost efficiency with unit
        prices, for inputs in yuan). The standard is the cell median of efficient unit
        costs.
    ``triangulation``
        The median (``combine = "median"``, default) or weighted mean (``combine =
        "weighted_mean"`` with ``weights``) of the ``members`` rules' values per cell.

Outlier screening applies to the peer-statistic rules; the model rules may screen by
Cook's distance instead (``model_outliers = "cooks_distance"``: fit, drop the flagged
rows, refit once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costperf.errors import InputError

QUANTILE_RULES = {"median": 0.5, "p10": 0.10, "p25": 0.25, "p75": 0.75, "p90": 0.90}
MODEL_RULES = ("regression", "quantile_regression", "dea", "triangulation")
RULE_NAMES = (*QUANTILE_RULES, "mean", "quantile:<q>", *MODEL_RULES)
#: rules whose value in one cell depends only on that cell's peers
LOCAL_KINDS = ("quantile", "mean", "dea")
DEFAULT_PARAMS: dict[str, object] = {
    "value": "unit_cost",
    "output": "output_quantity",
    "cost": "total_cost",
    "id": "project_id",
    "outlier_rule": "iqr",
    "k": None,
    "quantile_method": "linear",
    "min_group_size": 4,
    "formula": None,
    "at": "median_drivers",
    "retransform": "smearing",
    "tau": 0.25,
    "model_outliers": "none",
    "dea_inputs": (),
    "dea_outputs": (),
    "dea_rts": "vrs",
    "dea_score": "technical",
    "members": ("median", "regression", "quantile_regression", "dea"),
    "combine": "median",
    "weights": None,
}
CHOICES = {
    "at": ("median_drivers", "mean_prediction"),
    "model_outliers": ("none", "cooks_distance"),
    "dea_score": ("technical", "cost"),
    "combine": ("median", "weighted_mean"),
    "retransform": ("smearing", "lognormal"),
}
#: which parameters each kind of rule uses (recorded in the provenance)
USED_PARAMS = {
    "quantile": ("outlier_rule", "k", "quantile_method", "min_group_size"),
    "mean": ("outlier_rule", "k", "quantile_method", "min_group_size"),
    "regression": ("formula", "at", "retransform", "model_outliers"),
    "quantile_regression": ("formula", "at", "tau", "model_outliers"),
    "dea": ("dea_inputs", "dea_outputs", "dea_rts", "dea_score"),
    "triangulation": ("members", "combine", "weights"),
}
VALUE_COLUMNS = [
    "rule",
    "value",
    "n_used",
    "n_excluded",
    "method",
    "method_zh",
    "parameters",
    "data_hash",
    "peers_used",
    "peers_excluded",
]
PEER_COLUMNS = [
    "rule",
    "project_id",
    "source_file",
    "source_row",
    "unit_cost",
    "output_quantity",
    "total_cost",
    "peer_value",
    "used",
    "reason",
    "reason_zh",
]


@dataclass(frozen=True)
class RuleSpec:
    """A parsed rule name: its kind and, for peer quantiles, the probability."""

    name: str
    kind: str  # quantile | mean | regression | quantile_regression | dea | triangulation
    q: float | None = None


@dataclass(frozen=True, eq=False)
class RuleResult:
    """Values per cell and the peer rows behind them, for one rule."""

    values: pd.DataFrame
    peers: pd.DataFrame


def parse_rule(rule: object, *, where: str = "rule") -> RuleSpec:
    """Parse ``median``, ``p25``, ``quantile:0.4``, ``regression`` ... into a :class:`RuleSpec`."""
    text = str(rule).strip() if isinstance(rule, str) else ""
    if text in QUANTILE_RULES:
        return RuleSpec(text, "quantile", QUANTILE_RULES[text])
    if text == "mean":
        return RuleSpec(text, "mean")
    if text in MODEL_RULES:
        return RuleSpec(text, text)
    match = re.fullmatch(r"quantile:\s*([0-9.]+)", text)
    if match:
        try:
            q = float(match.group(1))
        except ValueError:
            q = -1.0
        if 0 <= q <= 1:
            return RuleSpec(f"quantile:{q:g}", "quantile", q)
    msg = f"{where}: unknown rule {rule!r}; use one of: {', '.join(RULE_NAMES)}"
    raise InputError(msg)


def check_params(params: Mapping[str, object], *, where: str = "derive") -> dict[str, object]:
    """Defaults filled in and every parameter checked; InputError naming the key."""
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        msg = (
            f"{where}: unknown parameter '{unknown[0]}'; use one of: "
            f"{', '.join(sorted(DEFAULT_PARAMS))}"
        )
        raise InputError(msg)
    out = {**DEFAULT_PARAMS, **{k: v for k, v in params.items() if v is not None}}
    for key, allowed in CHOICES.items():
        if out[key] not in allowed:
            msg = f"{where}: unknown {key} {out[key]!r}; use one of: {', '.join(allowed)}"
            raise InputError(msg)
    tau = out["tau"]
    if not (isinstance(tau, int | float) and not isinstance(tau, bool) and 0 < tau < 1):
        msg = f"{where}: tau must be a number strictly between 0 and 1, got {tau!r}"
        raise InputError(msg)
    for key in ("dea_inputs", "dea_outputs", "members"):
        value = out[key]
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            msg = f"{where}: {key} must be a list of names, got {out[key]!r}"
            raise InputError(msg)
        out[key] = tuple(value)
    members = [parse_rule(m, where=f"{where}: members") for m in out["members"]]
    if any(m.kind == "triangulation" for m in members) or not members:
        msg = f"{where}: members must list one or more rules other than triangulation"
        raise InputError(msg)
    out["members"] = tuple(m.name for m in members)
    weights = out["weights"]
    if weights is not None:
        ok = isinstance(weights, list | tuple) and len(weights) == len(members)
        if not ok or not all(isinstance(w, int | float) and w >= 0 for w in weights):
            msg = (
                f"{where}: weights must be {len(members)} numbers >= 0, one per member "
                f"({', '.join(out['members'])}), got {weights!r}"
            )
            raise InputError(msg)
        if sum(weights) <= 0:
            msg = f"{where}: weights must not all be 0, got {weights!r}"
            raise InputError(msg)
        out["weights"] = tuple(float(w) for w in weights)
    return out


def rule_parameters(spec: RuleSpec, params: Mapping[str, object]) -> dict[str, object]:
    """The parameters a rule used, JSON-ready (no None values, lists not tuples)."""
    chosen = {"rule": spec.name, "value_column": params["value"]}
    if spec.q is not None:
        chosen["quantile"] = spec.q
    for key in USED_PARAMS[spec.kind]:
        value = params[key]
        if value is None:
            continue
        chosen[key] = list(value) if isinstance(value, tuple) else value
    return chosen


# --------------------------------------------------------------------------- helpers


def cell_keys(frame: pd.DataFrame, dims: Sequence[str]) -> list[tuple]:
    """Sorted cell keys (natural order: 一级 < 二级 < 十级)."""
    from costperf.columns import natural_key

    if not dims:
        return [()]
    keys = frame[list(dims)].drop_duplicates().itertuples(index=False, name=None)
    return sorted(keys, key=lambda k: tuple(natural_key(v) for v in k))


def in_cell(frame: pd.DataFrame, dims: Sequence[str], key: tuple) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for dim, level in zip(dims, key, strict=True):
        mask &= frame[dim] == level
    return mask


def _peer_rows(
    cell: pd.DataFrame,
    dims: Sequence[str],
    params: Mapping[str, object],
    rule: str,
    used: np.ndarray,
    reasons: Sequence[str],
    reasons_zh: Sequence[str],
    peer_value: np.ndarray,
) -> pd.DataFrame:
    get = lambda c: cell[c].to_numpy() if c in cell else np.full(len(cell), "")  # noqa: E731
    return pd.DataFrame(
        {
            "rule": rule,
            **{d: cell[d].to_numpy() for d in dims},
            "project_id": cell[params["id"]].astype(str).to_numpy(),
            "source_file": get("source_file"),
            "source_row": get("source_row"),
            "unit_cost": cell[params["value"]].to_numpy(dtype=float),
            "output_quantity": cell[params["output"]].to_numpy(dtype=float)
            if params["output"] in cell
            else np.nan,
            "total_cost": cell[params["cost"]].to_numpy(dtype=float)
            if params["cost"] in cell
            else np.nan,
            "peer_value": np.asarray(peer_value, dtype=float),
            "used": np.asarray(used, dtype=bool),
            "reason": list(reasons),
            "reason_zh": list(reasons_zh),
        },
        index=cell.index,
    )


def _value_row(
    dims: Sequence[str],
    key: tuple,
    rule: str,
    value: float,
    peers: pd.DataFrame,
    method: str,
    method_zh: str,
) -> dict[str, object]:
    used, dropped = peers[peers["used"]], peers[~peers["used"]]
    excluded = sorted(zip(dropped["project_id"], dropped["reason"], strict=True))
    return {
        **dict(zip(dims, key, strict=True)),
        "rule": rule,
        "value": float(value),
        "n_used": len(used),
        "n_excluded": len(dropped),
        "method": method,
        "method_zh": method_zh,
        "peers_used": ";".join(sorted(used["project_id"])),
        "peers_excluded": ";".join(f"{p}: {r}" for p, r in excluded),
    }


def _finish(
    rows: list[dict], peers: list[pd.DataFrame], dims: Sequence[str], params, spec, digest
) -> RuleResult:
    values = pd.DataFrame(rows)
    values["parameters"] = json.dumps(rule_parameters(spec, params), ensure_ascii=False)
    values["data_hash"] = digest
    values = values.reindex(columns=[*dims, *VALUE_COLUMNS])
    peer_frame = pd.concat(peers) if peers else pd.DataFrame(columns=[*dims, *PEER_COLUMNS])
    return RuleResult(values.reset_index(drop=True), peer_frame)


def _missing_reason(cell: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list, list]:
    """Rows lacking any of ``columns``: mask and reasons (English, Chinese)."""
    missing = cell[list(columns)].isna()
    mask = missing.any(axis=1).to_numpy()
    names = [", ".join(c for c in columns if row[c]) for _, row in missing.iterrows()]
    reason = [f"missing {n}" if m else "" for n, m in zip(names, mask, strict=True)]
    reason_zh = [f"缺少{n}" if m else "" for n, m in zip(names, mask, strict=True)]
    return mask, reason, reason_zh


# ------------------------------------------------------------------ peer statistics


def peer_statistic_rule(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Peer quantile (or mean) of each cell after outlier screening."""
    from costperf.benchmark.peers import flag_outliers

    value = params["value"]
    flagged = flag_outliers(
        units,
        value,
        by=list(dims),
        rule=params["outlier_rule"],
        k=params["k"],
        quantile_method=params["quantile_method"],
        min_group_size=params["min_group_size"],
    )
    missing = flagged[value].isna()
    flagged["outlier_reason"] = flagged["outlier_reason"].where(~missing, f"missing {value}")
    flagged["outlier_reason_zh"] = flagged["outlier_reason_zh"].where(~missing, "缺少单位成本")
    rows, peers = [], []
    rule_text = params["outlier_rule"]
    for key in cell_keys(units, dims):
        cell = flagged[in_cell(flagged, dims, key)]
        keep = (~cell["outlier"] & cell[value].notna()).to_numpy()
        kept = cell[value].to_numpy(dtype=float)[keep]
        if spec.kind == "mean":
            result = float(np.mean(kept)) if len(kept) else np.nan
            what, what_zh = "mean", "均值"
        else:
            result = (
                float(np.quantile(kept, spec.q, method=params["quantile_method"]))
                if len(kept)
                else np.nan
            )
            what = "median" if spec.q == 0.5 else f"{100 * spec.q:g}th percentile"
            what_zh = "中位数" if spec.q == 0.5 else f"第{100 * spec.q:g}百分位数"
        reason = np.where(keep, "", cell["outlier_reason"].to_numpy(dtype=object))
        reason_zh = np.where(keep, "", cell["outlier_reason_zh"].to_numpy(dtype=object))
        rows_ = _peer_rows(cell, dims, params, spec.name, keep, reason, reason_zh, cell[value])
        peers.append(rows_)
        rows.append(
            _value_row(
                dims,
                key,
                spec.name,
                result,
                rows_,
                f"peer {what} of {keep.sum()} contracts after {rule_text} screening",
                f"同类{keep.sum()}个合同经{rule_text}异常值筛查后的{what_zh}",
            )
        )
    return _finish(rows, peers, dims, params, spec, digest)


# ------------------------------------------------------------------ regression rules


def case_formula(formula: str, dims: Sequence[str]) -> str:
    """The formula with ``C(dim)`` added for every dimension it does not use."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula.split("~", 1)[-1]))
    extra = [f"C({d})" for d in dims if d not in used]
    return formula if not extra else f"{formula} + {' + '.join(extra)}"


def _fit(units: pd.DataFrame, formula: str, spec: RuleSpec, params):  # noqa: ANN202
    from costperf.benchmark.costmodel import fit_cost_model

    tau = params["tau"] if spec.kind == "quantile_regression" else None
    se = {"se_quantile": "iid"} if tau is not None else {}
    try:
        return fit_cost_model(units, formula, quantile=tau, **se)
    except InputError as exc:
        if tau is None or "se_quantile" not in str(exc):
            raise
        return fit_cost_model(units, formula, quantile=tau, se_quantile="ker")


def _model_columns(units: pd.DataFrame, formula: str) -> list[str]:
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
    columns = _model_columns(units, formula)
    missing, reason, reason_zh = _missing_reason(units, columns)
    reason, reason_zh = np.array(reason, dtype=object), np.array(reason_zh, dtype=object)
    used = ~missing
    fit_on = units[used]
    model = _fit(fit_on, formula, spec, params)
    if params["model_outliers"] == "cooks_distance":
        from costperf.benchmark.costmodel import fit_cost_model

        ols = model if spec.kind == "regression" else fit_cost_model(fit_on, formula)
        flags = cooks_distance_outliers(ols.result)
        positions = np.flatnonzero(used)[flags["outlier"].to_numpy()]
        reason[positions] = flags["outlier_reason"].to_numpy()[flags["outlier"].to_numpy()]
        reason_zh[positions] = flags["outlier_reason_zh"].to_numpy()[flags["outlier"].to_numpy()]
        used[positions] = False
        model = _fit(units[used], formula, spec, params)
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
    all_peers = _peer_rows(units, dims, params, spec.name, used, reason, reason_zh, peer_value)
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
        rows.append(_value_row(dims, key, spec.name, value, all_peers[mask], method, method_zh))
    return _finish(rows, peers, dims, params, spec, digest)


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
    at = (
        "at the cell's median drivers"
        if params["at"] == "median_drivers"
        else "mean prediction over the cell"
    )
    at_zh = (
        "按本组驱动因素中位数取值" if params["at"] == "median_drivers" else "本组各合同预测值的均值"
    )
    n = model.fit["n"]
    if spec.kind == "regression":
        return (
            f"expected unit cost from OLS {formula} on {n} contracts ({params['retransform']} "
            f"retransform), {at}",
            f"成本回归（OLS，{n}个合同，{formula}）的期望单位成本，{at_zh}",
        )
    tau = params["tau"]
    return (
        f"tau = {tau:g} quantile-regression frontier {formula} on {n} contracts, {at}",
        f"分位数回归前沿（tau = {tau:g}，{n}个合同，{formula}），{at_zh}",
    )


# ------------------------------------------------------------------------------ DEA


def dea_rule(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Cell median of unit cost x DEA score (input-oriented), DEA run within each cell."""
    from costperf.benchmark.frontier import cost_efficiency, solve_dea

    inputs, outputs = list(params["dea_inputs"]), list(params["dea_outputs"])
    if not inputs or not outputs:
        msg = (
            "rule 'dea' needs inputs and outputs: set [benchmark] frontier_inputs and "
            "frontier_outputs in case.toml or give --dea-inputs/--dea-outputs"
        )
        raise InputError(msg)
    absent = [c for c in (*inputs, *outputs) if c not in units.columns]
    if absent:
        msg = (
            f"rule 'dea': column(s) {', '.join(absent)} are not in the peer table; "
            f"available: {', '.join(str(c) for c in units.columns)}"
        )
        raise InputError(msg)
    rows, peers = [], []
    value = params["value"]
    for key in cell_keys(units, dims):
        cell = units[in_cell(units, dims, key)]
        missing, reason, reason_zh = _missing_reason(cell, [value, *inputs, *outputs])
        used = ~missing
        score = np.full(len(cell), np.nan)
        if used.sum() >= 1:
            x = cell.loc[used, inputs].set_axis(cell.loc[used, params["id"]].astype(str))
            y = cell.loc[used, outputs].set_axis(x.index)
            rts = params["dea_rts"]
            if params["dea_score"] == "cost":
                scores = cost_efficiency(x, y, [1.0] * len(inputs), rts=rts)["cost_efficiency"]
            else:
                scores = solve_dea(x, y, rts=rts, orientation="in")["efficiency_in"]
            score[used] = scores.to_numpy(dtype=float)
        bad = used & ~np.isfinite(score)
        for i in np.flatnonzero(bad):
            reason[i], reason_zh[i] = "DEA score not available", "无DEA得分"
        used &= ~bad
        efficient = cell[value].to_numpy(dtype=float) * score
        cell_peers = _peer_rows(cell, dims, params, spec.name, used, reason, reason_zh, efficient)
        result = float(np.median(efficient[used])) if used.any() else np.nan
        label = "theta" if params["dea_score"] == "technical" else "cost efficiency"
        label_zh = "投入导向技术效率" if params["dea_score"] == "technical" else "成本效率"
        rts_text = str(params["dea_rts"]).upper()
        rows.append(
            _value_row(
                dims,
                key,
                spec.name,
                result,
                cell_peers,
                f"median efficient unit cost (unit cost x input-oriented {rts_text} DEA "
                f"{label}) of {used.sum()} contracts; inputs {', '.join(inputs)}; "
                f"outputs {', '.join(outputs)}",
                f"同类{used.sum()}个合同有效单位成本（单位成本×{rts_text}{label_zh}）的中位数",
            )
        )
        peers.append(cell_peers)
    return _finish(rows, peers, dims, params, spec, digest)


# -------------------------------------------------------------------- triangulation


def combine_members(values: pd.DataFrame, params: Mapping[str, object]) -> pd.Series:
    """Combine member values (one column per member rule) row by row."""
    members = list(params["members"])
    table = values[members].to_numpy(dtype=float)
    if params["combine"] == "median":
        return pd.Series(np.nanmedian(table, axis=1), index=values.index)
    weights = np.asarray(params["weights"] or [1.0] * len(members), dtype=float)
    ok = np.isfinite(table)
    w = np.where(ok, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, table, 0.0) @ weights / w.sum(axis=1)
    return pd.Series(mean, index=values.index)


def triangulation_rule(
    members: Mapping[str, RuleResult], dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Median or weighted mean of the member rules' values per cell."""
    names = list(params["members"])
    wide = None
    for name in names:
        part = members[name].values[[*dims, "value"]].rename(columns={"value": name})
        wide = part if wide is None else wide.merge(part, on=list(dims), how="outer")
    from costperf.columns import sort_natural

    wide = sort_natural(wide, list(dims)).reset_index(drop=True)
    combined = combine_members(wide, params)
    peers_all = pd.concat([members[n].peers.assign(rule=f"{spec.name}/{n}") for n in names])
    rows, peers = [], []
    for i, key in enumerate(wide[list(dims)].itertuples(index=False, name=None)):
        shown = ", ".join(f"{n} {wide[n].iloc[i]:.4g}" for n in names)
        how = "median" if params["combine"] == "median" else "weighted mean"
        how_zh = "中位数" if params["combine"] == "median" else "加权平均"
        cell_peers = peers_all[in_cell(peers_all, dims, key)]
        union = cell_peers.groupby("project_id")["used"].any()
        row = {
            **dict(zip(dims, key, strict=True)),
            "rule": spec.name,
            "value": float(combined.iloc[i]),
            "n_used": int(union.sum()),
            "n_excluded": int((~union).sum()),
            "method": f"{how} of {shown}",
            "method_zh": f"{'、'.join(names)}各法结果的{how_zh}",
            "peers_used": ";".join(sorted(union.index[union])),
            "peers_excluded": ";".join(sorted(union.index[~union])),
        }
        rows.append(row)
        peers.append(cell_peers)
    return _finish(rows, peers, dims, params, spec, digest)


def regression_drop_grid(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params
) -> pd.DataFrame:
    """Leave-one-out values of a model rule without refitting through the formula layer.

    The design matrix and response of the base fit are reused: each drop refits by
    least squares (the QR solution statsmodels gives for a full-rank design) or by
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
    missing, _, _ = _missing_reason(units, _model_columns(units, formula))
    used = ~missing
    data = units[used].reset_index(drop=True)
    model = _fit(data, formula, spec, params)
    ols = model if spec.kind == "regression" else fit_cost_model(data, formula)
    X, y = np.asarray(ols.result.model.exog), np.asarray(ols.result.model.endog)
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
