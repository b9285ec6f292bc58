"""Rules that are not a single number, read from the tables' ``[rules]`` data.

Each function takes the rule parameters from the version of the table in force on the
given date (default: the newest issued version), so changing a rule is a new table
version, not a code change.  ``standards`` defaults to the shipped tables.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import cache

import numpy as np
import pandas as pd

from costperf.errors import InputError
from costperf.standards.lookup import (
    OK,
    as_dates,
    lookup_values,
    normalise_dimension,
    season_labels,
    versions_in_force,
)
from costperf.standards.tables import StandardSet, TableVersion, read_standards

MEETING_TABLE_ITEM = "meeting_table"


@cache
def shipped_standards() -> StandardSet:
    """The standard tables shipped with costperf (read once per process)."""
    return read_standards()


def _standards(standards: StandardSet | None) -> StandardSet:
    return shipped_standards() if standards is None else standards


def table_in_force(
    standards: StandardSet, table: str, on: object = None, *, include_drafts: bool = False
) -> TableVersion:
    """The version of ``table`` in force on ``on`` (default: the newest issued one)."""
    if on is None:
        return standards.get(table)
    dates = as_dates(on, pd.DataFrame(index=[0]))
    found = versions_in_force(standards, pd.Series([table]), dates, include_drafts=include_drafts)
    standards.get(table)  # unknown table -> InputError naming the tables
    if found.isna().iloc[0]:
        msg = f"no '{table}' table in force on {dates.iloc[0]:%Y-%m-%d}"
        raise InputError(msg)
    return standards.versions[(table, int(found.iloc[0]))]


def rule(
    standards: StandardSet | None, table: str, name: str, *, on: object = None
) -> Mapping[str, object]:
    """Parameters of rule ``name`` of ``table`` (the version in force on ``on``)."""
    version = table_in_force(_standards(standards), table, on)
    rules = version.header.get("rules") or {}
    if name not in rules:
        have = ", ".join(rules) or "none"
        msg = f"{version.ref} has no rule '{name}' (rules: {have})"
        raise InputError(msg)
    return rules[name]


def _rules_of_type(version: TableVersion, rule_type: str) -> list[Mapping[str, object]]:
    return [r for r in (version.header.get("rules") or {}).values() if r["type"] == rule_type]


# ---- tiers -------------------------------------------------------------------------


def tiered_amount(amount: float, tiers: Sequence[Mapping[str, float]]) -> Fraction:
    """Apply marginal tiers: each tier's slice of ``amount`` times its rate (or / per).

    >>> float(tiered_amount(35, [{"upto": 30, "rate": 1}, {"rate": 0.7}]))
    33.5
    >>> tiered_amount(130, [{"upto": 100, "per": 20}, {"per": 30}])
    Fraction(6, 1)
    """
    total, lower, left = Fraction(0), Fraction(0), Fraction(str(amount))
    for tier in tiers:
        upto = tier.get("upto")
        top = Fraction(str(upto)) if upto is not None else None
        part = left if top is None else max(Fraction(0), min(left, top - lower))
        if "rate" in tier:
            total += part * Fraction(str(tier["rate"]))
        else:
            total += part / Fraction(str(tier["per"]))
        left -= part
        lower = top if top is not None else lower
        if left <= 0:
            break
    return total


def _vectorise(values: object, func) -> object:  # noqa: ANN001 - small private helper
    if np.ndim(values) == 0:
        return func(values)
    series = pd.Series(values)
    return series.map(func).to_numpy(dtype=float)


def training_chargeable_days(
    days: object,
    *,
    arrival_departure_days: object = 0,
    standards: StandardSet | None = None,
    on: object = None,
    table: str = "training-fee",
) -> object:
    """Days of a training charged against the composite quota, in full-quota days.

    Arrival and departure count at most ``rules.arrival_departure_days.max`` days
    together; days up to 30 count in full, days beyond at 70% (``rules.day_tiers``).

    Parameters
    ----------
    days
        Training days (scalar or array). [days]
    arrival_departure_days
        Arrival and departure days claimed. [days]

    Returns
    -------
    float or ndarray
        Full-quota day equivalents: 35 days -> 30 + 5 x 0.7 = 33.5. [days]

    References
    ----------
    财行〔2016〕540号, table ``training-fee``.
    """
    version = table_in_force(_standards(standards), table, on)
    rules = version.header.get("rules") or {}
    tiers = rules["day_tiers"]["tiers"]
    cap = rules.get("arrival_departure_days", {}).get("max", math.inf)
    extra = np.minimum(np.asarray(arrival_departure_days, dtype=float), cap)
    counted = np.asarray(days, dtype=float) + extra
    result = _vectorise(
        counted, lambda d: float(tiered_amount(d, tiers)) if d == d else float("nan")
    )
    return float(result) if np.ndim(result) == 0 else result


def training_day_factor(
    day_number: object,
    *,
    standards: StandardSet | None = None,
    on: object = None,
    table: str = "training-fee",
) -> object:
    """Share of the quota for the n-th training day (day 30 -> 1.0, day 31 -> 0.7)."""
    version = table_in_force(_standards(standards), table, on)
    tiers = (version.header.get("rules") or {})["day_tiers"]["tiers"]

    def factor(n: float) -> float:
        for tier in tiers:
            if tier.get("upto") is None or n <= tier["upto"]:
                return float(tier.get("rate", 1.0))
        return float("nan")  # pragma: no cover - the last tier is open

    result = _vectorise(day_number, factor)
    return float(result) if np.ndim(result) == 0 else result


def lecturer_hours_cap(
    half_days: object,
    *,
    standards: StandardSet | None = None,
    on: object = None,
    table: str = "training-lecturer-fee",
) -> object:
    """Most teaching hours payable for ``half_days`` of teaching (4 per half day). [学时]"""
    limit = rule(standards, table, "hours_per_half_day", on=on)["max"]
    return (
        np.asarray(half_days, dtype=float) * limit
        if np.ndim(half_days)
        else float(half_days) * limit
    )


# ---- seasons ----------------------------------------------------------------------


def season_for(
    date: object,
    city: object,
    *,
    standards: StandardSet | None = None,
    table: str = "travel-lodging",
    include_drafts: bool = False,
) -> object:
    """Season label (``'旺季'`` / ``'淡季'``) of a city on a date, from ``rules.*seasons``.

    Peak windows may wrap the year end (海口 11-01 to 02-29).  Returns None (NaN for
    arrays) where the table in force has no seasonal rule or no table is in force.
    Accepts scalars or equal-length arrays of dates and cities.
    """
    standards = _standards(standards)
    scalar = np.ndim(date) == 0 and np.ndim(city) == 0
    frame = pd.DataFrame(
        {
            "date": np.atleast_1d(np.asarray(date, dtype=object)),
            "city": np.atleast_1d(np.asarray(city, dtype=object)),
        }
    )
    dates = as_dates("date", frame)
    versions = versions_in_force(
        standards, pd.Series(table, index=frame.index), dates, include_drafts=include_drafts
    )
    out = pd.Series(np.nan, index=frame.index, dtype=object)
    for ver, idx in versions.dropna().groupby(versions.dropna()).groups.items():
        version = standards.versions[(table, int(ver))]
        for seasons in _rules_of_type(version, "seasons"):
            spec = (version.header.get("dimensions") or {}).get(seasons["key"], {})
            cities = normalise_dimension(frame.loc[idx, "city"], spec)
            out.loc[idx] = season_labels(seasons, cities, dates.loc[idx])
    if scalar:
        value = out.iloc[0]
        return None if pd.isna(value) else value
    return out.to_numpy()


# ---- quantities and prices of equipment ----------------------------------------------


def quantity_cap(
    item: str,
    staff: object,
    *,
    standards: StandardSet | None = None,
    on: object = None,
    table: str = "office-equipment",
    staff_level: str | None = None,
    unit_type: str | None = None,
) -> object:
    """Most units of ``item`` a unit with ``staff`` people may hold.

    Proportional items use their ``quantity`` line (台/人 x staff; items sharing one
    cap, such as A3 and A4 printers, use the shared line); items with a ``tiers`` rule
    (the copier: 1 per 20 up to 100 staff, then 1 per 30) use the tiers.  The result is
    rounded as the table says (``rules.quantity_rounding``; tiers have their own).

    Parameters
    ----------
    staff
        Staff on the establishment (编制内实有人数), scalar or array. [persons]

    Returns
    -------
    float or ndarray
        The cap. [units]

    References
    ----------
    财资〔2016〕27号, table ``office-equipment``.
    """
    standards = _standards(standards)
    version = table_in_force(standards, table, on)
    tiered = [r for r in _rules_of_type(version, "tiers") if r.get("item") == item]
    if tiered:
        steps, mode = tiered[0]["tiers"], tiered[0].get("rounding", "none")
        return _vectorise(staff, lambda s: _round(tiered_amount(s, steps), mode))
    rules = version.header.get("rules") or {}
    shared = (rules.get("shared_quantity") or {}).get("value") or {}
    line_item = shared.get(item, item)
    query = pd.DataFrame({"staff_level": [staff_level], "unit_type": [unit_type]})
    found = lookup_values(
        standards,
        query,
        on=version.values["effective_from"].iloc[0],
        table=table,
        item=line_item,
        component="quantity",
    )
    hit = found.iloc[0]
    if hit["lookup_status"] != OK or int(hit["version"]) != version.version:
        msg = f"no quantity cap for '{item}' in {version.ref}: {hit['lookup_status']}"
        raise InputError(msg)
    mode = (rules.get("quantity_rounding") or {}).get("value", "none")
    ratio, unit = Fraction(str(hit["value"])), str(hit["unit"])
    per_person = unit.endswith("/人")
    if not per_person and not unit.startswith("人/"):
        msg = f"{hit['standard_id']}: unit '{unit}' is not per person (x/人) or persons per unit"
        raise InputError(msg)
    return _vectorise(
        staff,
        lambda s: _round(
            Fraction(str(s)) * ratio if per_person else Fraction(str(s)) / ratio, mode
        ),
    )


def _round(value: Fraction, mode: object) -> float:
    if mode == "floor":
        return float(math.floor(value))
    if mode == "ceil":
        return float(math.ceil(value))
    return float(value)


def meeting_table_price_cap(
    room_area_m2: object,
    *,
    standards: StandardSet | None = None,
    on: object = None,
    table: str = "office-equipment",
) -> object:
    """Price cap of a meeting room's tables: room area x the rate of its area band.

    Bands from ``rules.room_area_band`` (<= 50 m2: 1,600 yuan/m2; 50-100: 1,200;
    > 100: 1,000), rates from the ``meeting_table/price_per_m2`` lines.

    Parameters
    ----------
    room_area_m2
        Meeting-room floor area, scalar or array. [m2]

    Returns
    -------
    float or ndarray
        The cap. [yuan]
    """
    standards = _standards(standards)
    version = table_in_force(standards, table, on)
    areas = pd.Series(np.atleast_1d(np.asarray(room_area_m2, dtype=float)))
    found = lookup_values(
        standards,
        pd.DataFrame({"room_area_m2": areas}),
        on=version.values["effective_from"].iloc[0],
        table=table,
        item=MEETING_TABLE_ITEM,
        component="price_per_m2",
    )
    bad = found["lookup_status"] != OK
    if bad.any() and areas[bad].notna().any():
        msg = f"meeting-table price cap: {found.loc[bad, 'lookup_status'].iloc[0]}"
        raise InputError(msg)
    caps = (areas * found["value"].astype(float)).to_numpy()
    return float(caps[0]) if np.ndim(room_area_m2) == 0 else caps
