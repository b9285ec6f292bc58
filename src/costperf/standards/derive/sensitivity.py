"""Sensitivity: each rule's standard recomputed with each peer dropped in turn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.standards.derive.evaluate import evaluate_spec, prepare_peers, rule_values
from costperf.standards.derive.registry import get_rule
from costperf.standards.derive.result import in_cell
from costperf.standards.derive.rules import RuleSpec, check_params, parse_rule


def leave_one_out_values(
    units: pd.DataFrame,
    dims: Sequence[str],
    rules: Sequence[str],
    *,
    naive: bool = False,
    **params: object,
) -> pd.DataFrame:
    """The standard of each rule and cell recomputed with each peer dropped in turn.

    For rules whose cell value depends only on the cell's peers (peer statistics, DEA,
    a triangulation of those) the peers of the cell are dropped; for pooled model rules
    (regression, quantile regression) every peer is. Screening and fitting are redone
    after each drop. A rule that cannot be computed without a peer gives NaN. Each rule's
    grid comes from its registry entry's ``drop_grid`` (the fast path), or with
    ``naive=True`` from its ``naive_drop_grid`` (the rule recomputed per drop, default
    :func:`refit_drop_grid`): the reference the fast paths are checked against.

    Returns
    -------
    DataFrame
        ``rule``, the ``dims``, ``dropped`` (project id), ``value`` [yuan per output unit].
    """
    checked = check_params(params)
    peers = prepare_peers(units, dims, checked)
    dims = list(dims)
    grids: dict[str, pd.DataFrame] = {}

    def grid_of(name: str) -> pd.DataFrame:
        if name not in grids:
            spec = parse_rule(name)
            rule = get_rule(spec.kind)
            step = (rule.naive_drop_grid or refit_drop_grid) if naive else rule.drop_grid
            grids[name] = step(peers, dims, spec, checked, grid_of)
        return grids[name]

    parts = []
    for spec in (parse_rule(r) for r in rules):
        grid = grid_of(spec.name)
        if get_rule(spec.kind).is_local(spec, checked):
            grid = grid[grid["in_cell"]]
        parts.append(grid.drop(columns="in_cell").assign(rule=spec.name))
    out = pd.concat(parts, ignore_index=True)
    return out[["rule", *dims, "dropped", "value"]]


def refit_drop_grid(
    peers: pd.DataFrame,
    dims: list[str],
    spec: RuleSpec,
    params,  # noqa: ANN001
    grid_of=None,  # noqa: ANN001, ARG001 - the drop_grid signature
    *,
    value_of=None,  # noqa: ANN001
) -> pd.DataFrame:
    """The generic leave-one-out path: the rule recomputed with each peer dropped.

    A local rule recomputes only the dropped peer's cell. ``value_of(cell, spec,
    params) -> float`` computes one cell's value without provenance (faster), when the
    rule has such a function; else the rule is evaluated in full.
    """
    ids = peers[params["id"]].astype(str)
    local = get_rule(spec.kind).is_local(spec, params)
    base = evaluate_spec(peers, dims, spec, params).values[[*dims, "value"]]
    rows = []
    for i in peers.index:
        home = tuple(peers.loc[i, d] for d in dims)
        scope = in_cell(peers, dims, home) if local else pd.Series(True, index=peers.index)
        rest = peers[scope & (peers.index != i)]
        if value_of is not None:  # only the value is wanted: no provenance
            values = pd.DataFrame([home], columns=dims).assign(value=value_of(rest, spec, params))
        else:
            try:
                values = evaluate_spec(rest, dims, spec, params).values
            except InputError:
                values = pd.DataFrame([home], columns=dims).assign(value=np.nan)
        values = values[[*dims, "value"]]
        if local:  # the other cells keep their value
            values = pd.concat([base[~in_cell(base, dims, home)], values], ignore_index=True)
        rows.append(values.assign(dropped=ids[i], in_cell=in_cell(values, dims, home)))
    return pd.concat(rows, ignore_index=True)


SENSITIVITY_COLUMNS = [
    "rule",
    "value",
    "n_drops",
    "loo_min",
    "loo_max",
    "max_abs_change",
    "max_abs_pct_change",
    "most_influential_peer",
    "value_without_it",
]


def leave_one_out(
    units: pd.DataFrame,
    dims: Sequence[str],
    rules: Sequence[str],
    *,
    naive: bool = False,
    base: Mapping[str, pd.DataFrame] | None = None,
    **params: object,
) -> pd.DataFrame:
    """How far each rule's standard moves when one peer is dropped.

    ``naive`` as in :func:`leave_one_out_values`; ``base`` optionally gives each rule's
    values with all peers (:func:`rule_values`, already computed by the caller).

    Returns
    -------
    DataFrame
        One row per rule and cell: the ``dims`` after ``rule``, ``value`` (all peers),
        ``n_drops``, ``loo_min``, ``loo_max`` [yuan per output unit],
        ``max_abs_change``, ``max_abs_pct_change`` (% of ``value``), and the
        ``most_influential_peer`` with ``value_without_it``.
    """
    drops = leave_one_out_values(units, dims, rules, naive=naive, **params)
    return summarise_drops(units, dims, drops, base=base, **params)


def summarise_drops(
    units: pd.DataFrame,
    dims: Sequence[str],
    drops: pd.DataFrame,
    *,
    base: Mapping[str, pd.DataFrame] | None = None,
    **params: object,
) -> pd.DataFrame:
    """The :func:`leave_one_out` table from the :func:`leave_one_out_values` table."""
    dims = list(dims)
    rows = []
    for rule in dict.fromkeys(drops["rule"]):
        values = (base or {}).get(rule)
        values = rule_values(units, dims, rule, **params) if values is None else values
        of_rule = drops[drops["rule"] == rule]
        for _, cell in values.iterrows():
            key = tuple(cell[d] for d in dims)
            mine = of_rule[in_cell(of_rule, dims, key)]
            change = (mine["value"] - cell["value"]).abs()
            top = change.idxmax() if change.notna().any() else None
            rows.append(
                {
                    "rule": rule,
                    **dict(zip(dims, key, strict=True)),
                    "value": cell["value"],
                    "n_drops": len(mine),
                    "loo_min": mine["value"].min(),
                    "loo_max": mine["value"].max(),
                    "max_abs_change": change.max(),
                    "max_abs_pct_change": 100.0 * change.max() / abs(cell["value"]),
                    "most_influential_peer": "" if top is None else mine.at[top, "dropped"],
                    "value_without_it": np.nan if top is None else mine.at[top, "value"],
                }
            )
    return pd.DataFrame(rows, columns=[SENSITIVITY_COLUMNS[0], *dims, *SENSITIVITY_COLUMNS[1:]])
