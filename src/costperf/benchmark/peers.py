"""Peer statistics and outlier rules for one class of matter (一类事).

Quantiles
    The default quantile definition is numpy/pandas ``"linear"``: Hyndman & Fan (1996)
    type 7, the default of R's ``quantile()`` and Excel's ``PERCENTILE.INC``
    (``QUARTILE.INC``): with the sorted values ``x_1 <= ... <= x_n``, the p-quantile is
    interpolated at position ``h = (n - 1) p + 1``.  ``quantile_method`` accepts any other
    numpy ``method`` (e.g. ``"weibull"`` = type 6 = Excel ``PERCENTILE.EXC``,
    ``"hazen"`` = type 5, ``"median_unbiased"`` = type 8).

Outlier rules (each reports what it flagged and why, in English and Chinese)
    ``iqr``
        Tukey fences ``Q1 - k IQR`` and ``Q3 + k IQR`` (k = 1.5 by default); a value
        strictly outside is flagged.  Quartiles use ``quantile_method``.
    ``mad``
        Iglewicz & Hoaglin (1993) modified z-score ``M = 0.6745 (x - median) / MAD``
        with ``MAD = median(|x - median|)`` (unscaled); ``|M| > k`` is flagged
        (k = 3.5 by default).  The fences are ``median -/+ k MAD / 0.6745``.  A group
        whose MAD is 0 (at least half of its values equal the median) is not screened:
        the score is undefined there.
    Groups with fewer than ``min_group_size`` (default 4) non-missing values are not
    screened, and missing values are never flagged; both say so in the reason.
    ``cooks_distance``
        Cook's distance of an OLS fit above ``4 / n`` (a common rule of thumb; Bollen &
        Jackman 1990) or a given threshold.
    ``super_efficiency``
        Andersen-Petersen super-efficiency above a screen (default 1.2, in the range
        Banker & Chang 2006 studied); an infeasible super-efficiency LP (NaN or +/-inf
        score, common under VRS) is flagged too: the unit lies outside the reach of the
        frontier spanned by the others, which is exactly what makes it a suspect peer.

References
----------
Hyndman, R.J. & Fan, Y. (1996). Sample quantiles in statistical packages. The American
Statistician 50(4), 361-365.
Iglewicz, B. & Hoaglin, D.C. (1993). How to Detect and Handle Outliers. ASQC.
Banker, R.D. & Chang, H. (2006). The super-efficiency procedure is for outlier
identification, not for ranking efficient units. EJOR 175, 1311-1320.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from costperf.errors import LOCATION, Check, InputError, format_problem, make_problems
from costperf.labels import message, message_rows

RULES = ("iqr", "mad", "none")
DEFAULT_K = {"iqr": 1.5, "mad": 3.5, "none": 0.0}
MAD_SCALE = 0.6745  # Phi^-1(0.75): makes MAD / 0.6745 estimate sigma for normal data
QUANTILE_METHODS = (
    "linear",
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)
OUTLIER_COLUMNS = [
    "outlier",
    "outlier_rule",
    "lower_fence",
    "upper_fence",
    "outlier_reason",
    "outlier_reason_zh",
]
_SOURCE_COLUMNS = LOCATION
_MAX_LISTED = 10


# ---------------------------------------------------------------------------
# peer statistics
# ---------------------------------------------------------------------------


def peer_statistics(
    frame: pd.DataFrame,
    value: str,
    by: Sequence[str] | str | None = None,
    quantiles: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    quantile_method: str = "linear",
) -> pd.DataFrame:
    """Describe a value per peer group: n, mean, std, cv, min, quantiles, median, iqr, max.

    Parameters
    ----------
    frame
        One row per peer unit.
    value
        Numeric column to describe, e.g. ``unit_cost_yuan_per_m2``. [its own unit]
    by
        Grouping columns (class of matter, dimensions such as road grade); ``None`` or
        ``[]`` describes the whole frame as one group.  Missing keys form their own group.
    quantiles
        Probabilities in [0, 1]; each gives a column ``p<100 q>`` (0.25 -> ``p25``).
    quantile_method
        numpy quantile method; ``"linear"`` = R type 7 = Excel ``PERCENTILE.INC``.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by ``by``: the ``by`` columns, ``n`` (non-missing
        values), ``n_missing``, ``mean``, ``std`` (sample, ddof = 1), ``cv`` (std / mean;
        NaN when the mean is 0), ``min``, the quantile columns, ``median``, ``iqr``
        (p75 - p25 with ``quantile_method``) and ``max``, in the unit of ``value``.
    """
    by = _check_by(frame, value, by)
    names = _quantile_names(quantiles)
    _check_quantile_method(quantile_method)
    x = _numeric_column(frame, value)
    codes, keys = _group_codes(frame, by)
    grouped = pd.Series(x).groupby(codes)
    index = pd.RangeIndex(len(keys))
    count = np.bincount(codes, weights=~np.isnan(x), minlength=len(keys)).astype("int64")
    stats = pd.DataFrame(
        {
            "n": count,
            "n_missing": np.bincount(codes, minlength=len(keys)) - count,
            "mean": grouped.mean().reindex(index),
            "std": grouped.std(ddof=1).reindex(index),
        },
        index=index,
    )
    stats["cv"] = stats["std"] / stats["mean"].where(stats["mean"] != 0)
    stats["min"] = grouped.min().reindex(index)
    probabilities = [float(q) for q in quantiles]
    table = _group_quantiles(
        x, codes, len(keys), [*probabilities, 0.25, 0.5, 0.75], quantile_method
    )
    for j, name in enumerate(names):
        stats[name] = table[:, j]
    stats["median"] = grouped.median().reindex(index)
    stats["iqr"] = table[:, -1] - table[:, -3]
    stats["max"] = grouped.max().reindex(index)
    return pd.concat([keys, stats], axis=1)


# ---------------------------------------------------------------------------
# outlier rules
# ---------------------------------------------------------------------------


def flag_outliers(
    frame: pd.DataFrame,
    value: str,
    by: Sequence[str] | str | None = None,
    rule: str = "iqr",
    k: float | None = None,
    *,
    quantile_method: str = "linear",
    min_group_size: int = 4,
) -> pd.DataFrame:
    """Flag outlying values within peer groups, saying why (English and Chinese).

    Parameters
    ----------
    frame
        One row per peer unit; not modified.
    value
        Numeric column to screen. [its own unit]
    by
        Grouping columns; ``None`` screens the whole frame as one group.
    rule
        ``"iqr"`` (Tukey fences), ``"mad"`` (modified z-score) or ``"none"``.
    k
        Fence multiplier: 1.5 for ``iqr``, 3.5 (the modified z-score threshold) for
        ``mad`` by default.
    quantile_method
        numpy quantile method for the quartiles of the ``iqr`` rule.
    min_group_size
        Groups with fewer non-missing values are not screened.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` (same index and order) plus :data:`OUTLIER_COLUMNS`:
        ``outlier`` (bool), ``outlier_rule``, the group's ``lower_fence`` and
        ``upper_fence`` (NaN where the group is not screened; in the unit of
        ``value``), ``outlier_reason`` and ``outlier_reason_zh`` (empty for kept values).
    """
    if rule not in RULES:
        msg = f"unknown outlier rule {rule!r}; use one of: {', '.join(RULES)}"
        raise InputError(msg)
    k = DEFAULT_K[rule] if k is None else k
    if rule != "none" and not (isinstance(k, int | float) and np.isfinite(k) and k > 0):
        msg = f"outlier multiplier k must be a positive number, got {k!r}"
        raise InputError(msg)
    if not (isinstance(min_group_size, int | np.integer) and min_group_size >= 1):
        msg = f"min_group_size must be a positive integer, got {min_group_size!r}"
        raise InputError(msg)
    by = _check_by(frame, value, by)
    _check_quantile_method(quantile_method)
    x = _numeric_column(frame, value)
    codes, keys = _group_codes(frame, by)
    n = np.bincount(codes, weights=~np.isnan(x), minlength=len(keys)).astype(int)[codes]
    screened_group = n >= min_group_size
    lower = upper = z = np.full(len(x), np.nan)
    scale_zero = np.zeros(len(x), dtype=bool)
    if rule == "iqr":
        q = _group_quantiles(x, codes, len(keys), [0.25, 0.75], quantile_method)[codes]
        lower, upper = q[:, 0] - k * (q[:, 1] - q[:, 0]), q[:, 1] + k * (q[:, 1] - q[:, 0])
    elif rule == "mad":
        median = pd.Series(x).groupby(codes).median().to_numpy()[codes]
        mad = pd.Series(np.abs(x - median)).groupby(codes).median().to_numpy()[codes]
        scale_zero = mad == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            z = MAD_SCALE * (x - median) / mad
        lower, upper = median - k * mad / MAD_SCALE, median + k * mad / MAD_SCALE
    screened = screened_group & ~scale_zero & (rule != "none")
    lower, upper = np.where(screened, lower, np.nan), np.where(screened, upper, np.nan)
    above = screened & (x > upper)
    below = screened & (x < lower)
    out = frame.copy()
    out["outlier"] = above | below
    out["outlier_rule"] = rule
    out["lower_fence"] = lower
    out["upper_fence"] = upper
    reason, reason_zh = _empty_reasons(len(x))
    if rule != "none":
        _not_screened(reason, reason_zh, np.isnan(x), n, min_group_size, scale_zero)
        _fence_reasons(reason, reason_zh, rule, k, x, lower, upper, z, above, below)
    out["outlier_reason"] = reason
    out["outlier_reason_zh"] = reason_zh
    return out


def cooks_distance_outliers(result: object, *, threshold: float | None = None) -> pd.DataFrame:
    """Flag the observations of a fitted OLS model whose Cook's distance is large.

    Parameters
    ----------
    result
        A least-squares fit: ``CostModel.result`` of an OLS
        :func:`~costperf.benchmark.costmodel.fit_cost_model` (an
        :class:`~costperf.benchmark.costmodel.lsq.OlsFit`), or a fitted statsmodels
        regression result (``OLS(...).fit()``).
    threshold
        Flag ``D_i > threshold``; default ``4 / n`` with n the number of observations
        used in the fit.  An undefined distance (leverage 1) is flagged as well.

    Returns
    -------
    pandas.DataFrame
        Indexed like the model's rows: ``cooks_distance`` and :data:`OUTLIER_COLUMNS`
        (``lower_fence`` NaN, ``upper_fence`` the threshold).
    """
    from costperf.benchmark.costmodel.lsq import OlsFit

    if isinstance(result, OlsFit):
        distance, labels = result.cooks_distance(), result.row_labels
    elif hasattr(result, "get_influence"):
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = np.asarray(result.get_influence().cooks_distance[0], dtype=float)
        labels = getattr(getattr(result.model, "data", None), "row_labels", None)
    else:
        msg = (
            "cooks_distance_outliers expects an OLS fit (CostModel.result) or a fitted "
            f"statsmodels regression result (OLS(...).fit()), got {type(result).__name__}"
        )
        raise TypeError(msg)
    nobs = int(result.nobs)
    if threshold is None:
        threshold, given = 4.0 / nobs, False
    elif not (isinstance(threshold, int | float) and np.isfinite(threshold) and threshold > 0):
        msg = f"Cook's distance threshold must be a positive number, got {threshold!r}"
        raise InputError(msg)
    else:
        given = True
    index = pd.Index(labels) if labels is not None else pd.RangeIndex(len(distance))
    undefined = ~np.isfinite(distance)
    flagged = undefined | (distance > threshold)
    reason, reason_zh = _empty_reasons(len(distance))
    rows = np.flatnonzero(flagged & ~undefined)
    for out, lang in ((reason, "en"), (reason_zh, "zh")):
        bound = (  # the threshold as the reasons state it: 4/n = 0.013
            message("benchmark.reason.cooks_threshold", lang, threshold=threshold)
            if given
            else message("benchmark.reason.cooks_4n", lang, threshold=threshold)
        )
        out[rows] = message_rows("benchmark.reason.cooks", lang, d=distance[rows], bound=bound)
        out[undefined] = message("benchmark.reason.cooks_undefined", lang)
    return pd.DataFrame(
        {
            "cooks_distance": distance,
            "outlier": flagged,
            "outlier_rule": "cooks_distance",
            "lower_fence": np.nan,
            "upper_fence": threshold,
            "outlier_reason": reason,
            "outlier_reason_zh": reason_zh,
        },
        index=index,
    )


def super_efficiency_outliers(
    scores: pd.Series,
    *,
    threshold: float = 1.2,
    orientation: str = "input",
) -> pd.DataFrame:
    """Flag units whose DEA super-efficiency marks them as outlying peers.

    Parameters
    ----------
    scores
        Andersen-Petersen super-efficiency per unit (the unit left out of its own
        reference set).  ``orientation="input"``: Farrell input score, >= 1 for frontier
        units; ``"output"``: Farrell output score phi, <= 1 for frontier units (as in R
        Benchmarking's ``sdea``).  NaN or +/-inf marks an infeasible LP.
    threshold
        Screen (> 1): input scores above it, or output scores below ``1 / threshold``,
        are flagged.  Default 1.2 (Banker & Chang 2006).
    orientation
        ``"input"`` or ``"output"``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``: ``super_efficiency`` and :data:`OUTLIER_COLUMNS`.
        Infeasible LPs are flagged: "infeasible super-efficiency LP: outside the
        frontier's reach".
    """
    if orientation not in ("input", "output"):
        msg = f"unknown orientation {orientation!r}; use one of: input, output"
        raise InputError(msg)
    if not (isinstance(threshold, int | float) and np.isfinite(threshold) and threshold > 1):
        msg = f"super-efficiency threshold must be a number > 1, got {threshold!r}"
        raise InputError(msg)
    scores = pd.Series(scores)
    frame = scores.rename("super_efficiency").to_frame()
    score = _numeric_column(frame, "super_efficiency", finite=False)
    finite = np.isfinite(score)
    _raise_cells(
        frame, finite & (score <= 0), "super_efficiency", "a score > 0", Check.NOT_POSITIVE
    )
    infeasible = ~finite
    if orientation == "input":
        lower, upper = np.nan, float(threshold)
        flagged = finite & (score > upper)
    else:
        lower, upper = 1.0 / threshold, np.nan
        flagged = finite & (score < lower)
    reason, reason_zh = _empty_reasons(len(score))
    rows, values = np.flatnonzero(flagged), {"threshold": threshold, "lower": lower}
    for out, lang in ((reason, "en"), (reason_zh, "zh")):
        if orientation == "input":
            out[rows] = message_rows("benchmark.reason.super", lang, s=score[rows], **values)
        else:
            out[rows] = message_rows("benchmark.reason.super_output", lang, s=score[rows], **values)
        out[infeasible] = message("benchmark.reason.super_infeasible", lang)
    return pd.DataFrame(
        {
            "super_efficiency": score,
            "outlier": flagged | infeasible,
            "outlier_rule": "super_efficiency",
            "lower_fence": lower,
            "upper_fence": upper,
            "outlier_reason": reason,
            "outlier_reason_zh": reason_zh,
        },
        index=scores.index,
    )


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _group_codes(frame: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group code per row (groups sorted by key) and the key table."""
    if not by:
        return np.zeros(len(frame), dtype=np.intp), pd.DataFrame(index=pd.RangeIndex(1))
    grouper = frame.groupby(by, dropna=False, sort=True)
    codes = grouper.ngroup().to_numpy()
    keys = grouper.size().index.to_frame(index=False)
    return codes, keys


def _group_quantiles(
    x: np.ndarray, codes: np.ndarray, groups: int, probabilities: list[float], method: str
) -> np.ndarray:
    """Quantiles per group, shape (groups, len(probabilities)); NaN for empty groups."""
    unique = sorted(set(probabilities))
    columns = [unique.index(p) for p in probabilities]
    out = np.full((groups, len(unique)), np.nan)
    valid = ~np.isnan(x)
    if not valid.any():
        return out[:, columns]
    if method == "linear":  # vectorised type 7
        table = pd.Series(x[valid]).groupby(codes[valid]).quantile(unique).unstack()
        out[table.index.to_numpy()] = table[unique].to_numpy()
        return out[:, columns]
    order = np.lexsort((x[valid], codes[valid]))
    values, group_of = x[valid][order], codes[valid][order]
    starts = np.searchsorted(group_of, np.arange(groups))
    ends = np.searchsorted(group_of, np.arange(groups), side="right")
    for g in np.flatnonzero(ends > starts):  # one call per group, not per unit
        out[g] = np.quantile(values[starts[g] : ends[g]], unique, method=method)
    return out[:, columns]


def _quantile_names(quantiles: Sequence[float]) -> list[str]:
    try:
        probabilities = [float(q) for q in quantiles]
    except (TypeError, ValueError):
        msg = f"quantiles must be numbers in [0, 1], got {quantiles!r}"
        raise InputError(msg) from None
    bad = [q for q in probabilities if not 0 <= q <= 1]
    if bad:
        msg = f"quantiles must lie in [0, 1], got {bad!r} (use 0.25, not 25)"
        raise InputError(msg)
    names = [f"p{100 * q:g}" for q in probabilities]
    if len(set(names)) != len(names):
        msg = f"quantiles listed more than once: {list(quantiles)!r}"
        raise InputError(msg)
    return names


def _check_quantile_method(method: str) -> None:
    if method not in QUANTILE_METHODS:
        msg = f"unknown quantile_method {method!r}; use one of: {', '.join(QUANTILE_METHODS)}"
        raise InputError(msg)


def _check_by(frame: pd.DataFrame, value: str, by: Sequence[str] | str | None) -> list[str]:
    if not isinstance(frame, pd.DataFrame):
        msg = f"expected a pandas DataFrame of peers, got {type(frame).__name__}"
        raise InputError(msg)
    by = [] if by is None else [by] if isinstance(by, str) else list(by)
    absent = [c for c in [value, *by] if c not in frame]
    if absent:
        msg = (
            f"unknown column(s) {', '.join(repr(c) for c in absent)} in peers; "
            f"available columns: {', '.join(repr(str(c)) for c in frame.columns)}"
        )
        raise InputError(msg)
    if value in by:
        msg = f"the value column {value!r} is also a grouping column"
        raise InputError(msg)
    return by


def _numeric_column(frame: pd.DataFrame, column: str, *, finite: bool = True) -> np.ndarray:
    series = frame[column]
    values = pd.to_numeric(series, errors="coerce")
    bad = (values.isna() & series.notna()).to_numpy()
    _raise_cells(frame, bad, column, "a number", Check.NOT_A_NUMBER)
    array = values.to_numpy(dtype=float, na_value=np.nan)
    if finite:
        _raise_cells(frame, np.isinf(array), column, "a finite number", Check.NOT_FINITE)
    return array


def _raise_cells(frame, mask, column, expected, check) -> None:
    """Raise one InputError naming every cell where ``mask`` holds (first 10 in the text)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    positions = np.flatnonzero(mask)
    sources = [c for c in _SOURCE_COLUMNS if c in frame]
    rows = [
        {
            **{c: frame[c].iloc[p] for c in sources},
            "column": column,
            "value": _plain(frame[column].iloc[p]),
            "expected": expected,
            "check": check,
        }
        for p in positions
    ]
    lines = [
        format_problem(row, "" if "source_row" in frame else f"index {frame.index[p]!r}")
        for row, p in zip(rows[:_MAX_LISTED], positions, strict=False)
    ]
    more = len(rows) - len(lines)
    tail = f"\n... and {more} more problem(s)" if more > 0 else ""
    msg = f"{len(rows)} problem(s) in peers:\n" + "\n".join(lines) + tail
    raise InputError(msg, make_problems(rows))


def _empty_reasons(size: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full(size, "", dtype=object), np.full(size, "", dtype=object)


def _not_screened(reason, reason_zh, missing, n, min_group_size, scale_zero) -> None:
    small = n < min_group_size
    zero = scale_zero & ~small
    sizes, which = np.unique(n[small], return_inverse=True)  # one text per group size
    for out, lang in ((reason, "en"), (reason_zh, "zh")):
        texts = message_rows("benchmark.reason.too_few", lang, n=sizes, min=min_group_size)
        out[small] = np.array(texts, dtype=object)[which]
        out[zero] = message("benchmark.reason.mad_zero", lang)
        out[missing] = message("benchmark.reason.missing", lang)


def _fence_reasons(reason, reason_zh, rule, k, x, lower, upper, z, above, below) -> None:
    up, down = np.flatnonzero(above), np.flatnonzero(below & ~above)
    high = {"k": k, "value": _fmts(x[up]), "fence": _fmts(upper[up])}
    low = {"k": k, "value": _fmts(x[down]), "fence": _fmts(lower[down])}
    for out, lang in ((reason, "en"), (reason_zh, "zh")):
        if rule == "iqr":
            out[up] = message_rows("benchmark.reason.iqr_above", lang, **high)
            out[down] = message_rows("benchmark.reason.iqr_below", lang, **low)
        else:
            out[up] = message_rows("benchmark.reason.mad_above", lang, **high, z=z[up])
            out[down] = message_rows("benchmark.reason.mad_below", lang, **low, z=z[down])


def _fmts(numbers: np.ndarray) -> list[str]:
    """:func:`_fmt` of each number."""
    return [_fmt(number) for number in numbers.tolist()]


def _fmt(number: float) -> str:
    """Two decimals, or three significant digits for tiny values."""
    return f"{number:.2f}" if number == 0 or abs(number) >= 0.01 else f"{number:.3g}"


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value
