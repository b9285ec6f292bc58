"""What every rule returns: values per cell and the peer rows behind them.

The cells of the dimensions, the value row and peer rows each rule builds, and the
hash of the data, so each value can be recomputed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costperf.labels import message
from costperf.standards.derive.rules import rule_parameters

VALUE_COLUMNS = [
    "rule",
    "value",
    "n_used",
    "n_excluded",
    "method",
    "method_zh",
    "parameters",
    "data_hash",
    "peers_used",
    "peers_excluded",
]


PEER_COLUMNS = [
    "rule",
    "project_id",
    "source_file",
    "source_row",
    "unit_cost",
    "output_quantity",
    "total_cost",
    "peer_value",
    "used",
    "reason",
    "reason_zh",
]


@dataclass(frozen=True, eq=False)
class RuleResult:
    """Values per cell and the peer rows behind them, for one rule."""

    values: pd.DataFrame
    peers: pd.DataFrame


def data_hash(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """SHA-256 (first 16 hex digits) of the given columns, independent of row order."""
    part = frame[list(columns)].sort_values(list(columns)).to_csv(index=False)
    return hashlib.sha256(part.encode("utf-8")).hexdigest()[:16]


def base_hash_columns(units: pd.DataFrame, dims: Sequence[str], params) -> list[str]:  # noqa: ANN001
    """Columns every rule's data hash covers: id, dims, unit cost, output and cost."""
    return [params["id"], *dims, params["value"], params["output"], params["cost"]]


def cell_keys(frame: pd.DataFrame, dims: Sequence[str]) -> list[tuple]:
    """Sorted cell keys (natural order: 一级 < 二级 < 十级)."""
    from costperf.columns import natural_key

    if not dims:
        return [()]
    keys = frame[list(dims)].drop_duplicates().itertuples(index=False, name=None)
    return sorted(keys, key=lambda k: tuple(natural_key(v) for v in k))


def in_cell(frame: pd.DataFrame, dims: Sequence[str], key: tuple) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for dim, level in zip(dims, key, strict=True):
        mask &= frame[dim] == level
    return mask


def peer_rows(
    cell: pd.DataFrame,
    dims: Sequence[str],
    params: Mapping[str, object],
    rule: str,
    used: np.ndarray,
    reasons: Sequence[str],
    reasons_zh: Sequence[str],
    peer_value: np.ndarray,
) -> pd.DataFrame:
    get = lambda c: cell[c].to_numpy() if c in cell else np.full(len(cell), "")  # noqa: E731
    return pd.DataFrame(
        {
            "rule": rule,
            **{d: cell[d].to_numpy() for d in dims},
            "project_id": cell[params["id"]].astype(str).to_numpy(),
            "source_file": get("source_file"),
            "source_row": get("source_row"),
            "unit_cost": cell[params["value"]].to_numpy(dtype=float),
            "output_quantity": cell[params["output"]].to_numpy(dtype=float)
            if params["output"] in cell
            else np.nan,
            "total_cost": cell[params["cost"]].to_numpy(dtype=float)
            if params["cost"] in cell
            else np.nan,
            "peer_value": np.asarray(peer_value, dtype=float),
            "used": np.asarray(used, dtype=bool),
            "reason": list(reasons),
            "reason_zh": list(reasons_zh),
        },
        index=cell.index,
    )


def value_row(
    dims: Sequence[str],
    key: tuple,
    rule: str,
    value: float,
    peers: pd.DataFrame,
    method: str,
    method_zh: str,
) -> dict[str, object]:
    used, dropped = peers[peers["used"]], peers[~peers["used"]]
    excluded = sorted(zip(dropped["project_id"], dropped["reason"], strict=True))
    return {
        **dict(zip(dims, key, strict=True)),
        "rule": rule,
        "value": float(value),
        "n_used": len(used),
        "n_excluded": len(dropped),
        "method": method,
        "method_zh": method_zh,
        "peers_used": ";".join(sorted(used["project_id"])),
        "peers_excluded": ";".join(f"{p}: {r}" for p, r in excluded),
    }


def finish_result(
    rows: list[dict], peers: list[pd.DataFrame], dims: Sequence[str], params, spec, digest
) -> RuleResult:
    values = pd.DataFrame(rows)
    values["parameters"] = json.dumps(rule_parameters(spec, params), ensure_ascii=False)
    values["data_hash"] = digest
    values = values.reindex(columns=[*dims, *VALUE_COLUMNS])
    peer_frame = pd.concat(peers) if peers else pd.DataFrame(columns=[*dims, *PEER_COLUMNS])
    return RuleResult(values.reset_index(drop=True), peer_frame)


def missing_reason(cell: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list, list]:
    """Rows lacking any of ``columns``: mask and reasons (English, Chinese)."""
    flags = cell[list(columns)].isna().to_numpy()
    mask = flags.any(axis=1)
    names = [""] * len(cell)
    for i in np.flatnonzero(mask):  # only the rows that lack something
        names[i] = ", ".join(c for c, f in zip(columns, flags[i], strict=True) if f)
    reason, reason_zh = (
        [
            message("derive.missing", lang, names=n) if m else ""
            for n, m in zip(names, mask, strict=True)
        ]
        for lang in ("en", "zh")
    )
    return mask, reason, reason_zh


def reasons_zh(table: pd.DataFrame, english: str = "reason", chinese: str = "reason_zh"):
    """English -> Chinese of the reasons in ``table`` (a provenance's ``reason`` and
    ``reason_zh``, an outlier table's ``outlier_reason`` and ``outlier_reason_zh``): for
    :func:`excluded_words`. Empty when the table lacks either column."""
    if table is None or not {english, chinese} <= set(table):
        return {}
    pairs = zip(table[english].tolist(), table[chinese].tolist(), strict=True)
    return {e: z for e, z in pairs if isinstance(e, str) and e and isinstance(z, str) and z}


def excluded_words(text: object, reasons: Mapping[str, str], lang: str = "zh") -> object:
    """``peers_excluded`` (``id: reason;id: reason``, the recorded English) as a reader
    sees it: under zh each reason by its Chinese (``reasons``: English -> Chinese, e.g.
    a provenance table's ``reason`` -> ``reason_zh``; a reason it lacks stays as it is),
    ``；`` between them; under en as recorded."""
    if lang != "zh" or not isinstance(text, str) or not text:
        return text
    shown = []
    for part in text.split(";"):
        peer, sep, reason = part.partition(": ")
        shown.append(f"{peer}：{reasons.get(reason, reason)}" if sep else part)
    return "；".join(shown)
