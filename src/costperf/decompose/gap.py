"""Gap decomposition: split a unit's cost gap to a reference into driver effects.

The unit cost of a class of matter is modelled as a product of driver ratios,

    V = x_1 * x_2 * ... * x_n      (e.g. wage x staffing intensity x frequency x ...),

and the gap between a unit (superscript T) and a reference (superscript 0: the peer
median, a named district's unit, or the standard) is split into one effect per driver:

``lmdi_additive``
    LMDI-I (Ang 2004): ``effect_k = L(V^T, V^0) * ln(x_k^T / x_k^0)`` with the
    logarithmic mean ``L(a, b) = (a - b) / (ln a - ln b)``, ``L(a, a) = a``.  The effects
    sum to ``V^T - V^0``.
``lmdi_multiplicative``
    ``effect_k = x_k^T / x_k^0`` (for a single product the LMDI weights are all 1).  The
    effects multiply to ``V^T / V^0``.
``shapley``
    The Shapley value of each driver in the game ``v(S) = prod_{k in S} x_k^T *
    prod_{k not in S} x_k^0``: the average, over all n! orders of switching drivers from
    the reference value to the unit's value, of the change each driver makes.  The
    effects sum to ``V^T - V^0``; works for drivers of any sign.  Computed exactly by
    grouping subsets by size (the coefficients of ``prod_j (x_j^0 + z x_j^T)``),
    vectorised over units, in O(n^3) per unit.

Every method is exact: no residual term is left over.  Sums hold up to floating-point
rounding, i.e. to about ``1e-15 * max(|V^T|, |V^0|)``.

Targets and the residual driver
    When the units carry a ``target`` column (the unit cost as measured) the product of
    the drivers need not reproduce it.  Then an explicit driver ``residual = target /
    product of drivers`` is added, so the identity holds for the measured cost, and its
    rows say so in ``note``.  It is added only when some unit (or the reference) has a
    residual that differs from 1 by more than 1e-12 (relative).

The reference unit cost (a documented choice)
    The median of a product is not the product of the medians.  :func:`peer_reference`
    therefore returns the statistic of each driver *and*, when ``target`` is given, the
    statistic of the target itself.  :func:`decompose_gap` defines the reference cost as
    that target statistic (e.g. the peer median unit cost, which is what the analyst
    benchmarks against) and gives the reference a residual factor
    ``target statistic / product of driver statistics``: the residual effect then
    absorbs the "median of product vs product of medians" difference, explicitly.
    Without a target, the reference cost is the product of the reference drivers.  With
    ``statistic="geomean"`` both definitions coincide (the geometric mean of a product
    is the product of the geometric means).

Zeros and missing values
    LMDI takes logarithms.  A zero driver value is handled by the small-value strategy
    of Ang & Liu (2007): replace 0 by delta and let delta -> 0.  The attribution error of
    a fixed delta decays only like ``1 / ln(1/delta)`` (about 2 % per unit of
    ``ln(ratio)`` of the other drivers at delta = 1e-20), so by default the limit is
    evaluated in closed form: the whole gap goes to the driver(s) that are zero on one
    side, shared equally when several are, and nothing to the others; a driver that is
    zero on both sides gets 0.  Pass ``zero_value=1e-20`` to substitute delta literally.
    Rows where either was used say so in ``note``.  Negative values cannot be handled by
    LMDI (InputError; use ``method="shapley"``).  A unit with a missing driver (NaN) is
    not decomposed: its effects are NaN and ``note`` names the missing drivers.

References
----------
Ang, B.W. (2004). Decomposition analysis for policymaking in energy: which is the
preferred method? Energy Policy 32, 1131-1139.
Ang, B.W. & Liu, N. (2007). Handling zero values in the logarithmic mean Divisia index
decomposition approach. Energy Policy 35, 238-246.
Shapley, L.S. (1953). A value for n-person games. Contributions to the Theory of
Games II, 307-317.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from costperf.errors import LOCATION, Check, InputError, format_problem, make_problems

METHODS = ("lmdi_additive", "lmdi_multiplicative", "shapley")
RESIDUAL = "residual"
STATISTICS = ("median", "mean", "geomean", "p<NN> (e.g. p25)")
GAP_COLUMNS = [
    "unit",
    "driver",
    "unit_driver_value",
    "reference_driver_value",
    "effect",
    "effect_share",
    "method",
    "note",
    "unit_value",
    "reference_value",
    "gap",
    "ratio",
]
_RESIDUAL_TOLERANCE = 1e-12
_SOURCE_COLUMNS = LOCATION
_MAX_LISTED = 10


# ---------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------


def log_mean(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """Logarithmic mean ``L(a, b) = (a - b) / (ln a - ln b)``, with ``L(a, a) = a``.

    Parameters
    ----------
    a, b
        Non-negative values (arrays broadcast).  ``L(a, 0) = L(0, b) = 0``.

    Returns
    -------
    numpy.ndarray
        The logarithmic mean, computed stably when ``a`` is close to ``b``.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.log(a) - np.log(b)
        close = np.abs(s) < 1e-4
        # b * expm1(s) / s is exact for a == b * e^s and stable near s = 0
        near = b * np.where(s == 0, 1.0, np.expm1(s) / np.where(s == 0, 1.0, s))
        out = np.where(close, near, (a - b) / s)
    out = np.where((a == 0) | (b == 0), 0.0, out)
    return out


