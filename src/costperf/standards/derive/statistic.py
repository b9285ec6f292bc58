"""The peer table and the one-step peer-statistic standard per dimension cell."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import pandas as pd

from costperf.benchmark.peers import flag_outliers, peer_statistics
from costperf.columns import sort_natural
from costperf.errors import InputError
from costperf.standards.derive.result import data_hash

RULE_QUANTILES = {"median": 0.5, "p25": 0.25, "p75": 0.75, "p10": 0.10, "p90": 0.90}


STANDARD_COLUMNS = [
    "standard_id",
    "version",
    "name",
    "kind",
    "dims",
    "value",
    "lower",
    "upper",
    "unit",
    "method",
    "rule",
    "outlier_rule",
    "n_peers",
    "n_excluded",
    "peers_used",
    "peers_excluded",
    "parameters",
    "data_hash",
    "effective_from",
    "status",
]


def _statistic(values: pd.Series, rule: str) -> float:
    if rule == "mean":
        return float(values.mean())
    return float(values.quantile(RULE_QUANTILES[rule], interpolation="linear"))


def derive_unit_cost_standard(
    units: pd.DataFrame,
    *,
    dims: Sequence[str],
    standard_id: str,
    name: str,
    version: str,
    effective_from: dt.date,
    rule: str = "median",
    outlier_rule: str = "iqr",
    band: tuple[str, str] = ("p25", "p75"),
    unit: str = "",
    value: str = "unit_cost",
) -> pd.DataFrame:
    """Peer-statistic unit-cost standard per dimension cell, after outlier screening.

    Parameters
    ----------
    units
        One row per peer (``project_id``, ``dims``, ``value`` [yuan per output unit]).
    rule
        Statistic of the screened peers: median, mean, p25, p75, p10, p90 (quantiles are
        type 7, as Excel PERCENTILE.INC).
    outlier_rule
        'iqr' (1.5 IQR fences), 'mad' (modified z-score > 3.5) or 'none'.
    band
        Statistics giving the reasonable range (合理区间) ``lower``..``upper``.

    Returns
    -------
    DataFrame
        One row per dimension cell with :data:`STANDARD_COLUMNS` plus the ``dims``.
    """
    missing = [c for c in (*dims, value, "project_id") if c not in units.columns]
    if missing:
        msg = f"cannot derive a standard: the peer table has no column(s) {', '.join(missing)}"
        raise InputError(msg)
    peers = units.dropna(subset=[value, *dims])
    if peers.empty:
        msg = f"cannot derive a standard: no peer has a {value} and {', '.join(dims)}"
        raise InputError(msg)
    flagged = flag_outliers(peers, value, by=list(dims), rule=outlier_rule)
    digest = data_hash(peers, ["project_id", *dims, value])
    rows = []
    for key, cell in flagged.groupby(list(dims), sort=True, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        kept = cell[~cell["outlier"]]
        dropped = cell[cell["outlier"]]
        params = {
            "rule": rule,
            "outlier_rule": outlier_rule,
            "band": list(band),
            "quantile_type": 7,
            "value_column": value,
        }
        rows.append(
            {
                **dict(zip(dims, key, strict=True)),
                "standard_id": standard_id,
                "version": version,
                "name": name,
                "kind": "unit_cost",
                "dims": "/".join(str(k) for k in key),
                "value": _statistic(kept[value], rule),
                "lower": _statistic(kept[value], band[0]),
                "upper": _statistic(kept[value], band[1]),
                "unit": unit,
                "method": f"peer {rule} of {len(kept)} contracts after {outlier_rule} screening",
                "rule": rule,
                "outlier_rule": outlier_rule,
                "n_peers": int(len(kept)),
                "n_excluded": int(len(dropped)),
                "peers_used": ";".join(sorted(kept["project_id"].astype(str))),
                "peers_excluded": ";".join(
                    f"{p}: {r}"
                    for p, r in sorted(
                        zip(
                            dropped["project_id"].astype(str),
                            dropped["outlier_reason"],
                            strict=True,
                        )
                    )
                ),
                "parameters": json.dumps(params, ensure_ascii=False),
                "data_hash": digest,
                "effective_from": effective_from.isoformat(),
                "status": "draft",
            }
        )
    table = pd.DataFrame(rows, columns=[*dims, *STANDARD_COLUMNS])
    return sort_natural(table, list(dims)).reset_index(drop=True)


def peer_table(
    units: pd.DataFrame, *, dims: Sequence[str], value: str = "unit_cost"
) -> pd.DataFrame:
    """Peer statistics per dimension cell (n, mean, median, quantiles, IQR, CV ...)."""
    return sort_natural(peer_statistics(units, value, by=list(dims)), list(dims))
