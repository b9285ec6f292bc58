"""Validation of DEA data: every problem located by file/row/column, collected first.

``check_dea_data`` never raises; ``prepare`` raises :class:`InputError` once with all
problems, then hands the numeric arrays to the solvers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from costperf.errors import LOCATION, InputError, empty_problems, make_problems, raise_if_problems

RETURNS_TO_SCALE = ("crs", "vrs", "drs", "irs", "fdh")
ORIENTATIONS = ("in", "out", "graph")
ORIENTATION_WORDS = {"in": "input", "out": "output", "graph": "graph"}
RTS_ALIASES = {"nirs": "drs", "ndrs": "irs"}
LOCATION_COLUMNS = LOCATION


def normalize_rts(rts: str) -> str:
    """Return the canonical returns-to-scale name or raise :class:`InputError`."""
    key = str(rts).strip().lower()
    key = RTS_ALIASES.get(key, key)
    if key not in RETURNS_TO_SCALE:
        msg = (
            f"unknown returns to scale {rts!r}; use one of: {', '.join(RETURNS_TO_SCALE)} "
            f"(nirs = drs, ndrs = irs)"
        )
        raise InputError(msg)
    return key


def normalize_orientation(orientation: str, allowed: Sequence[str] = ORIENTATIONS) -> str:
    """Return the canonical orientation name or raise :class:`InputError`."""
    key = str(orientation).strip().lower()
    key = {"input": "in", "output": "out", "hyperbolic": "graph"}.get(key, key)
    if key not in allowed:
        msg = f"unknown orientation {orientation!r}; use one of: {', '.join(allowed)}"
        raise InputError(msg)
    return key


def negative_outputs_allowed(rts: str, orientation: str) -> bool:
    """Whether the model is translation invariant in outputs (VRS/FDH, input-oriented)."""
    return orientation == "in" and rts in ("vrs", "fdh")


def zero_outputs_allowed(rts: str, orientation: str) -> bool:
    """Whether a unit with all outputs zero has a meaningful score in this model."""
    return orientation == "in" and rts in ("vrs", "irs", "fdh")


@dataclass(frozen=True)
class Located:
    """Row locations used in messages: one entry per unit, in frame order."""

    source_file: np.ndarray
    sheet: np.ndarray
    source_row: np.ndarray

    @classmethod
    def of(cls, index: pd.Index, locations: pd.DataFrame | None) -> Located:
        """Locations from a frame with ``source_file/sheet/source_row``, else positions."""
        n = len(index)
        if locations is None:
            return cls(
                np.full(n, "", dtype=object), np.full(n, "", dtype=object), np.arange(1, n + 1)
            )
        loc = locations.reindex(index) if not locations.index.equals(index) else locations

        def col(name: str, default: object) -> np.ndarray:
            if name in loc:
                return loc[name].astype(object).where(loc[name].notna(), default).to_numpy()
            return np.full(n, default, dtype=object)

        rows = col("source_row", "")
        if "source_row" not in loc:
            rows = np.arange(1, n + 1)
        return cls(col("source_file", ""), col("sheet", ""), rows)


def _problems(
    where: Located, mask: np.ndarray, column: str, values: np.ndarray, expected: str, check: str
) -> pd.DataFrame:
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return empty_problems()
    return make_problems(
        {
            "source_file": where.source_file[i],
            "sheet": where.sheet[i],
            "source_row": where.source_row[i],
            "column": column,
            "value": _text(values[i]),
            "expected": expected,
            "check": check,
        }
        for i in idx
    )


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (floats, missing, unparsable) for one column of cells."""
    if pd.api.types.is_bool_dtype(series):
        values = series.astype(object)
    else:
        values = series
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    missing = series.isna().to_numpy() | series.astype(object).map(
        lambda v: isinstance(v, str) and not v.strip()
    ).to_numpy(dtype=bool)
    bad = np.isnan(numbers) & ~missing
    if pd.api.types.is_bool_dtype(series):
        bad = ~missing
    return numbers, missing, bad