def peer_reference(
    units: pd.DataFrame,
    drivers: Sequence[str] | str,
    *,
    statistic: str = "median",
    target: str | None = None,
) -> pd.Series:
    """Build a reference unit from peers: one statistic per driver (and of the target).

    Parameters
    ----------
    units
        Peer units, one row each, with the driver columns. [driver units]
    drivers
        Driver columns whose product is the unit cost.
    statistic
        ``"median"``, ``"mean"``, ``"geomean"`` (geometric mean; needs positive values)
        or ``"pNN"`` for the NN-th percentile (pandas linear = R type 7 = Excel
        PERCENTILE.INC).  Missing values are skipped.
    target
        Optional unit-cost column.  Its statistic is returned under its own name and
        becomes the reference cost in :func:`decompose_gap` (see the module notes: the
        median of a product is not the product of the medians).

    Returns
    -------
    pandas.Series
        Indexed by the drivers (then the target, if given), named ``"peer <statistic>"``.
    """
    drivers = _check_drivers(units, drivers, target, "peers")
    columns = drivers + ([target] if target is not None else [])
    values = pd.DataFrame(
        {c: _numeric_column(units, c, "peers", id_column=None) for c in columns},
        index=units.index,
    )
    if statistic == "median":
        result = values.median()
    elif statistic == "mean":
        result = values.mean()
    elif statistic == "geomean":
        bad = values.le(0)
        if bad.to_numpy().any():
            column = str(bad.any().idxmax())
            _raise_cells(
                units,
                bad[column].to_numpy(),
                column,
                "a number > 0 (the geometric mean takes logarithms)",
                Check.NOT_POSITIVE,
                "peers",
                id_column=None,
            )
        result = np.exp(np.log(values).mean())
    elif (match := re.fullmatch(r"p(\d+(?:\.\d+)?)", str(statistic))) and float(
        match.group(1)
    ) <= 100:
        result = values.quantile(float(match.group(1)) / 100)
    else:
        msg = f"unknown peer statistic {statistic!r}; use one of: {', '.join(STATISTICS)}"
        raise InputError(msg)
    empty = values.notna().sum() == 0
    if empty.any():
        msg = (
            "cannot build a peer reference: no values in column(s) "
            f"{', '.join(repr(c) for c in empty[empty].index)}"
        )
        raise InputError(msg)
    result = result.astype(float)
    result.name = f"peer {statistic}"
    return result


