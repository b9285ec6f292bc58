"""Comparing rules: their standards side by side and the savings each implies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.standards.derive.evaluate import prepare_peers, rule_values
from costperf.standards.derive.result import RuleResult
from costperf.standards.derive.rules import check_params


def rule_savings(
    units: pd.DataFrame, values: pd.DataFrame, dims: Sequence[str], **params: object
) -> pd.DataFrame:
    """Savings a standard implies across the peers of each cell.

    ``savings_yuan`` = sum over the cell's peers (all of them, outliers included) of
    ``max(0, unit_cost - standard) * output_quantity``; ``savings_pct`` is that as a
    percentage of the same peers' ``total_cost``.
    """
    p = check_params(params)
    return _savings(_savings_peers(units, dims, p), values, dims, p)


def _savings_peers(units: pd.DataFrame, dims: Sequence[str], p: Mapping) -> pd.DataFrame:
    """The peers :func:`rule_savings` sums over (a finite value and output): the same
    for every rule of one comparison."""
    peers = prepare_peers(units, dims, p)
    return peers[np.isfinite(peers[p["value"]]) & np.isfinite(peers[p["output"]])]


def _savings(
    peers: pd.DataFrame, values: pd.DataFrame, dims: Sequence[str], p: Mapping
) -> pd.DataFrame:
    """:func:`rule_savings` of the peers :func:`_savings_peers` chose."""
    merged = peers.merge(values[[*dims, "value"]], on=list(dims), how="inner")
    excess = np.maximum(0.0, merged[p["value"]] - merged["value"]) * merged[p["output"]]
    savings = excess.where(merged["value"].notna()).to_numpy(dtype=float)
    grouped = merged.groupby(list(dims), sort=False, dropna=False)
    cost = grouped[p["cost"]].sum()  # each cell once, in the order the peers name them
    out = pd.DataFrame(
        {"n_peers": grouped.size().to_numpy(), "peer_cost_yuan": cost.to_numpy()},
        index=cost.index,
    ).reset_index()
    out["savings_yuan"] = group_sums(savings, grouped.ngroup().to_numpy(), len(out))
    out["savings_pct"] = 100.0 * out["savings_yuan"] / out["peer_cost_yuan"]
    return out


def group_sums(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Each group's ``Series.sum(min_count=1)`` of ``values`` (NaN skipped; NaN for a
    group without a number), ``group`` the row's group in ``0 .. n_groups - 1``.

    The same numpy sum pandas' ``nansum`` takes over each group's values in row order
    (so the same float to the last bit), without a Series and a call per group.
    """
    number = ~np.isnan(values)
    order = np.argsort(group, kind="stable")
    filled = np.where(number, values, 0.0)[order]
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    sums = np.array([filled[a:b].sum() for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    counts = np.bincount(group[number], minlength=n_groups)
    return np.where(counts >= 1, sums, np.nan) if n_groups else np.empty(0)


COMPARISON_COLUMNS = [
    "rule",
    "scope",
    "value",
    "n_used",
    "n_excluded",
    "n_peers",
    "peer_cost_yuan",
    "savings_yuan",
    "savings_pct",
    "method",
    "method_zh",
]


def compare_rules(
    units: pd.DataFrame,
    dims: Sequence[str],
    rules: Sequence[str],
    *,
    on_error: str = "raise",
    **params: object,
) -> pd.DataFrame:
    """Standards of several rules side by side, with the savings each implies.

    Parameters
    ----------
    rules
        Rule names (see :func:`rule_values`).
    on_error
        ``"raise"``; or ``"note"``: a rule that cannot be computed (no formula, no DEA
        inputs, a singular model) gets one row with NaN values and the reason in
        ``method``.

    Returns
    -------
    DataFrame
        :data:`COMPARISON_COLUMNS` with the ``dims`` after ``scope``: one ``scope =
        "cell"`` row per rule and cell, then one ``scope = "total"`` row per rule
        (dims blank) summing ``n_*``, ``peer_cost_yuan`` and ``savings_yuan``;
        ``savings_pct`` = savings / peer cost x 100.
    """
    dims = list(dims)
    parts = []
    for rule in rules:
        try:
            values = rule_values(units, dims, rule, **params)
        except InputError as exc:
            if on_error != "note":
                raise
            note = {"rule": rule, "scope": "total", "method": str(exc), "method_zh": str(exc)}
            parts.append(pd.DataFrame([note]))
            continue
        parts.append(_comparison_rows(units, dims, values, params))
    columns = [*COMPARISON_COLUMNS[:2], *dims, *COMPARISON_COLUMNS[2:]]
    return pd.concat(parts, ignore_index=True).reindex(columns=columns)


def _comparison_rows(units, dims, values: pd.DataFrame, params, peers=None) -> pd.DataFrame:  # noqa: ANN001
    """Cell rows plus one total row of one rule's values and savings (``peers``: the
    units' :func:`_savings_peers`, when already chosen)."""
    dims = list(dims)
    if peers is None:
        savings = rule_savings(units, values, dims, **params)
    else:
        savings = _savings(peers, values, dims, check_params(params))
    cells = values.merge(savings, on=dims, how="left")
    cells["scope"] = "cell"
    total = {
        "rule": values["rule"].iloc[0],
        "scope": "total",
        **{d: "" for d in dims},
        **{c: cells[c].sum() for c in ("n_used", "n_excluded", "n_peers", "peer_cost_yuan")},
        "savings_yuan": cells["savings_yuan"].sum(min_count=1),
        "method": values["method"].iloc[0] if len(values) == 1 else "all cells",
        "method_zh": values["method_zh"].iloc[0] if len(values) == 1 else "全部",
    }
    total["savings_pct"] = 100.0 * total["savings_yuan"] / total["peer_cost_yuan"]
    columns = [*COMPARISON_COLUMNS[:2], *dims, *COMPARISON_COLUMNS[2:]]
    out = pd.concat([cells, pd.DataFrame([total])], ignore_index=True)
    return out.reindex(columns=columns)


def comparison_of(units, dims, results: Mapping[str, RuleResult], params) -> pd.DataFrame:  # noqa: ANN001
    """:func:`compare_rules` rows of rules already evaluated (``results`` by rule name)."""
    peers = _savings_peers(units, list(dims), check_params(params))
    parts = []
    for result in results.values():
        parts.append(_comparison_rows(units, dims, result.values, params, peers))
    return pd.concat(parts, ignore_index=True)