def _check_block(
    frame: pd.DataFrame, where: Located, *, what: str, min_value: float | None, min_note: str = ""
) -> tuple[np.ndarray, list[pd.DataFrame]]:
    """Numbers of one block (inputs, outputs or prices) and the problems found."""
    parts: list[pd.DataFrame] = []
    out = np.zeros((len(frame), frame.shape[1]))
    for k, name in enumerate(frame.columns):
        cells = frame[name].to_numpy(dtype=object)
        numbers, missing, bad = _numbers(frame[name])
        parts.append(_problems(where, bad, str(name), cells, f"a number ({what})", "not_a_number"))
        parts.append(
            _problems(
                where,
                missing,
                str(name),
                cells,
                f"a value ({what}; the cell is blank)",
                "missing_value",
            )
        )
        infinite = np.isinf(numbers)
        parts.append(
            _problems(where, infinite, str(name), cells, f"a finite number ({what})", "not_finite")
        )
        if min_value is not None:
            low = numbers < min_value
            parts.append(
                _problems(
                    where,
                    low,
                    str(name),
                    cells,
                    f"a number >= {min_value:g} ({what}){min_note}",
                    "below_minimum",
                )
            )
        out[:, k] = numbers
    return out, parts


def check_dea_data(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    rts: str = "vrs",
    orientation: str = "in",
    locations: pd.DataFrame | None = None,
    what: str = "the data",
) -> pd.DataFrame:
    """Check DEA inputs and outputs; return a problems table (never raises).

    Parameters
    ----------
    inputs, outputs
        One row per unit, one column per input/output, same index. [any units]
    rts, orientation
        The model; decides whether negative or all-zero outputs are acceptable.
    locations
        Optional ``source_file``, ``sheet``, ``source_row`` per unit (same index), used
        to point each problem at the cell the user sees. Without it, ``source_row`` is
        the 1-based position of the unit.
    what
        Name of the table in messages.

    Returns
    -------
    DataFrame
        Problems table (:data:`costperf.errors.PROBLEM_COLUMNS`); empty when all is well.
    """
    rts = normalize_rts(rts)
    orientation = normalize_orientation(orientation)
    parts = _shape_problems(inputs, outputs, what)
    if parts:
        return pd.concat(parts, ignore_index=True)
    where = Located.of(inputs.index, locations)
    x, p_in = _check_block(inputs, where, what="input", min_value=0.0)
    neg_ok = negative_outputs_allowed(rts, orientation)
    note = (
        "" if neg_ok else "; negative outputs are allowed only with VRS or FDH, input orientation"
    )
    y, p_out = _check_block(
        outputs, where, what="output", min_value=None if neg_ok else 0.0, min_note=note
    )
    parts = p_in + p_out
    first_in, first_out = str(inputs.columns[0]), str(outputs.columns[0])
    zero_in = np.all(np.nan_to_num(x) == 0, axis=1) & ~np.isnan(x).any(axis=1)
    parts.append(
        _problems(
            where,
            zero_in,
            first_in,
            x[:, 0],
            f"at least one input > 0 (all inputs of this unit are 0: "
            f"{', '.join(map(str, inputs.columns))})",
            "all_inputs_zero",
        )
    )
    if not zero_outputs_allowed(rts, orientation):
        zero_out = np.all(np.nan_to_num(y) == 0, axis=1) & ~np.isnan(y).any(axis=1)
        parts.append(
            _problems(
                where,
                zero_out,
                first_out,
                y[:, 0],
                f"at least one output > 0 (all outputs of this unit are 0; "
                f"its {rts.upper()} {ORIENTATION_WORDS.get(orientation, orientation)} score "
                "is undefined)",
                "all_outputs_zero",
            )
        )
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else empty_problems()


