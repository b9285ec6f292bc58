"""Provenance: every peer row behind every rule's values, used or excluded, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from costperf.standards.derive.evaluate import evaluate_rule
from costperf.standards.derive.result import RuleResult


def rule_provenance(
    units: pd.DataFrame, dims: Sequence[str], rules: Sequence[str], **params: object
) -> pd.DataFrame:
    """Every peer row behind every rule's values: used or excluded, and why.

    Returns
    -------
    DataFrame
        ``rule``, the ``dims``, ``project_id``, ``source_file``, ``source_row``,
        ``unit_cost``, ``output_quantity``, ``total_cost``, ``peer_value`` (what the rule
        used for the peer: its unit cost, model prediction or efficient unit cost),
        ``used``, ``reason``, ``reason_zh``, then the rule's ``method``, ``parameters``
        (JSON) and ``data_hash``.
    """
    return provenance_of({rule: evaluate_rule(units, dims, rule, **params) for rule in rules})


def provenance_of(results: Mapping[str, RuleResult]) -> pd.DataFrame:
    """:func:`rule_provenance` of rules already evaluated (``results`` by rule name)."""
    parts = []
    for result in results.values():
        meta = result.values[["method", "parameters", "data_hash"]].iloc[0]
        parts.append(result.peers.assign(**meta.to_dict()))
    return pd.concat(parts, ignore_index=True)
