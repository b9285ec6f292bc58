"""costperf: cost-budget performance analysis (成本预算绩效分析) for Chinese public finance.

Pipeline stages (one module each; pure functions on pandas DataFrames):
ingest (:mod:`costperf.io`) -> :mod:`costperf.decompose` -> :mod:`costperf.benchmark`
-> :mod:`costperf.standards` -> :mod:`costperf.review` -> :mod:`costperf.records`,
and :mod:`costperf.optimize` (savings at fixed outputs) beside the review, with :mod:`costperf.report` writing tables and charts and :mod:`costperf.cli` wiring them.
"""

from __future__ import annotations

__version__ = "0.1.0"
