"""Review meeting, training, travel and office-equipment requests against expenditure standards.

One request line asks for an amount for one meeting, training, trip or equipment purchase
and gives the facts its standard needs.  Each line gets the most the published tables
allow (the cap), ``approved = min(requested, cap)``, the cut, a decision and a reason, and
the value lines, table versions and document numbers used.  The rules:

- meeting 会议 (财行〔2016〕214号): cap = composite quota of the category (元/人·天) x
  attendees x meeting days (会期, not counting arrival and departure).  A 二/三/四类
  meeting longer than the duration limit (briefing meetings 传达布置类: 1 day) or with more
  attendees than the head-count limit (table ``meeting-limits``) is rejected (不予安排).
- training 培训 (财行〔2016〕540号): cap = composite quota x trainees x chargeable days
  (arrival and departure at most 1 day each; days beyond 30 at 70 %: the table's rules)
  + lecturer fee per teaching hour of the lecturer's title x teaching hours (at most 4
  per half day when the half-days are given); a repeated lecture is flagged for manual
  review.
- travel 差旅 (财行〔2013〕531号; lodging table 财行〔2015〕497号 from 2016): cap =
  travellers x (sum over the nights of the lodging cap of city, staff level and the
  night's season + (meal allowance of the region + local transport) x days).
- equipment 办公设备家具 (财资〔2016〕27号): approved units = requested units within the
  quantity cap (relative to staff) less the units already held (a replacement frees the
  units it replaces); a replacement before the minimum service years is rejected unless
  the old units are damaged beyond repair; approved = approved units x min(unit price,
  price cap); the meeting-table cap is room area x the rate of its area band.

The steps, in the order a request line meets them:

- :mod:`~costperf.review.expenditure.requests`: kind routing and the facts of each line
- :mod:`~costperf.review.expenditure.lookup`: standard lines looked up and cited
- :mod:`~costperf.review.expenditure.meeting`, :mod:`~costperf.review.expenditure.training`,
  :mod:`~costperf.review.expenditure.travel`, :mod:`~costperf.review.expenditure.equipment`:
  the cap and its basis for each kind
- :mod:`~costperf.review.expenditure.decide`: approved, cut, decision and reason
- :mod:`~costperf.review.expenditure.review`: the entry point :func:`review_expenditure`
"""

from costperf.review.expenditure.decide import OUTPUT_COLUMNS
from costperf.review.expenditure.equipment import EQUIPMENT_SYNONYMS, equipment_items
from costperf.review.expenditure.requests import (
    ECON_KINDS,
    KINDS,
    KINDS_ZH,
    normalise_category,
    normalise_kinds,
    prepare_requests,
)
from costperf.review.expenditure.review import review_expenditure

__all__ = [
    "ECON_KINDS",
    "EQUIPMENT_SYNONYMS",
    "KINDS",
    "KINDS_ZH",
    "OUTPUT_COLUMNS",
    "equipment_items",
    "normalise_category",
    "normalise_kinds",
    "prepare_requests",
    "review_expenditure",
]
