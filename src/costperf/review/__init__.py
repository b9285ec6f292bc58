"""Review stage: budget requests + standards -> review lines and decisions.

- :mod:`costperf.review.unit_cost`: requests of a class of matter against a unit-cost
  standard (total = standard x output target; excess cut pro rata, line by line).
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
)

__all__ = [
    "DECISIONS_ZH",
    "LINE_COLUMNS",
    "PROJECT_COLUMNS",
    "allocate_cut",
    "review_lines",
    "review_projects",
    "review_totals",
]
