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

from collections.abc import Mapping
from dataclasses import dataclass

from costperf.errors import InputError
from costperf.standards.derive.registry import (
    default_params,
    derive_rules,
    get_rule,
    param_choices,
    rule_names,
)


@dataclass(frozen=True)
class RuleSpec:
    """A parsed rule name: its kind and, for peer quantiles, the probability."""

    name: str
    kind: str  # a registry key: quantile | mean | regression | quantile_regression | dea ...
    q: float | None = None


def parse_rule(rule: object, *, where: str = "rule") -> RuleSpec:
    """Parse ``median``, ``p25``, ``quantile:0.4``, ``regression`` ... into a :class:`RuleSpec`."""
    text = str(rule).strip() if isinstance(rule, str) else ""
    for entry in derive_rules().values():
        spec = entry.parse(text)
        if spec is not None:
            return spec
    msg = f"{where}: unknown rule {rule!r}; use one of: {', '.join(rule_names())}"
    raise InputError(msg)


def check_params(
    params: Mapping[str, object], *, where: str = "derive", check: str = "config"
) -> dict[str, object]:
    """Defaults filled in and every parameter checked; one InputError naming every bad key
    (all of them at once, not only the first; ``check`` is their problems' check code)."""
    from costperf.errors import merge_errors

    defaults = default_params()
    errors: list[InputError] = []
    for key in sorted(set(params) - set(defaults)):
        msg = f"{where}: unknown parameter '{key}'; use one of: {', '.join(sorted(defaults))}"
        errors.append(InputError(msg))
    out = {**defaults, **{k: v for k, v in params.items() if v is not None and k in defaults}}
    for key, allowed in param_choices().items():
        if out[key] not in allowed:
            msg = f"{where}: unknown {key} {out[key]!r}; use one of: {', '.join(allowed)}"
            errors.append(InputError(msg))
    for entry in derive_rules().values():
        if entry.check is not None:
            try:
                out = entry.check(dict(out), where)
            except InputError as exc:  # each rule's own keys: checked whatever the others
                errors.append(exc)
    if errors:
        raise merge_errors(errors, check)
    return out


def rule_parameters(spec: RuleSpec, params: Mapping[str, object]) -> dict[str, object]:
    """The parameters a rule used, JSON-ready (no None values, lists not tuples)."""
    chosen = {"rule": spec.name, "value_column": params["value"]}
    if spec.q is not None:
        chosen["quantile"] = spec.q
    for key in get_rule(spec.kind).params:
        value = params[key]
        if value is None:
            continue
        chosen[key] = list(value) if isinstance(value, tuple) else value
    return chosen


def is_peer_statistic(name: str) -> bool:
    """Whether ``name`` is a peer statistic (a quantile or the mean), e.g. for a band."""
    try:
        return parse_rule(name).kind in ("quantile", "mean")
    except InputError:
        return False
