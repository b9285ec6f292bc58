"""The triangulation rule: median or weighted mean of the member rules per cell."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.standards.derive.result import RuleResult, _finish, in_cell
from costperf.standards.derive.rules import RuleSpec


def combine_members(values: pd.DataFrame, params: Mapping[str, object]) -> pd.Series:
    """Combine member values (one column per member rule) row by row."""
    members = list(params["members"])
    table = values[members].to_numpy(dtype=float)
    if params["combine"] == "median":
        return pd.Series(np.nanmedian(table, axis=1), index=values.index)
    weights = np.asarray(params["weights"] or [1.0] * len(members), dtype=float)
    ok = np.isfinite(table)
    w = np.where(ok, weights, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, table, 0.0) @ weights / w.sum(axis=1)
    return pd.Series(mean, index=values.index)


def triangulation_rule(
    members: Mapping[str, RuleResult], dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Median or weighted mean of the member rules' values per cell."""
    names = list(params["members"])
    wide = None
    for name in names:
        part = members[name].values[[*dims, "value"]].rename(columns={"value": name})
        wide = part if wide is None else wide.merge(part, on=list(dims), how="outer")
    from costperf.columns import sort_natural

    wide = sort_natural(wide, list(dims)).reset_index(drop=True)
    combined = combine_members(wide, params)
    peers_all = pd.concat([members[n].peers.assign(rule=f"{spec.name}/{n}") for n in names])
    rows, peers = [], []
    for i, key in enumerate(wide[list(dims)].itertuples(index=False, name=None)):
        shown = ", ".join(f"{n} {wide[n].iloc[i]:.4g}" for n in names)
        how = "median" if params["combine"] == "median" else "weighted mean"
        how_zh = "中位数" if params["combine"] == "median" else "加权平均"
        cell_peers = peers_all[in_cell(peers_all, dims, key)]
        union = cell_peers.groupby("project_id")["used"].any()
        row = {
            **dict(zip(dims, key, strict=True)),
            "rule": spec.name,
            "value": float(combined.iloc[i]),
            "n_used": int(union.sum()),
            "n_excluded": int((~union).sum()),
            "method": f"{how} of {shown}",
            "method_zh": f"{'、'.join(names)}各法结果的{how_zh}",
            "peers_used": ";".join(sorted(union.index[union])),
            "peers_excluded": ";".join(sorted(union.index[~union])),
        }
        rows.append(row)
        peers.append(cell_peers)
    return _finish(rows, peers, dims, params, spec, digest)
