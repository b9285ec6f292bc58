"""Sensitivity: each rule's standard recomputed with each peer dropped in turn."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.standards.derive.evaluate import _evaluate, _prepare, rule_values
from costperf.standards.derive.models import regression_drop_grid
from costperf.standards.derive.quantile import screened_statistic
from costperf.standards.derive.result import in_cell
from costperf.standards.derive.rules import LOCAL_KINDS, RuleSpec, check_params, parse_rule
from costperf.standards.derive.triangulation import combine_members


def leave_one_out_values(
    units: pd.DataFrame, dims: Sequence[str], rules: Sequence[str], **params: object
) -> pd.DataFrame:
    """The standard of each rule and cell recomputed with each peer dropped in turn.

    For rules whose cell value depends only on the cell's peers (peer statistics, DEA,
    a triangulation of those) the peers of the cell are dropped; for pooled model rules
    (regression, quantile regression) every peer is. Screening and fitting are redone
    after each drop. A rule that cannot be computed without a peer gives NaN.

    Returns
    -------
    DataFrame
        ``rule``, the ``dims``, ``dropped`` (project id), ``value`` [yuan per output unit].
    """
    checked = check_params(params)
    peers = _prepare(units, dims, checked)
    dims = list(dims)
    specs = [parse_rule(r) for r in rules]
    needed = [s.name for s in specs if s.kind != "triangulation"]
    if any(s.kind == "triangulation" for s in specs):
        needed += list(checked["members"])
    grids = {
        name: _drop_grid(peers, dims, parse_rule(name), checked) for name in dict.fromkeys(needed)
    }
    parts = []
    for spec in specs:
        if spec.kind == "triangulation":
            wide = None
            for member in checked["members"]:
                part = grids[member].rename(columns={"value": member})
                wide = part if wide is None else wide.merge(part, on=[*dims, "dropped", "in_cell"])
            grid = wide[[*dims, "dropped", "in_cell"]].assign(value=combine_members(wide, checked))
        else:
            grid = grids[spec.name]
        if _is_local(spec, checked):
            grid = grid[grid["in_cell"]]
        parts.append(grid.drop(columns="in_cell").assign(rule=spec.name))
    out = pd.concat(parts, ignore_index=True)
    return out[["rule", *dims, "dropped", "value"]]


def _drop_grid(peers: pd.DataFrame, dims: list[str], spec: RuleSpec, params) -> pd.DataFrame:
    """Value of every cell with every peer dropped (a local rule recomputes one cell only)."""
    if spec.kind in ("regression", "quantile_regression") and params["model_outliers"] == "none":
        return regression_drop_grid(peers, dims, spec, params)
    ids = peers[params["id"]].astype(str)
    local = spec.kind in LOCAL_KINDS
    base = _evaluate(peers, dims, spec, params).values[[*dims, "value"]]
    rows = []
    for i in peers.index:
        home = tuple(peers.loc[i, d] for d in dims)
        scope = in_cell(peers, dims, home) if local else pd.Series(True, index=peers.index)
        rest = peers[scope & (peers.index != i)]
        if spec.kind in ("quantile", "mean"):  # only the value is wanted: no provenance
            value = screened_statistic(rest, spec, params)
            values = pd.DataFrame([home], columns=dims).assign(value=value)
        else:
            try:
                values = _evaluate(rest, dims, spec, params).values
            except InputError:
                values = pd.DataFrame([home], columns=dims).assign(value=np.nan)
        values = values[[*dims, "value"]]
        if local:  # the other cells keep their value
            values = pd.concat([base[~in_cell(base, dims, home)], values], ignore_index=True)
        rows.append(values.assign(dropped=ids[i], in_cell=in_cell(values, dims, home)))
    return pd.concat(rows, ignore_index=True)


def _is_local(spec: RuleSpec, params) -> bool:
    if spec.kind == "triangulation":
        return all(parse_rule(m).kind in LOCAL_KINDS for m in params["members"])
    return spec.kind in LOCAL_KINDS


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
    units: pd.DataFrame, dims: Sequence[str], rules: Sequence[str], **params: object
) -> pd.DataFrame:
    """How far each rule's standard moves when one peer is dropped.

    Returns
    -------
    DataFrame
        One row per rule and cell: the ``dims`` after ``rule``, ``value`` (all peers),
        ``n_drops``, ``loo_min``, ``loo_max`` [yuan per output unit],
        ``max_abs_change``, ``max_abs_pct_change`` (% of ``value``), and the
        ``most_influential_peer`` with ``value_without_it``.
    """
    dims = list(dims)
    drops = leave_one_out_values(units, dims, rules, **params)
    rows = []
    for rule in dict.fromkeys(drops["rule"]):
        base = rule_values(units, dims, rule, **params)
        for _, cell in base.iterrows():
            key = tuple(cell[d] for d in dims)
            mine = drops[(drops["rule"] == rule) & in_cell(drops, dims, key)]
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
