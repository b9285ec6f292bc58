"""Batch review of whole request books: projects, their lines and performance targets.

A request book (申报书) holds projects (项目), their lines (明细) and their performance
targets (绩效目标).  :func:`costperf.review.batch.engine.review_book` reviews it with
every registered rule (:mod:`costperf.review.registry`), in this order:

1. **route** (:mod:`.routing`): each line's rule, by standard_id, else expense_kind,
   else econ_code through ``standards/review-routing.csv``;
2. **line** rules (meeting, training, travel, equipment): the cap of each line;
3. **project** rules: the unit-cost standard as a cap on the approved sum of the
   project's lines (lines first, then the cap; the excess cut pro rata) and the
   target gate (:mod:`.gates`: no targets -> 不予安排);
4. **check** rules (:mod:`.checks`): no applicable standard, duplicate lines
   (flags for manual review; no amount changes).

:mod:`.decide` turns the results into line and project decisions and summaries;
:mod:`.book` checks a book across its tables; :mod:`.parallel` runs the same review over
forked local processes or on Dask, partitioned by project.
"""

from __future__ import annotations

from costperf.review.batch.context import BatchContext

__all__ = ["BatchContext"]
