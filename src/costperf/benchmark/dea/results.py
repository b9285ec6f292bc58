"""Turn solver arrays into the documented result columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

SNAP = 1e-7  # Benchmarking snaps |e - 1| < 1e-7 (lpSolve's epsint) to 1
LAMBDA_ZERO = 1e-9  # lambdas at or below this are not peers


def snap_one(values: np.ndarray) -> np.ndarray:
    """Scores within 1e-7 of 1 become exactly 1, as Benchmarking reports them."""
    values = np.asarray(values, dtype=float)
    return np.where(np.abs(values - 1.0) < SNAP, 1.0, values)


def score_columns(orientation: str, score: np.ndarray) -> dict[str, np.ndarray]:
    """Explicitly named score columns for one orientation."""
    score = snap_one(score)
    if orientation == "in":
        return {"efficiency_in": score}
    if orientation == "out":
        with np.errstate(divide="ignore"):
            return {"efficiency_out_farrell": score, "efficiency_out_shephard": 1.0 / score}
    return {"efficiency_graph": score}


def super_columns(orientation: str, status: np.ndarray, score: np.ndarray) -> dict[str, np.ndarray]:
    """Super-efficiency score (NaN when infeasible) and its status."""
    name = "super_efficiency_in" if orientation == "in" else "super_efficiency_out_farrell"
    score = np.where(status == "optimal", snap_one(score), np.nan)
    return {name: score, "super_status": status.astype(object)}


def peer_strings(
    lam_ids: Sequence, lam_vals: Sequence, labels: pd.Index
) -> tuple[list[str], list[str]]:
    """``peers`` ("A,B") and ``lambdas`` ("A:0.25;B:0.75") per unit, in reference order."""
    peers, lambdas = [], []
    names = labels.astype(str).tolist()
    for ids, vals in zip(lam_ids, lam_vals, strict=True):
        if ids is None or len(ids) == 0:
            peers.append("")
            lambdas.append("")
            continue
        pairs = sorted(
            (i, 1.0 if abs(v - 1.0) < SNAP else v)
            for i, v in zip(np.asarray(ids).tolist(), np.asarray(vals, float).tolist(), strict=True)
        )
        pairs = [(i, v) for i, v in pairs if v > LAMBDA_ZERO]
        peers.append(",".join(names[i] for i, _ in pairs))
        lambdas.append(";".join(f"{names[i]}:{v:.10g}" for i, v in pairs))
    return peers, lambdas


def slack_columns(
    inputs: pd.DataFrame, outputs: pd.DataFrame, slacks: np.ndarray
) -> dict[str, np.ndarray]:
    """``slack_<column>`` per input and output (original units) and ``slack_sum``."""
    names = [f"slack_{c}" for c in inputs.columns] + [f"slack_{c}" for c in outputs.columns]
    cols = {name: slacks[:, k] for k, name in enumerate(names)}
    cols["slack_sum"] = slacks.sum(axis=1)
    return cols
