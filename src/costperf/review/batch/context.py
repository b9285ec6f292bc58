"""What every rule of a batch review may read besides the tables: :class:`BatchContext`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from costperf.standards import StandardSet


@dataclass(frozen=True)
class BatchContext:
    """The standards, table choices and date a batch is reviewed with.

    Attributes
    ----------
    standards
        The standard tables (shipped, plus any ``--standards`` folder).
    tables
        Table id per role (``meeting`` -> ``meeting-fee``), the rules' defaults
        overridden by the caller.
    on
        Date for lines without one and for project caps (the table versions in force).
    has_targets
        Whether the book has a targets sheet (the single-sheet request format has none:
        the target gate does not apply to it).
    routing
        The routing table (``standards/review-routing.csv``): econ_code -> expense_kind.
    """

    standards: StandardSet
    tables: Mapping[str, str]
    on: pd.Timestamp
    has_targets: bool = True
    routing: pd.DataFrame = field(default_factory=pd.DataFrame)