def _shape_problems(inputs: pd.DataFrame, outputs: pd.DataFrame, what: str) -> list[pd.DataFrame]:
    """Whole-table problems: types, sizes, names. Returned as problems, not raised."""

    def one(expected: str, check: str, column: str = "", value: str = "") -> pd.DataFrame:
        return make_problems(
            [{"column": column, "value": value, "expected": expected, "check": check}]
        )

    for name, frame in (("inputs", inputs), ("outputs", outputs)):
        if not isinstance(frame, pd.DataFrame):
            return [
                one(
                    f"{name} as a DataFrame (one column per {name[:-1]})",
                    "wrong_type",
                    value=type(frame).__name__,
                )
            ]
    parts = []
    if inputs.shape[1] == 0:
        parts.append(one(f"at least one input column in {what}", "no_inputs"))
    if outputs.shape[1] == 0:
        parts.append(one(f"at least one output column in {what}", "no_outputs"))
    if len(inputs) == 0:
        parts.append(one(f"at least one unit (row) in {what}", "no_units"))
    if len(inputs) != len(outputs):
        parts.append(
            one(
                f"as many output rows as input rows in {what} ({len(inputs)} input rows)",
                "length_mismatch",
                value=f"{len(outputs)} output rows",
            )
        )
    elif not inputs.index.equals(outputs.index):
        parts.append(
            one(f"inputs and outputs with the same index (unit ids) in {what}", "index_mismatch")
        )
    if inputs.index.has_duplicates:
        dup = inputs.index[inputs.index.duplicated()][0]
        parts.append(
            one(
                f"unique unit ids in {what} (peers are reported by id)",
                "duplicate_id",
                value=str(dup),
            )
        )
    names = [str(c) for c in inputs.columns] + [str(c) for c in outputs.columns]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            parts.append(
                one(
                    f"distinct input and output column names in {what}",
                    "duplicate_column",
                    column=name,
                )
            )
        seen.add(name)
    return parts


def prepare(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    *,
    rts: str,
    orientation: str,
    locations: pd.DataFrame | None = None,
    what: str = "the data",
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(X, Y)`` as float arrays; raise :class:`InputError` if bad."""
    problems = check_dea_data(
        inputs, outputs, rts=rts, orientation=orientation, locations=locations, what=what
    )
    raise_if_problems(problems, what)
    x = inputs.apply(pd.to_numeric).to_numpy(dtype=float)
    y = outputs.apply(pd.to_numeric).to_numpy(dtype=float)
    return x, y


def check_prices(
    prices: object, goods: pd.DataFrame, *, what: str, locations: pd.DataFrame | None = None
) -> tuple[np.ndarray, pd.DataFrame]:
    """Prices per unit (one row per unit of ``goods``) and the problems found.

    ``prices`` is either a DataFrame with the same index as ``goods`` and one column per
    good (matched by position), or one price per good shared by all units (a Series,
    mapping or sequence of length ``goods.shape[1]``).
    """
    n, k = goods.shape
    if isinstance(prices, pd.DataFrame):
        if prices.shape[1] != k:
            return np.zeros((n, k)), make_problems(
                [
                    {
                        "expected": f"{k} {what} columns, one per {'input' if 'input' in what else 'output'}"
                        f" ({', '.join(map(str, goods.columns))})",
                        "value": f"{prices.shape[1]} columns",
                        "check": "price_columns",
                    }
                ]
            )
        if len(prices) != n or not prices.index.equals(goods.index):
            return np.zeros((n, k)), make_problems(
                [
                    {
                        "expected": f"{what} for the same units (index) as the data, {n} rows",
                        "value": f"{len(prices)} rows",
                        "check": "length_mismatch",
                    }
                ]
            )
        frame = prices
    else:
        if isinstance(prices, pd.Series):
            values = (
                prices.reindex(goods.columns) if set(goods.columns) <= set(prices.index) else prices
            )
            values = list(values)
        elif isinstance(prices, dict):
            values = [prices.get(c) for c in goods.columns]
        else:
            values = list(np.atleast_1d(np.asarray(prices, dtype=object)))
        if len(values) != k:
            return np.zeros((n, k)), make_problems(
                [
                    {
                        "expected": f"{k} {what}, one per column ({', '.join(map(str, goods.columns))})",
                        "value": f"{len(values)} values",
                        "check": "price_count",
                    }
                ]
            )
        frame = pd.DataFrame(
            [values] * n, index=goods.index, columns=[f"price_{c}" for c in goods.columns]
        )
    where = Located.of(goods.index, locations)
    w, parts = _check_block(frame, where, what=what, min_value=0.0)
    parts = [p for p in parts if not p.empty]
    return w, pd.concat(parts, ignore_index=True) if parts else empty_problems()
