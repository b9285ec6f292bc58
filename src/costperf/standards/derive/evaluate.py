"""Running a rule: peers prepared, data hashed, the rule's step called."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from costperf.errors import InputError
from costperf.standards.derive.registry import get_rule
from costperf.standards.derive.result import RuleResult, data_hash
from costperf.standards.derive.rules import RuleSpec, check_params, parse_rule


def prepare_peers(units: pd.DataFrame, dims: Sequence[str], params: dict) -> pd.DataFrame:
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


def hash_columns(units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params) -> list[str]:  # noqa: ANN001
    """The columns the rule's data hash covers (present in ``units``, each once)."""
    base = get_rule(spec.kind).hashed_columns(units, dims, spec, params)
    return [c for c in dict.fromkeys(base) if c in units.columns]


def evaluate_spec(units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params) -> RuleResult:  # noqa: ANN001
    """Run one parsed rule on prepared peers with checked parameters."""
    digest = data_hash(units, hash_columns(units, dims, spec, params))
    return get_rule(spec.kind).evaluate(units, dims, spec, params, digest)


def evaluate_rule(
    units: pd.DataFrame, dims: Sequence[str], rule: str, **params: object
) -> RuleResult:
    """Values per cell and the peer rows behind them (used/excluded, with reasons).

    See :mod:`costperf.standards.derive.rules` for the rules and their parameters.
    """
    spec = parse_rule(rule)
    checked = check_params(params)
    return evaluate_spec(prepare_peers(units, dims, checked), list(dims), spec, checked)


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
        Rule parameters (:func:`~costperf.standards.derive.registry.default_params`):
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
