"""Review stage: budget requests + standards -> review lines and decisions.

- :mod:`costperf.review.unit_cost`: requests of a class of matter against a unit-cost
  standard (total = standard x output target; excess cut pro rata, line by line).
- :mod:`costperf.review.expenditure`: meeting, training, travel and office-equipment
  requests against the published expenditure standards (会议费、培训费、差旅费、办公设备).
"""

from __future__ import annotations

from costperf.review.unit_cost import (
    DECISIONS_ZH,
    LINE_COLUMNS,
    PROJECT_COLUMNS,
    allocate_cut,
    review_lines,
    review_projects,
    review_totals,
    review_unit_cost,
    variable_adjustment,
)

__all__ = [
    "DECISIONS_ZH",
    "LINE_COLUMNS",
    "OUTPUT_COLUMNS",
    "PROJECT_COLUMNS",
    "allocate_cut",
    "review_expenditure",
    "review_lines",
    "review_projects",
    "review_totals",
    "review_unit_cost",
    "variable_adjustment",
]


def __getattr__(name: str) -> object:
    """The expenditure review's names, imported when first asked for (a case run reviews
    by unit cost only and need not import the expenditure rules)."""
    if name in ("OUTPUT_COLUMNS", "review_expenditure"):
        from costperf.review import expenditure

        return getattr(expenditure, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")  # noqa: EM102
