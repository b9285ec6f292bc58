"""Peer-statistic rules (median, mean, p10 ... p90, quantile:<q>) after outlier screening."""

from __future__ import annotations

import re
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


def _check_screening(params: dict[str, object], where: str) -> dict[str, object]:
    """The outlier screening's parameters, checked before any data is read (all at once)."""
    from costperf.benchmark.peers import QUANTILE_METHODS, RULES
    from costperf.errors import merge_errors

    errors = []
    rule, k, size = params["outlier_rule"], params["k"], params["min_group_size"]
    if rule not in RULES:
        errors.append(f"{where}: unknown outlier_rule {rule!r}; use one of: {', '.join(RULES)}")
    if params["quantile_method"] not in QUANTILE_METHODS:
        names = ", ".join(QUANTILE_METHODS)
        method = params["quantile_method"]
        errors.append(f"{where}: unknown quantile_method {method!r}; use one of: {names}")
    number = isinstance(k, int | float) and not isinstance(k, bool)
    if k is not None and not (number and np.isfinite(k) and k > 0):
        errors.append(f"{where}: outlier multiplier k must be a positive number, got {k!r}")
    whole = isinstance(size, int | np.integer) and not isinstance(size, bool)
    if not (whole and size >= 1):
        errors.append(f"{where}: min_group_size must be a positive integer, got {size!r}")
    if errors:
        raise merge_errors([InputError(e) for e in errors])
    return params


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
                *(
                    message(
                        "derive.method_peer",
                        lang,
                        n=keep.sum(),
                        what=_statistic_words(spec, lang),
                        screen=_screen_words(rule_text, lang),
                    )
                    for lang in ("en", "zh")
                ),
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


def statistic_drops(values: np.ndarray, skips: np.ndarray, spec: RuleSpec, params) -> np.ndarray:  # noqa: ANN001
    """The rule's value of one cell's sorted ``values`` with position ``skips[i]`` left
    out (-1: none), for every ``i`` at once: the same screening and statistic as
    :func:`screened_statistic`.

    IQR fences come from the quartiles of the sample without the dropped value (two
    order statistics each, :func:`~costperf.standards.derive.drops.sorted_quantile`);
    the values kept are then one contiguous run of the sorted sample, so the quantile
    is read from it the same way and the mean from cumulative sums. The MAD screen has
    no such shortcut (its scale is a median of distances): it is recomputed per drop
    with numpy, O(n) each.
    """
    from costperf.benchmark.peers import DEFAULT_K, MAD_SCALE
    from costperf.standards.derive.drops import sorted_quantile

    n, method = len(values), params["quantile_method"]
    skips = np.asarray(skips, dtype=int)
    if n == 0:
        return np.full(len(skips), np.nan)
    inside = skips >= 0
    zero, full = np.zeros(len(skips), dtype=int), np.full(len(skips), n)
    rule = params["outlier_rule"]
    k = DEFAULT_K[rule] if params["k"] is None else params["k"]
    screened = (n - inside >= params["min_group_size"]) & (rule != "none")
    lower = upper = np.full(len(skips), np.nan)
    if rule == "iqr" and screened.any():
        q1 = sorted_quantile(values, zero, full, skips, 0.25, method)
        q3 = sorted_quantile(values, zero, full, skips, 0.75, method)
        lower, upper = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    elif rule == "mad" and screened.any():
        lower, upper = np.full(len(skips), np.nan), np.full(len(skips), np.nan)
        for i in np.flatnonzero(screened):
            rest = np.delete(values, skips[i]) if inside[i] else values
            median = np.median(rest)
            mad = np.median(np.abs(rest - median))
            screened[i] = mad != 0
            lower[i], upper[i] = median - k * mad / MAD_SCALE, median + k * mad / MAD_SCALE
    start = np.where(screened, np.searchsorted(values, lower, side="left"), 0)
    stop = np.where(screened, np.searchsorted(values, upper, side="right"), n)
    if spec.kind == "quantile":
        return sorted_quantile(values, start, stop, skips, spec.q, method)
    kept = (skips >= start) & (skips < stop)
    count = stop - start - kept
    sums = np.concatenate([[0.0], np.cumsum(values)])
    total = sums[stop] - sums[start] - np.where(kept, values[np.maximum(skips, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def statistic_drop_grid(peers, dims, spec, params, grid_of=None) -> pd.DataFrame:  # noqa: ANN001, ARG001
    """Leave-one-out grid of a peer statistic from each cell's sorted values.

    Each cell is sorted once; every drop of a peer with a value is one position left
    out of it (:func:`statistic_drops`), a peer without a value leaves the cell as it
    is, and the other cells keep their value. Equal to
    :func:`~costperf.standards.derive.sensitivity.refit_drop_grid` with
    :func:`screened_statistic` (checked in the tests).
    """
    from costperf.standards.derive.drops import cell_codes, grid_frame

    keys, code = cell_codes(peers, dims)
    x = pd.to_numeric(peers[params["value"]], errors="coerce").to_numpy(dtype=float)
    base = np.full(len(keys), np.nan)
    value = np.empty((len(peers), len(keys)))
    own = np.full(len(peers), np.nan)
    for c in range(len(keys)):
        members = np.flatnonzero(code == c)
        valid = members[~np.isnan(x[members])]
        order = np.argsort(x[valid], kind="stable")
        rank = np.empty(len(valid), dtype=int)
        rank[order] = np.arange(len(valid))
        got = statistic_drops(x[valid][order], np.r_[-1, rank], spec, params)
        base[c] = got[0]
        own[members] = got[0]
        own[valid] = got[1:]
    value[:] = base
    value[np.arange(len(peers)), code] = own
    ids = peers[params["id"]].astype(str).to_numpy()
    return grid_frame(dims, keys, ids, value, code)


def _naive_drop_grid(peers, dims, spec, params, grid_of) -> pd.DataFrame:  # noqa: ANN001
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
        drop_grid=statistic_drop_grid,
        naive_drop_grid=_naive_drop_grid,
        is_local=lambda spec, params: True,
        params=SCREENING_PARAMS,
        check=_check_screening,
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
        drop_grid=statistic_drop_grid,
        naive_drop_grid=_naive_drop_grid,
        is_local=lambda spec, params: True,
        params=SCREENING_PARAMS,
        check=_check_screening,
        label_zh="同类均值",
    )
)


def _statistic_words(spec: RuleSpec, lang: str) -> str:
    """``mean``, ``median``, ``p25`` -> 均值, 中位数, 第25百分位数 / mean, median, 25th
    percentile (labels.csv, the words of the case report's bands)."""
    if spec.kind == "mean":
        return message("case_report.mean", lang)
    if spec.q == 0.5:
        return message("case_report.median", lang)
    return message("case_report.percentile", lang, n=f"{100 * spec.q:g}")


def _screen_words(rule: str, lang: str) -> str:
    """``iqr`` -> 经四分位距法筛查异常值后 / `` after iqr screening`` (the recorded English
    names the rule's code); ``none`` -> '' (labels.csv)."""
    if rule == "none":
        return ""
    shown = code_label("outlier_rule", rule, lang) if lang == "zh" else rule
    return message("derive.screened", lang, rule=shown)
