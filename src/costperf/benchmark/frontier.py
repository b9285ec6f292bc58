"""DEA frontier: efficiency of units with several inputs and outputs (R Benchmarking's models).

The implementation lives in the :mod:`costperf.benchmark.dea` package (one module per
step: ``checks`` validation, ``model`` HiGHS LPs, ``frame`` efficient-frame screening,
``radial`` scores/slacks/super-efficiency, ``walk`` and ``scale`` the facet walk for
large N, ``fdh``, ``graph``, ``prices``); this module is the stable public surface.

Public API
----------
solve_dea(inputs, outputs, *, rts="vrs", orientation="in", slack=False,
          super_efficiency=False, reference=None, threads=None) -> DataFrame
cost_efficiency(inputs, outputs, prices, *, rts="vrs", reference=None) -> DataFrame
revenue_efficiency(inputs, outputs, prices, *, rts="vrs", reference=None) -> DataFrame
check_dea_data(inputs, outputs, *, rts, orientation, locations=None) -> problems frame
naive_scores(x, y, *, rts, orientation) -> ndarray   (one fresh LP per unit; baseline)

Scores match R Benchmarking 0.33 (``dea``, ``sdea``, ``slack``, ``cost.opt``,
``revenue.opt``) to ~1e-11 on the reference sets in ``tests/reference/dea``.
"""

from __future__ import annotations

from costperf.benchmark.dea.api import solve_dea
from costperf.benchmark.dea.checks import (
    ORIENTATIONS,
    RETURNS_TO_SCALE,
    check_dea_data,
    check_prices,
)
from costperf.benchmark.dea.naive import naive_scores
from costperf.benchmark.dea.prices import cost_efficiency, revenue_efficiency

__all__ = [
    "ORIENTATIONS",
    "RETURNS_TO_SCALE",
    "check_dea_data",
    "check_prices",
    "cost_efficiency",
    "naive_scores",
    "revenue_efficiency",
    "solve_dea",
]
