"""The DEA rule: cell median of unit cost x DEA score, DEA run within each cell."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.labels import code_label, message
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

    inputs, outputs = dea_columns(units, spec, params)
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
        score_code = "technical" if params["dea_score"] == "technical" else "cost"
        method = (
            message(
                "derive.method_dea",
                lang,
                n=used.sum(),
                rts=str(params["dea_rts"]).upper(),
                score=code_label("dea_score", score_code, lang),
                inputs=message("list.enumeration", lang).join(inputs),
                outputs=message("list.enumeration", lang).join(outputs),
            )
            for lang in ("en", "zh")
        )
        rows.append(value_row(dims, key, spec.name, result, cell_peers, *method))
        peers.append(cell_peers)
    return finish_result(rows, peers, dims, params, spec, digest)


def dea_columns(units: pd.DataFrame, spec: RuleSpec, params) -> tuple[list[str], list[str]]:  # noqa: ANN001, ARG001
    """The DEA inputs and outputs, checked to be given and in the peer table."""
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
    return inputs, outputs


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


def _naive_drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001
    from costperf.standards.derive.sensitivity import refit_drop_grid

    return refit_drop_grid(peers, dims, spec, params, grid_of)


def dea_drop_grid(peers, dims, spec, params, grid_of=None) -> pd.DataFrame:  # noqa: ANN001
    """Leave-one-out grid of the DEA rule, re-solving only the units a drop can move.

    Dropping unit ``j`` removes one column of every unit's LP. A unit whose optimal
    solution does not use ``j`` (``j`` not among its peers) keeps its optimum, so its
    score is unchanged; only the units that have ``j`` as a peer are re-solved, against
    the union of all peer sets, those units and any unit without a score (without
    ``j``), which spans the same technology as all the other units: every unit left out
    of it is covered by its own unchanged peers. A drop that no unit references only
    takes one value out of the cell's median. The cost-efficiency score (no peer sets
    reported) is recomputed per drop (:func:`refit_drop_grid`).
    """
    if params["dea_score"] != "technical":
        return _naive_drop_grid(peers, dims, spec, params, grid_of)
    from costperf.standards.derive.drops import cell_codes, grid_frame

    inputs, outputs = dea_columns(peers, spec, params)
    keys, code = cell_codes(peers, dims)
    needed = [params["value"], *inputs, *outputs]
    missing = peers[needed].isna().any(axis=1).to_numpy()
    unit_cost = pd.to_numeric(peers[params["value"]], errors="coerce").to_numpy(dtype=float)
    x = peers[inputs].to_numpy(dtype=float)
    y = peers[outputs].to_numpy(dtype=float)
    value = np.empty((len(peers), len(keys)))
    own = np.full(len(peers), np.nan)
    base = np.full(len(keys), np.nan)
    for c in range(len(keys)):
        members = np.flatnonzero(code == c)
        used = members[~missing[members]]
        drops = _cell_drops(unit_cost[used], x[used], y[used], params)
        base[c] = drops[0]
        own[members] = drops[0]
        own[used] = drops[1:]
    value[:] = base
    value[np.arange(len(peers)), code] = own
    ids = peers[params["id"]].astype(str).to_numpy()
    return grid_frame(dims, keys, ids, value, code)


def _scores(x, y, params, reference=None) -> tuple[np.ndarray, list[np.ndarray]]:  # noqa: ANN001
    """Input-oriented DEA scores and each unit's peers (positions in the reference)."""
    from costperf.benchmark.frontier import solve_dea

    def frame(a: np.ndarray, prefix: str) -> pd.DataFrame:
        columns = [f"{prefix}{i}" for i in range(a.shape[1])]
        return pd.DataFrame(a, index=pd.RangeIndex(len(a)), columns=columns)

    ref = None if reference is None else (frame(reference[0], "x"), frame(reference[1], "y"))
    rts = params["dea_rts"]
    # a re-solve without one unit: rows of the cell's arrays, checked by its first solve
    sols = solve_dea(
        frame(x, "x"),
        frame(y, "y"),
        rts=rts,
        orientation="in",
        reference=ref,
        checked=reference is not None,
    )
    score = sols["efficiency_in"].to_numpy(dtype=float)
    peers = [np.array([int(p) for p in str(t).split(",") if p], dtype=int) for t in sols["peers"]]
    return score, peers


def _cell_drops(unit_cost: np.ndarray, x: np.ndarray, y: np.ndarray, params) -> np.ndarray:  # noqa: ANN001
    """The cell's DEA value with nothing dropped, then with each unit dropped in turn."""
    from costperf.standards.derive.drops import medians_without

    n = len(unit_cost)
    out = np.full(n + 1, np.nan)
    if n == 0:
        return out
    score, peers = _scores(x, y, params)
    efficient = unit_cost * score
    finite = np.isfinite(efficient)
    referenced: dict[int, list[int]] = {}
    for k, mine in enumerate(peers):
        for p in mine:
            if p != k:
                referenced.setdefault(int(p), []).append(k)
    spanning = set(np.concatenate([*peers, np.flatnonzero(~finite)]).tolist())
    if finite.any():
        out[0], without = medians_without(efficient[finite])
        out[1:] = out[0]  # a unit without a score: the others keep theirs
        out[1 + np.flatnonzero(finite)] = without
    for j, moved in referenced.items():
        moved = np.array(moved)
        reference = np.array(sorted((spanning | set(moved.tolist())) - {j}))
        new, _ = _scores(x[moved], y[moved], params, reference=(x[reference], y[reference]))
        changed = efficient.copy()
        changed[moved] = unit_cost[moved] * new
        keep = np.isfinite(changed) & (np.arange(n) != j)
        out[1 + j] = float(np.median(changed[keep])) if keep.any() else np.nan
    return out


register(
    DeriveRule(
        kind="dea",
        names=("dea",),
        parse=lambda text: RuleSpec("dea", "dea") if text == "dea" else None,
        evaluate=dea_rule,
        hashed_columns=_dea_hash,
        drop_grid=dea_drop_grid,
        naive_drop_grid=_naive_drop_grid,
        is_local=lambda spec, params: True,  # DEA runs within each cell
        params={"dea_inputs": (), "dea_outputs": (), "dea_rts": "vrs", "dea_score": "technical"},
        choices={"dea_score": ("technical", "cost")},
        check=lambda params, where: names_list(params, ("dea_inputs", "dea_outputs"), where),
        label_zh="数据包络分析",
    )
)
