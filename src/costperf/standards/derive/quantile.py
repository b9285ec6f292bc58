"""Peer-statistic rules (median, mean, p10 ... p90, quantile:<q>) after outlier screening."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.standards.derive.result import (
    RuleResult,
    _finish,
    _peer_rows,
    _value_row,
    cell_keys,
    in_cell,
)
from costperf.standards.derive.rules import RuleSpec


def _statistic(kept: np.ndarray, spec: RuleSpec, params) -> float:
    """The rule's statistic of the values kept after screening (NaN when none is)."""
    if not len(kept):
        return np.nan
    if spec.kind == "mean":
        return float(np.mean(kept))
    return float(np.quantile(kept, spec.q, method=params["quantile_method"]))


def screened_statistic(cell: pd.DataFrame, spec: RuleSpec, params) -> float:
    """The value of one cell's peers under a peer-statistic rule, without the provenance
    rows (for leave-one-out, where only the value is wanted): the same screening and
    statistic as :func:`peer_statistic_rule`."""
    from costperf.benchmark.peers import flag_outliers

    value = params["value"]
    if cell.empty:
        return np.nan
    flagged = flag_outliers(
        cell,
        value,
        by=None,
        rule=params["outlier_rule"],
        k=params["k"],
        quantile_method=params["quantile_method"],
        min_group_size=params["min_group_size"],
    )
    keep = (~flagged["outlier"] & flagged[value].notna()).to_numpy()
    return _statistic(flagged[value].to_numpy(dtype=float)[keep], spec, params)


def peer_statistic_rule(
    units: pd.DataFrame, dims: Sequence[str], spec: RuleSpec, params, digest: str
) -> RuleResult:
    """Peer quantile (or mean) of each cell after outlier screening."""
    from costperf.benchmark.peers import flag_outliers

    value = params["value"]
    flagged = flag_outliers(
        units,
        value,
        by=list(dims),
        rule=params["outlier_rule"],
        k=params["k"],
        quantile_method=params["quantile_method"],
        min_group_size=params["min_group_size"],
    )
    missing = flagged[value].isna()
    flagged["outlier_reason"] = flagged["outlier_reason"].where(~missing, f"missing {value}")
    flagged["outlier_reason_zh"] = flagged["outlier_reason_zh"].where(~missing, "缺少单位成本")
    rows, peers = [], []
    rule_text = params["outlier_rule"]
    for key in cell_keys(units, dims):
        cell = flagged[in_cell(flagged, dims, key)]
        keep = (~cell["outlier"] & cell[value].notna()).to_numpy()
        result = _statistic(cell[value].to_numpy(dtype=float)[keep], spec, params)
        if spec.kind == "mean":
            what, what_zh = "mean", "均值"
        else:
            what = "median" if spec.q == 0.5 else f"{100 * spec.q:g}th percentile"
            what_zh = "中位数" if spec.q == 0.5 else f"第{100 * spec.q:g}百分位数"
        reason = np.where(keep, "", cell["outlier_reason"].to_numpy(dtype=object))
        reason_zh = np.where(keep, "", cell["outlier_reason_zh"].to_numpy(dtype=object))
        rows_ = _peer_rows(cell, dims, params, spec.name, keep, reason, reason_zh, cell[value])
        peers.append(rows_)
        rows.append(
            _value_row(
                dims,
                key,
                spec.name,
                result,
                rows_,
                f"peer {what} of {keep.sum()} contracts after {rule_text} screening",
                f"同类{keep.sum()}个合同经{rule_text}异常值筛查后的{what_zh}",
            )
        )
    return _finish(rows, peers, dims, params, spec, digest)
