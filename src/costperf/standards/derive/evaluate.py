"""Running a rule: peers prepared, data hashed, the rule's step called."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from costperf.errors import InputError
from costperf.standards.derive.dea import dea_rule
from costperf.standards.derive.models import _model_columns, case_formula, regression_rule
from costperf.standards.derive.quantile import peer_statistic_rule
from costperf.standards.derive.result import RuleResult, data_hash
from costperf.standards.derive.rules import RuleSpec, check_params, parse_rule
from costperf.standards.derive.triangulation import triangulation_rule


def _prepare(units: pd.DataFrame, dims: Sequence[str], params: dict) -> pd.DataFrame:
    """Peers that belong to a cell (all dimensions given), with a plain row index."""
    needed = [params["id"], params["value"], *dims]
    missing = [c for c in needed if c not in units.columns]
    if missing:
        msg = f"cannot derive a standard: the peer table has no column(s) {', '.join(missing)}"
        raise InputError(msg)
    peers = units.dropna(subset=list(dims)).reset_index(drop=True)
    # header bookkeeping in attrs is deep-copied by every pandas operation; the rules
    # locate peers by their source_file/source_row columns and do not need it
    peers.attrs = {}
    if peers.empty:
        msg = f"cannot derive a standard: no peer has {', '.join(dims) or 'a row'}"
        raise InputError(msg)
    return peers


def _hash_columns(units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params) -> list[str]:
    base = [params["id"], *dims, params["value"], params["output"], params["cost"]]
    if spec.kind in ("regression", "quantile_regression") and params["formula"]:
        base += _model_columns(units, case_formula(str(params["formula"]), dims))
    elif spec.kind == "dea":
        base += [*params["dea_inputs"], *params["dea_outputs"]]
    elif spec.kind == "triangulation":
        for member in params["members"]:
            base += _hash_columns(units, dims, parse_rule(member), params)
    return [c for c in dict.fromkeys(base) if c in units.columns]


def _evaluate(units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params) -> RuleResult:
    digest = data_hash(units, _hash_columns(units, dims, spec, params))
    if spec.kind in ("quantile", "mean"):
        return peer_statistic_rule(units, dims, spec, params, digest)
    if spec.kind in ("regression", "quantile_regression"):
        return regression_rule(units, dims, spec, params, digest)
    if spec.kind == "dea":
        return dea_rule(units, dims, spec, params, digest)
    members = {m: _evaluate(units, dims, parse_rule(m), params) for m in params["members"]}
    return triangulation_rule(members, dims, spec, params, digest)


def evaluate_rule(
    units: pd.DataFrame, dims: Sequence[str], rule: str, **params: object
) -> RuleResult:
    """Values per cell and the peer rows behind them (used/excluded, with reasons).

    See :mod:`costperf.standards.derive.rules` for the rules and their parameters.
    """
    spec = parse_rule(rule)
    checked = check_params(params)
    return _evaluate(_prepare(units, dims, checked), list(dims), spec, checked)


def rule_values(
    units: pd.DataFrame, dims: Sequence[str], rule: str, **params: object
) -> pd.DataFrame:
    """The standard of every dimension cell under one rule, with its provenance.

    Parameters
    ----------
    units
        One row per peer contract: ``project_id``, the ``dims``, ``unit_cost`` [yuan per
        output unit], ``output_quantity``, ``total_cost`` [yuan] and whatever the rule
        uses (formula drivers, DEA inputs and outputs).
    dims
        Dimension columns (e.g. ``["road_grade"]``); one value per cell.
    rule
        ``median``, ``mean``, ``p10``, ``p25``, ``p75``, ``p90``, ``quantile:<q>``,
        ``regression``, ``quantile_regression``, ``dea`` or ``triangulation``.
    **params
        Rule parameters (:data:`~costperf.standards.derive.rules.DEFAULT_PARAMS`):
        ``outlier_rule``, ``k``, ``quantile_method``, ``formula``, ``at``
        (``median_drivers`` | ``mean_prediction``), ``tau``, ``model_outliers``,
        ``dea_inputs``, ``dea_outputs``, ``dea_rts``, ``dea_score``, ``members``,
        ``combine``, ``weights`` ...

    Returns
    -------
    DataFrame
        One row per cell: the ``dims``, ``rule``, ``value`` [yuan per output unit],
        ``n_used``, ``n_excluded``, ``method``, ``method_zh``, ``parameters`` (JSON),
        ``data_hash``, ``peers_used``, ``peers_excluded`` ("id: reason;...").
    """
    return evaluate_rule(units, dims, rule, **params).values