def decompose_gap(
    units: pd.DataFrame,
    reference: pd.Series | Mapping[str, float] | Hashable,
    drivers: Sequence[str] | str,
    *,
    method: str = "lmdi_additive",
    id_column: str | None = "project_id",
    target: str | None = None,
    zero_value: float | None = None,
) -> pd.DataFrame:
    """Split each unit's gap to a reference into exact driver effects.

    Parameters
    ----------
    units
        One row per unit with the driver ratio columns (their product is the unit cost)
        and ``id_column``. [yuan per output unit, as a product of driver units]
    reference
        The reference unit: a Series/mapping of driver values (e.g. from
        :func:`peer_reference`, optionally carrying ``target``), or the id of one unit in
        ``units``.
    drivers
        Driver columns, in the order effects are reported (the waterfall order).
    method
        ``"lmdi_additive"``, ``"lmdi_multiplicative"`` or ``"shapley"``.
    id_column
        Column holding the unit ids (unique); ``None`` uses the index.
    target
        Optional measured unit-cost column; adds a ``residual`` driver when the drivers'
        product does not reproduce it.  [yuan per output unit]
    zero_value
        ``None`` (default): zeros in LMDI take the delta -> 0 limit in closed form.  A
        small positive number: substitute it for zeros (Ang & Liu 2007, e.g. 1e-20).

    Returns
    -------
    pandas.DataFrame
        Long frame, one row per unit and driver (sorted by unit, drivers in the given
        order, ``residual`` last), columns :data:`GAP_COLUMNS`: ``effect`` is in yuan
        per output unit for the additive methods and a factor for the multiplicative
        one; ``effect_share`` is ``effect / gap`` (additive) or ``ln effect / ln ratio``
        (multiplicative); ``unit_value``, ``reference_value`` are the unit costs,
        ``gap = unit_value - reference_value`` and ``ratio = unit_value /
        reference_value``.  Units that cannot be decomposed have NaN effects and a note.

    Raises
    ------
    InputError
        Unknown method or column, non-numeric or infinite values, duplicate ids, an
        unknown reference unit, a reference missing a driver, or a negative value with
        an LMDI method.
    """
    if method not in METHODS:
        msg = f"unknown decomposition method {method!r}; use one of: {', '.join(METHODS)}"
        raise InputError(msg)
    drivers = _check_drivers(units, drivers, target, "units")
    if zero_value is not None and not (
        isinstance(zero_value, int | float) and 0 < zero_value < 1e-6
    ):
        msg = f"zero_value must be a small positive number (e.g. 1e-20), got {zero_value!r}"
        raise InputError(msg)
    ids = _unit_ids(units, id_column)
    lmdi = method != "shapley"
    columns = [*drivers, *([target] if target is not None else [])]
    raw = np.column_stack([_numeric_column(units, c, "units", id_column) for c in columns])
    if lmdi:
        for j, column in enumerate(columns):
            _raise_cells(
                units,
                raw[:, j] < 0,
                column,
                "a number >= 0 (LMDI takes logarithms; use method='shapley' for signed drivers)",
                Check.NEGATIVE_FOR_LMDI,
                "units",
                id_column,
            )
    notes = _list_note(np.isnan(raw), columns, "missing value(s) in: ", "; not decomposed")
    x0, t0 = _resolve_reference(reference, units, ids, drivers, target, id_column, lmdi)
    x1 = raw[:, : len(drivers)]
    t1 = raw[:, -1] if target is not None else None
    x1, x0, names, v1, v0, residual_notes = _with_residual(x1, x0, t1, t0, drivers)
    notes = _join(notes, residual_notes)
    ok = ~np.isnan(x1).any(axis=1)
    effects = np.full(x1.shape, np.nan)
    shares = np.full(x1.shape, np.nan)
    if ok.any():
        compute = {
            "lmdi_additive": _lmdi_additive,
            "lmdi_multiplicative": _lmdi_multiplicative,
            "shapley": _shapley,
        }[method]
        effects[ok], shares[ok] = compute(x1[ok], x0, v1[ok], v0, zero_value)
    if lmdi:
        zeros = ((x1 == 0) | (x0 == 0)) & ok[:, None]
        how = (
            "δ → 0 limit of the small-value strategy (Ang & Liu 2007)"
            if zero_value is None
            else f"replaced by δ = {zero_value:g} (Ang & Liu 2007 small-value strategy)"
        )
        notes = _join(notes, _list_note(zeros, names, "zero value(s) in: ", f"; {how}"))
    return _assemble(ids, names, x1, x0, effects, shares, method, notes, v1, v0)


# ---------------------------------------------------------------------------
# the three methods: (x1 (m, K), x0 (K,), v1 (m,), v0) -> effects, shares (m, K)
# ---------------------------------------------------------------------------


