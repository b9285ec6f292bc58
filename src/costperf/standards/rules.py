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
from costperf.labels import error_text, message
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
    """``func`` of each value, evaluated once per distinct value (exact tiers are slow)."""
    if np.ndim(values) == 0:
        return func(values)
    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    blank = [func(np.nan)] if (codes < 0).any() else [np.nan]
    return np.array([func(u) for u in uniques] + blank, dtype=float)[codes]


#: ``[rules]`` names of the arrival/departure limits of a training table (540号 第九条).
ARRIVAL_DEPARTURE_RULES = ("arrival_days", "departure_days", "arrival_departure_days")


def arrival_departure_limits(
    standards: StandardSet | None = None,
    *,
    on: object = None,
    table: str = "training-fee",
) -> tuple[float, float, float]:
    """Most arrival, departure and arrival + departure days a training may count.

    Read from the ``limit`` rules ``arrival_days``, ``departure_days`` (each on its own)
    and ``arrival_departure_days`` (together) of the version in force; a limit the table
    does not give is ``inf``, except that "together" defaults to the sum of the two.
    The central table says 报到和撤离时间分别不得超过1天 (each at most 1 day, so at most 2
    together); a local table may say 合计不得超过1天 (together at most 1 day).

    Returns
    -------
    tuple of float
        ``(arrival, departure, together)``. [days]
    """
    return _arrival_departure_limits(table_in_force(_standards(standards), table, on))


def _arrival_departure_limits(version: TableVersion) -> tuple[float, float, float]:
    rules = version.header.get("rules") or {}

    def most(name: str, default: float) -> float:
        value = (rules.get(name) or {}).get("max")
        return float(value) if value is not None else default

    arrival, departure = most("arrival_days", math.inf), most("departure_days", math.inf)
    return arrival, departure, most("arrival_departure_days", arrival + departure)


def count_arrival_departure(
    together: object,
    arrival: object,
    departure: object,
    limits: tuple[float, float, float],
) -> np.ndarray:
    """Arrival and departure days counted under ``limits`` (arrival, departure, together).

    Where a row gives arrival or departure days on their own, each is capped by its own
    limit (a blank one counts 0) and their sum by the together limit; otherwise the
    together figure is capped by the together limit.  Blank everywhere counts 0.

    >>> count_arrival_departure([2, np.nan, 3], [np.nan, 1, np.nan], [np.nan, 2, np.nan],
    ...                         (1, 1, 2)).tolist()
    [2.0, 2.0, 2.0]
    >>> count_arrival_departure([2], [np.nan], [np.nan], (math.inf, math.inf, 1)).tolist()
    [1.0]
    """
    cap_arrival, cap_departure, cap_together = limits
    arrival = np.atleast_1d(np.asarray(arrival, dtype=float))
    departure = np.atleast_1d(np.asarray(departure, dtype=float))
    together = np.atleast_1d(np.asarray(together, dtype=float))
    separate = ~np.isnan(arrival) | ~np.isnan(departure)
    each = np.minimum(np.nan_to_num(arrival), cap_arrival) + np.minimum(
        np.nan_to_num(departure), cap_departure
    )
    claimed = np.where(separate, each, np.nan_to_num(together))
    return np.minimum(claimed, cap_together)


def training_chargeable_days(
    days: object,
    *,
    arrival_departure_days: object = 0,
    arrival_days: object = None,
    departure_days: object = None,
    standards: StandardSet | None = None,
    on: object = None,
    table: str = "training-fee",
) -> object:
    """Days of a training charged against the composite quota, in full-quota days.

    The days counted are the training days plus the arrival and departure days the
    table allows (:func:`arrival_departure_limits`, :func:`count_arrival_departure`);
    they are then weighted by the marginal ``rules.day_tiers`` (central: days up to 30
    in full, beyond at 70%; a local table may add tiers, e.g. beyond 15 at 80%).

    Parameters
    ----------
    days
        Training days (scalar or array). [days]
    arrival_departure_days
        Arrival and departure days claimed together (used where the separate figures
        are blank). [days]
    arrival_days, departure_days
        Arrival and departure days claimed separately (optional). [days]

    Returns
    -------
    float or ndarray
        Full-quota day equivalents: 35 days -> 30 + 5 x 0.7 = 33.5. [days]

    References
    ----------
    财行〔2016〕540号 第九条, table ``training-fee``.
    """
    version = table_in_force(_standards(standards), table, on)
    tiers = (version.header.get("rules") or {})["day_tiers"]["tiers"]
    given = [
        np.asarray(np.nan if x is None else x, dtype=float)
        for x in (days, arrival_departure_days, arrival_days, departure_days)
    ]
    shape = np.broadcast_shapes(*(a.shape for a in given))
    days_, together, arrival, departure = (np.broadcast_to(a, shape).reshape(-1) for a in given)
    counted = count_arrival_departure(
        together, arrival, departure, _arrival_departure_limits(version)
    )
    result = _vectorise(
        days_ + counted, lambda d: float(tiered_amount(d, tiers)) if d == d else float("nan")
    )
    return float(result[0]) if not shape else result


def day_tiers_text(days: float, tiers: Sequence[Mapping[str, float]]) -> tuple[str, str]:
    """Which reduced-rate day tiers a training of ``days`` reaches, in zh and en.

    >>> day_tiers_text(35, [{"upto": 30, "rate": 1}, {"rate": 0.7}])
    ('超过30天部分按70%计', 'days beyond 30 at 70%')
    >>> day_tiers_text(20, [{"upto": 15, "rate": 1}, {"upto": 30, "rate": 0.8}, {"rate": 0.7}])
    ('超过15天至30天部分按80%计', 'days beyond 15 up to 30 at 80%')
    >>> day_tiers_text(10, [{"upto": 30, "rate": 1}, {"rate": 0.7}])
    ('', '')
    """
    reached: dict[str, list[str]] = {"zh": [], "en": []}
    lower = 0.0
    for tier in tiers:
        upto = tier.get("upto")
        rate = float(tier.get("rate", 1))
        if days > lower and rate != 1:
            pct = f"{rate * 100:g}%"
            for lang, parts in reached.items():
                parts.append(
                    message("standards.day_tier_beyond", lang, lower=lower, pct=pct)
                    if upto is None
                    else message(
                        "standards.day_tier_between", lang, lower=lower, upto=float(upto), pct=pct
                    )
                )
        if upto is None:
            break
        lower = float(upto)
    zh, en = (
        message("standards.day_tiers", lang, tiers=message("list.enumeration", lang).join(parts))
        if parts
        else ""
        for lang, parts in reached.items()
    )
    return zh, en


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
        msg = error_text(
            "{standard_id}: unit '{unit}' is not per person (x/人) or persons per unit",
            standard_id=hit["standard_id"],
            unit=unit,
        )
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
