"""The feedback loop (花钱必问效): monitoring flags, evaluation grades, next year's
recommendations and standards re-derived from experience.

Pure functions on frames with the rules as data (``policies/*.toml``, read by
:mod:`~costperf.feedback.policies`); the records store and files are at the edges
(:mod:`costperf.records`, :mod:`costperf.commands.records`).

- :mod:`~costperf.feedback.inputs`: schemas and checks of monitoring and evaluation files
- :mod:`~costperf.feedback.monitoring`: :func:`monitoring_flags` (双监控)
- :mod:`~costperf.feedback.evaluation`: grades, the standing evaluation, disagreements
- :mod:`~costperf.feedback.recommend`: :func:`recommend` (高效优先、低效压减、无效退出)
- :mod:`~costperf.feedback.rederive`: :func:`actual_units` for 动态调整
- :mod:`~costperf.feedback.history`: the year-over-year view
"""

from costperf.feedback.evaluation import disagreements, grade_scores, graded, standing
from costperf.feedback.monitoring import FLAG_COLUMNS, monitoring_flags, planned_rate
from costperf.feedback.recommend import RECOMMENDATION_COLUMNS, recommend, year_end_execution
from costperf.feedback.rederive import actual_units

__all__ = [
    "FLAG_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "actual_units",
    "disagreements",
    "grade_scores",
    "graded",
    "monitoring_flags",
    "planned_rate",
    "recommend",
    "standing",
    "year_end_execution",
]
