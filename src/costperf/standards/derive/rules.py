"""Rule names and their parameters: parsing, defaults, checks, what each rule records.

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

import re
from collections.abc import Mapping
from dataclasses import dataclass

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


@dataclass(frozen=True)
class RuleSpec:
    """A parsed rule name: its kind and, for peer quantiles, the probability."""

    name: str
    kind: str  # quantile | mean | regression | quantile_regression | dea | triangulation
    q: float | None = None


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
