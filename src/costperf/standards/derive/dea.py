"""The DEA rule: cell median of unit cost x DEA score, DEA run within each cell."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
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
        missing, reason, reason_zh = missing_reason(cell, [value, *inputs, *outputs])
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
        cell_peers = peer_rows(cell, dims, params, spec.name, used, reason, reason_zh, efficient)
        result = float(np.median(efficient[used])) if used.any() else np.nan
        label = "theta" if params["dea_score"] == "technical" else "cost efficiency"
        label_zh = "投入导向技术效率" if params["dea_score"] == "technical" else "成本效率"
        rts_text = str(params["dea_rts"]).upper()
        rows.append(
            value_row(
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
    return finish_result(rows, peers, dims, params, spec, digest)


def names_list(params: dict[str, object], keys: tuple[str, ...], where: str) -> dict[str, object]:
    """Parameters ``keys`` as tuples of names (a single name is a one-item list)."""
    for key in keys:
        value = params[key]
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            msg = f"{where}: {key} must be a list of names, got {params[key]!r}"
            raise InputError(msg)
        params[key] = tuple(value)
    return params


def _dea_hash(units, dims, spec, params) -> list[str]:  # noqa: ANN001, ARG001
    return [*base_hash_columns(units, dims, params), *params["dea_inputs"], *params["dea_outputs"]]


def _dea_drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001
    from costperf.standards.derive.sensitivity import refit_drop_grid

    return refit_drop_grid(peers, dims, spec, params, grid_of)


register(
    DeriveRule(
        kind="dea",
        names=("dea",),
        parse=lambda text: RuleSpec("dea", "dea") if text == "dea" else None,
        evaluate=dea_rule,
        hashed_columns=_dea_hash,
        drop_grid=_dea_drop_grid,
        is_local=lambda spec, params: True,  # DEA runs within each cell
        params={"dea_inputs": (), "dea_outputs": (), "dea_rts": "vrs", "dea_score": "technical"},
        choices={"dea_score": ("technical", "cost")},
        check=lambda params, where: names_list(params, ("dea_inputs", "dea_outputs"), where),
        label_zh="数据包络分析",
    )
)
