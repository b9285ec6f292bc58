"""Dates in headers and rules: ISO dates (TOML or text) and MM-DD season bounds."""

from __future__ import annotations

import datetime as dt
import re

_MONTH_DAY = re.compile(r"^(\d\d)-(\d\d)$")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_month_day(text: object) -> tuple[int, int] | None:
    """``'02-29'`` -> ``(2, 29)``; None when not a valid MM-DD (29 February allowed)."""
    match = _MONTH_DAY.match(str(text))
    if not match:
        return None
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        return None
    return month, day


def as_date(value: object) -> dt.date | None:
    """A TOML date or an ISO date string as :class:`datetime.date` (None if neither)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def as_end_date(value: object) -> dt.date | None:
    """A table's declared ``effective_to`` (:func:`as_date`); None when it names no end:
    blank, or a year after any date a request may take (:data:`costperf.schemas.YEARS`),
    as 9999-12-31 is commonly written for "in force until further notice"."""
    from costperf.schemas import YEARS

    end = as_date(value)
    return None if end is None or end.year > YEARS[1] else end