def _lmdi_additive(x1, x0, v1, v0, zero_value):
    x0 = np.broadcast_to(x0, x1.shape)
    gap = v1 - v0
    zero = (x1 == 0) | (x0 == 0)
    if zero_value is not None:
        x1, x0 = np.where(x1 == 0, zero_value, x1), np.where(x0 == 0, zero_value, x0)
        zero = np.zeros_like(zero)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(x1 / x0)
        s = logs.sum(axis=1)
        # L(V1, V0) = gap / ln(V1/V0); near ln(V1/V0) = 0 use V0 expm1(s)/s, which stays
        # accurate when the drivers' changes cancel out (gap ~ 0, effects not ~ 0)
        safe_s = np.where(s == 0, 1.0, s)
        weight = np.where(
            np.abs(s) >= 1e-4,
            gap / safe_s,
            v0 * np.where(s == 0, 1.0, np.expm1(s) / safe_s),
        )
        effects = weight[:, None] * logs
        zero_rows = zero.any(axis=1)
        if zero_rows.any():
            effects[zero_rows] = _zero_limit(x1, x0, gap)[zero_rows]
        shares = effects / np.where(gap == 0, np.nan, gap)[:, None]
    return effects, shares


def _zero_limit(x1, x0, gap):
    """Closed-form delta -> 0 limit of additive LMDI: gap * m_k / M (Ang & Liu 2007)."""
    m = (x1 == 0).astype(float) - (x0 == 0).astype(float)
    total = m.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = gap[:, None] * m / np.where(total == 0, np.nan, total)[:, None]
    return np.where(np.isnan(out) & (total == 0)[:, None], 0.0, out)


def _lmdi_multiplicative(x1, x0, v1, v0, zero_value):
    x0 = np.broadcast_to(x0, x1.shape)
    if zero_value is not None:
        x1, x0 = np.where(x1 == 0, zero_value, x1), np.where(x0 == 0, zero_value, x0)
    with np.errstate(divide="ignore", invalid="ignore"):
        effects = x1 / x0
        both = (x1 == 0) & (x0 == 0)
        effects = np.where(both, 1.0, effects)  # delta / delta -> 1
        logs = np.log(effects)
        s = logs.sum(axis=1)
        shares = logs / np.where(s == 0, np.nan, s)[:, None]
        zero_rows = ((x1 == 0) | (x0 == 0)).any(axis=1)
        if zero_rows.any():
            m = (x1 == 0).astype(float) - (x0 == 0).astype(float)
            total = m.sum(axis=1)
            limit = m / np.where(total == 0, np.nan, total)[:, None]
            shares[zero_rows] = limit[zero_rows]
    return effects, shares


def _shapley(x1, x0, v1, v0, zero_value):
    m, n = x1.shape
    x0 = np.broadcast_to(x0, x1.shape)
    # weight of a subset S of the other drivers: |S|! (n - 1 - |S|)! / n!
    weights = np.array([1.0 / (n * math.comb(n - 1, t)) for t in range(n)])
    effects = np.empty_like(x1)
    for k in range(n):
        coefficients = np.zeros((m, n))
        coefficients[:, 0] = 1.0
        degree = 0
        for j in range(n):
            if j == k:
                continue
            # multiply the polynomial by (x0_j + z * x1_j)
            upper = coefficients[:, 1 : degree + 2] * x0[:, j : j + 1]
            upper += coefficients[:, 0 : degree + 1] * x1[:, j : j + 1]
            coefficients[:, 1 : degree + 2] = upper
            coefficients[:, 0] *= x0[:, j]
            degree += 1
        effects[:, k] = (x1[:, k] - x0[:, k]) * (coefficients @ weights)
    gap = v1 - v0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shares = effects / np.where(gap == 0, np.nan, gap)[:, None]
    return effects, shares


# ---------------------------------------------------------------------------
# reference, residual, notes, output
# ---------------------------------------------------------------------------


