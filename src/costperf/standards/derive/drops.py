"""Shared pieces of the fast leave-one-out paths: cells found once, order statistics of
a sorted sample with one value left out, and the drop grid assembled in one step.

Every rule's fast ``drop_grid`` gives the same table as the rule recomputed with each
peer dropped (:func:`~costperf.standards.derive.sensitivity.refit_drop_grid`), without
re-running the rule per drop: the peers are split into cells once, and each rule
updates only what a drop can change.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from costperf.standards.derive.result import cell_keys


def cell_codes(frame: pd.DataFrame, dims: Sequence[str]) -> tuple[list[tuple], np.ndarray]:
    """The sorted cell keys and each row's cell number (-1: in none), found once."""
    keys = cell_keys(frame, dims)
    if not dims:
        return keys, np.zeros(len(frame), dtype=int)
    index = pd.MultiIndex.from_tuples(keys, names=list(dims))
    rows = pd.MultiIndex.from_frame(frame[list(dims)])
    return keys, index.get_indexer(rows)


@lru_cache(maxsize=4096)
def _position(m: int, q: float, method: str) -> tuple[int, float]:
    """Where numpy's ``quantile(method)`` of ``m`` sorted values reads: the lower index
    and the interpolation weight (found by asking numpy about the positions 0..m-1)."""
    t = float(np.quantile(np.arange(m, dtype=float), q, method=method))
    lo = int(np.floor(t))
    return lo, t - lo


def positions(m: np.ndarray, q: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_position` for an array of sample sizes (each size >= 1)."""
    m = np.asarray(m, dtype=int)
    lo, gamma = np.zeros(len(m), dtype=int), np.zeros(len(m))
    for size in np.unique(m):
        where = m == size
        lo[where], gamma[where] = _position(int(size), float(q), method)
    return lo, gamma


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's interpolation between order statistics (``numpy.lib._function_base._lerp``)."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def skip_take(values: np.ndarray, start: np.ndarray, k: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """``values[start + k]`` counted with position ``skip`` left out (``skip`` < 0 or
    below ``start``: nothing left out)."""
    at = start + k
    return values[at + ((skip >= start) & (at >= skip) & (skip >= 0))]


def sorted_quantile(
    values: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    skip: np.ndarray,
    q: float,
    method: str,
) -> np.ndarray:
    """numpy's ``quantile(q, method)`` of ``values[start:stop]`` with position ``skip``
    left out when it lies in the range, for arrays of ranges (``values`` sorted).

    NaN where the range is empty. The result reads the same order statistics with the
    same weights as numpy; it agrees to rounding (about 1e-15 relative).
    """
    inside = (skip >= start) & (skip < stop)
    m = stop - start - inside
    out = np.full(len(m), np.nan)
    ok = m > 0
    if not ok.any():
        return out
    lo, gamma = positions(m[ok], q, method)
    hi = np.minimum(lo + 1, m[ok] - 1)
    lo = np.clip(lo, 0, m[ok] - 1)
    s = np.where(inside[ok], skip[ok], -1)
    a = skip_take(values, start[ok], lo, s)
    b = skip_take(values, start[ok], hi, s)
    out[ok] = lerp(a, b, gamma)
    return out


def grid_frame(
    dims: Sequence[str],
    keys: Sequence[tuple],
    ids: np.ndarray,
    value: np.ndarray,
    home: np.ndarray,
) -> pd.DataFrame:
    """The drop grid: for drop ``i`` (peer ``ids[i]``) and cell ``c`` its ``value[i, c]``,
    ``in_cell`` where ``c == home[i]``; drop-major, cells in key order."""
    n, cells = value.shape
    out = {}
    for d, dim in enumerate(dims):
        out[dim] = np.tile(pd.Index([k[d] for k in keys]).to_numpy(), n)
    out["value"] = value.reshape(-1)
    out["dropped"] = np.repeat(np.asarray(ids, dtype=object), cells)
    out["in_cell"] = (np.asarray(home)[:, None] == np.arange(cells)[None, :]).reshape(-1)
    return pd.DataFrame(out)


def medians_without(values: np.ndarray) -> tuple[float, np.ndarray]:
    """The median of ``values`` and, for each position, the median without it (the
    middle value, or the mean of the two middle ones, as numpy computes it)."""
    m = len(values)
    if m == 0:
        return np.nan, values
    order = np.argsort(values, kind="stable")
    s = values[order]
    rank = np.empty(m, dtype=int)
    rank[order] = np.arange(m)
    median = float(np.median(s))
    if m == 1:
        return median, np.full(1, np.nan)
    size = m - 1
    lo, hi = (size - 1) // 2, size // 2
    a = s[lo + (lo >= rank)]
    b = s[hi + (hi >= rank)]
    return median, (a + b) / 2
