"""Peer-statistic rules (median, mean, p10 ... p90, quantile:<q>) after outlier screening."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.standards.derive.registry import DeriveRule, register
from costperf.standards.derive.result import (
    RuleResult,
    base_hash_columns,
    cell_keys,
    finish_result,
    in_cell,
    peer_rows,
    value_row,
)
from costperf.standards.derive.rules import RuleSpec

#: named peer quantiles
QUANTILE_RULES = {"median": 0.5, "p10": 0.10, "p25": 0.25, "p75": 0.75, "p90": 0.90}

#: outlier screening before the statistic (see costperf.benchmark.peers.flag_outliers)
SCREENING_PARAMS: dict[str, object] = {
    "outlier_rule": "iqr",
    "k": None,
    "quantile_method": "linear",
    "min_group_size": 4,
}


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
        rows_ = peer_rows(cell, dims, params, spec.name, keep, reason, reason_zh, cell[value])
        peers.append(rows_)
        rows.append(
            value_row(
                dims,
                key,
                spec.name,
                result,
                rows_,
                f"peer {what} of {keep.sum()} contracts after {rule_text} screening",
                f"同类{keep.sum()}个合同{_screen_zh(rule_text)}的{what_zh}",
            )
        )
    return finish_result(rows, peers, dims, params, spec, digest)


def parse_quantile(text: str) -> RuleSpec | None:
    """``median``, ``p10`` ... ``p90`` or ``quantile:<q>`` with 0 <= q <= 1."""
    if text in QUANTILE_RULES:
        return RuleSpec(text, "quantile", QUANTILE_RULES[text])
    match = re.fullmatch(r"quantile:\s*([0-9.]+)", text)
    if match:
        try:
            q = float(match.group(1))
        except ValueError:
            return None
        if 0 <= q <= 1:
            return RuleSpec(f"quantile:{q:g}", "quantile", q)
    return None


def _drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001
    from costperf.standards.derive.sensitivity import refit_drop_grid

    return refit_drop_grid(peers, dims, spec, params, grid_of, value_of=screened_statistic)


def _hash(units, dims, spec, params) -> list[str]:  # noqa: ANN001, ARG001
    return base_hash_columns(units, dims, params)


register(
    DeriveRule(
        kind="quantile",
        names=(*QUANTILE_RULES, "quantile:<q>"),
        parse=parse_quantile,
        evaluate=peer_statistic_rule,
        hashed_columns=_hash,
        drop_grid=_drop_grid,
        is_local=lambda spec, params: True,
        params=SCREENING_PARAMS,
        label_zh="同类分位数",
    )
)
register(
    DeriveRule(
        kind="mean",
        names=("mean",),
        parse=lambda text: RuleSpec("mean", "mean") if text == "mean" else None,
        evaluate=peer_statistic_rule,
        hashed_columns=_hash,
        drop_grid=_drop_grid,
        is_local=lambda spec, params: True,
        params=SCREENING_PARAMS,
        label_zh="同类均值",
    )
)


def _screen_zh(rule: str) -> str:
    """``iqr`` -> 经四分位距法筛查异常值后 (labels.csv); ``none`` -> ''."""
    from costperf.columns import code_label

    return "" if rule == "none" else f"经{code_label('outlier_rule', rule, 'zh')}筛查异常值后"