def _resolve_reference(reference, units, ids, drivers, target, id_column, lmdi):
    """Return (reference driver values (n,), reference target or None)."""
    if isinstance(reference, pd.Series | Mapping):
        ref = pd.Series(reference, dtype=object)
        absent = [d for d in drivers if d not in ref.index]
        if absent:
            msg = (
                f"the reference lacks driver(s) {', '.join(repr(d) for d in absent)}; "
                f"it has: {', '.join(repr(str(k)) for k in ref.index)}"
            )
            raise InputError(msg)
        keys = drivers + ([target] if target is not None and target in ref.index else [])
        values = pd.to_numeric(ref[keys], errors="coerce").astype(float)
        bad = values.isna() | ~np.isfinite(values) | ((values < 0) if lmdi else False)
        if bad.any():
            key = bad.idxmax()
            expected = "a finite number >= 0" if lmdi else "a finite number"
            msg = f"reference value for {key!r}: got {ref[key]!r}, expected {expected}"
            raise InputError(msg)
        t0 = float(values[target]) if target is not None and target in ref.index else None
        return values[drivers].to_numpy(dtype=float), t0
    matches = np.flatnonzero(ids.to_numpy() == reference) if _is_scalar(reference) else []
    if len(matches) != 1:
        where = f"column {id_column!r}" if id_column else "the index"
        msg = (
            f"reference unit {reference!r} not found in {where}; pass a unit id, or a "
            "Series of driver values (see peer_reference)"
        )
        raise InputError(msg)
    row = matches[0]
    x0 = np.array([_numeric_column(units, d, "units", id_column)[row] for d in drivers])
    t0 = _numeric_column(units, target, "units", id_column)[row] if target else None
    if np.isnan(x0).any() or (t0 is not None and np.isnan(t0)):
        gone = [d for d, v in zip(drivers, x0, strict=True) if np.isnan(v)]
        gone += [target] if t0 is not None and np.isnan(t0) else []
        msg = f"reference unit {reference!r} has missing value(s) in: {', '.join(gone)}"
        raise InputError(msg)
    return x0, t0


def _with_residual(x1, x0, t1, t0, drivers):
    """Append the residual driver when the target is not the product of the drivers.

    Returns (x1, x0, driver names, unit values, reference value, per-unit notes).
    """
    names = list(drivers)
    with np.errstate(invalid="ignore", over="ignore"):
        p1 = np.prod(x1, axis=1)
        p0 = float(np.prod(x0))
    notes = np.full(len(x1), "", dtype=object)
    if t1 is None:
        return x1, x0, names, p1, p0, notes
    v0 = p0 if t0 is None else float(t0)
    if p0 == 0 and v0 != 0:
        msg = (
            f"the reference target is {v0!r} but the product of its drivers is 0: "
            "the residual factor target / product is undefined"
        )
        raise InputError(msg)
    r0 = 1.0 if p0 == 0 else v0 / p0
    undefined = (p1 == 0) & (t1 != 0) & ~np.isnan(t1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r1 = np.where(p1 == 0, 1.0, t1 / np.where(p1 == 0, 1.0, p1))
    r1 = np.where(undefined | np.isnan(t1), np.nan, r1)
    notes[undefined] = (
        "the target is not 0 but the product of the drivers is 0: residual undefined; "
        "not decomposed"
    )
    finite = np.isfinite(r1)
    needed = (
        undefined.any()
        or bool(np.any(np.abs(r1[finite] - 1) > _RESIDUAL_TOLERANCE))
        or abs(r0 - 1) > _RESIDUAL_TOLERANCE
    )
    if not needed:
        return x1, x0, names, t1, v0, notes
    return np.column_stack([x1, r1]), np.append(x0, r0), [*names, RESIDUAL], t1, v0, notes


def _assemble(ids, names, x1, x0, effects, shares, method, notes, v1, v0):
    order = _sort_order(ids)
    m, k = x1.shape
    x1, effects, shares, notes, v1 = (a[order] for a in (x1, effects, shares, notes, v1))
    driver_notes = np.array(
        ["residual factor = target / product of drivers" if n == RESIDUAL else "" for n in names],
        dtype=object,
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = v1 / v0
    return pd.DataFrame(
        {
            "unit": np.repeat(ids.to_numpy()[order], k),
            "driver": np.tile(np.array(names, dtype=object), m),
            "unit_driver_value": x1.ravel(),
            "reference_driver_value": np.tile(x0, m),
            "effect": effects.ravel() + 0.0,  # + 0.0 turns -0.0 into 0.0
            "effect_share": shares.ravel() + 0.0,
            "method": method,
            "note": _join(np.tile(driver_notes, m), np.repeat(notes, k)),
            "unit_value": np.repeat(v1, k),
            "reference_value": v0,
            "gap": np.repeat(v1 - v0, k),
            "ratio": np.repeat(ratio, k),
        },
        columns=GAP_COLUMNS,
    )


def _list_note(mask: np.ndarray, names: Sequence[str], prefix: str, suffix: str) -> np.ndarray:
    """Per row: ``prefix + 'a, b' + suffix`` naming the columns where ``mask`` holds."""
    text = np.full(mask.shape[0], "", dtype=object)
    if not mask.any():  # the usual case: nothing to say, no string work
        return text
    for j, name in enumerate(names):
        text = np.where(mask[:, j], np.where(text == "", name, text + ", " + name), text)
    return np.where(text == "", "", prefix + text + suffix)


def _join(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Join two arrays of notes with '; ', skipping empty ones."""
    first, second = np.asarray(first, dtype=object), np.asarray(second, dtype=object)
    return np.where(first == "", second, np.where(second == "", first, first + "; " + second))


def _sort_order(ids: pd.Series) -> np.ndarray:
    values = ids.to_numpy()
    try:
        return np.argsort(values, kind="stable")
    except TypeError:  # ids of mixed types: order by their text
        return np.argsort(ids.astype(str).to_numpy(), kind="stable")


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _check_drivers(frame, drivers, target, what) -> list[str]:
    if not isinstance(frame, pd.DataFrame):
        msg = f"{what}: expected a pandas DataFrame, got {type(frame).__name__}"
        raise InputError(msg)
    drivers = [drivers] if isinstance(drivers, str) else list(drivers)
    if not drivers:
        msg = f"no drivers given for {what}: pass the driver columns whose product is the unit cost"
        raise InputError(msg)
    repeated = sorted({d for d in drivers if drivers.count(d) > 1})
    if repeated:
        msg = f"driver(s) listed more than once: {', '.join(repr(d) for d in repeated)}"
        raise InputError(msg)
    if target is not None and target in drivers:
        msg = f"target column {target!r} is also listed as a driver"
        raise InputError(msg)
    if target is not None and RESIDUAL in drivers:
        msg = f"a driver may not be named {RESIDUAL!r} when a target is given (reserved)"
        raise InputError(msg)
    absent = [c for c in [*drivers, *([target] if target is not None else [])] if c not in frame]
    if absent:
        kind = "target" if absent == [target] else "driver"
        msg = (
            f"unknown {kind} column(s) {', '.join(repr(c) for c in absent)} in {what}; "
            f"available columns: {', '.join(repr(str(c)) for c in frame.columns)}"
        )
        raise InputError(msg)
    return drivers


def _unit_ids(units: pd.DataFrame, id_column: str | None) -> pd.Series:
    if id_column is None:
        ids = pd.Series(units.index, dtype=object)
    elif id_column not in units:
        msg = (
            f"id column {id_column!r} not found in units; available columns: "
            f"{', '.join(repr(str(c)) for c in units.columns)} (pass id_column=...)"
        )
        raise InputError(msg)
    else:
        ids = units[id_column].reset_index(drop=True)
    column = id_column or "index"
    _raise_cells(units, ids.isna().to_numpy(), column, "a unit id", Check.MISSING_ID, "units", None)
    duplicated = ids.duplicated(keep=False).to_numpy()
    _raise_cells(units, duplicated, column, "a unique unit id", Check.DUPLICATE_ID, "units", None)
    return ids


def _numeric_column(frame, column, what, id_column) -> np.ndarray:
    series = frame[column]
    values = pd.to_numeric(series, errors="coerce")
    bad = (values.isna() & series.notna()).to_numpy()
    _raise_cells(frame, bad, column, "a number", Check.NOT_A_NUMBER, what, id_column)
    array = values.to_numpy(dtype=float, na_value=np.nan)
    _raise_cells(
        frame, np.isinf(array), column, "a finite number", Check.NOT_FINITE, what, id_column
    )
    return array


def _raise_cells(frame, mask, column, expected, check, what, id_column) -> None:
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
            "value": _plain(frame[column].iloc[p] if column in frame else frame.index[p]),
            "expected": expected,
            "check": check,
        }
        for p in positions
    ]
    lines = [
        format_problem(row, _unit_label(frame, p, id_column))
        for row, p in zip(rows[:_MAX_LISTED], positions, strict=False)
    ]
    more = len(rows) - len(lines)
    tail = f"\n... and {more} more problem(s)" if more > 0 else ""
    msg = f"{len(rows)} problem(s) in {what}:\n" + "\n".join(lines) + tail
    raise InputError(msg, make_problems(rows))


def _unit_label(frame, position, id_column) -> str:
    if id_column is not None and id_column in frame:
        return f"{id_column} {frame[id_column].iloc[position]!r}"
    if "source_row" in frame:
        return ""
    return f"index {frame.index[position]!r}"


def _is_scalar(value: object) -> bool:
    return pd.api.types.is_scalar(value) and not pd.isna(value)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value
