"""Plain, frozen parameters of the pipeline stages.

:func:`costperf.case.load_case` turns ``case.toml`` into these objects once, checking
every key and range; the stage functions take DataFrames and these parameters, never
the case itself. The CLI commands that run one stage on a data file build the same
objects from their options. Nothing here imports pandas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class UnitsParams:
    """How a project's unit cost is formed (``[units]``, ``[variables]``, ``[drivers]``).

    Attributes
    ----------
    output_indicator
        Indicator whose value is the output (or the composite's formula text).
    output_weights
        A composite output: indicator -> weight (> 0); None for one indicator.
    output_unit
        Unit of the output, e.g. ``m2``.
    dimensions
        Project columns that split the peers into cells (one standard per cell).
    variables
        Name -> output indicator, used as a per-project variable.
    drivers
        Name -> expression over project columns, cost elements and variables.
    amount_rel_tol, amount_abs_tol
        Allowed difference between amount and quantity x unit price: relative, and
        absolute [yuan]; the larger applies.
    """

    output_indicator: str
    output_unit: str = ""
    output_weights: Mapping[str, float] | None = None
    dimensions: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    drivers: Mapping[str, str] = field(default_factory=dict)
    amount_rel_tol: float = 0.005
    amount_abs_tol: float = 1.0


@dataclass(frozen=True)
class GapParams:
    """The gap decomposition (``[decomposition]``).

    Attributes
    ----------
    drivers
        Drivers whose product is the unit cost x ``scale``.
    scale
        Constant: product of drivers = unit cost x scale.
    method
        ``lmdi_additive``, ``lmdi_multiplicative`` or ``shapley``.
    statistic
        Peer statistic of the reference (median, mean, geomean, p25, p75).
    district
        A named district whose median contracts are the reference, or None (peers).
    """

    drivers: tuple[str, ...] = ()
    scale: float = 1.0
    method: str = "lmdi_multiplicative"
    statistic: str = "median"
    district: str | None = None

    @property
    def reference_text(self) -> str:
        """How the reference is named in the results (``peer median``, ``X median``)."""
        return f"peer {self.statistic}" if self.district is None else f"{self.district} median"


@dataclass(frozen=True)
class RegressionParams:
    """The cost-driver regression (``[benchmark] formula, se, quantile``)."""

    formula: str | None = None
    se: str = "HC1"
    quantile: float | None = None


@dataclass(frozen=True)
class FrontierParams:
    """The DEA frontier (``[benchmark] frontier_*``)."""

    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    rts: str = "vrs"
    orientation: str = "in"


@dataclass(frozen=True)
class DeriveParams:
    """How the unit-cost standard is derived (``[standard]``).

    Attributes
    ----------
    rule
        The chosen rule (a name of :func:`costperf.standards.derive.registry.rule_names`).
    params
        Every rule parameter, checked, defaults filled in.
    compare
        Rules compared beside the chosen one (it is always compared, first).
    band
        Two peer statistics giving the reasonable range (合理区间).
    """

    standard_id: str = "UC"
    name: str = "单位成本标准"
    rule: str = "median"
    params: Mapping[str, object] = field(default_factory=dict)
    compare: tuple[str, ...] = ()
    band: tuple[str, str] = ("p25", "p75")
    effective_from: dt.date = dt.date(2026, 1, 1)
    version: str = "1"
    table_version: int = 1

    @property
    def rules(self) -> tuple[str, ...]:
        """The chosen rule, then the compared ones (each once)."""
        return tuple(dict.fromkeys([self.rule, *self.compare]))


@dataclass(frozen=True)
class ReviewParams:
    """How requests are reviewed against the unit-cost standard (``[review]``).

    Attributes
    ----------
    tolerance
        Share above the standard accepted without a cut, in [0, 1).
    review_date
        Date the review applies standards in force on (None: the run's date).
    adjust_by
        A variable scaling the standard: (request's value / its cell's peer median)
        ** ``adjust_elasticity``; None: no adjustment.
    """

    tolerance: float = 0.0
    review_date: dt.date | None = None
    adjust_by: str | None = None
    adjust_elasticity: float = 1.0


@dataclass(frozen=True)
class OptimizeParams:
    """The savings optimiser (``[optimize]``).

    Attributes
    ----------
    resources, constraints, coefficients
        The model's three tables (paths resolved against the case folder).
    solver
        ``highs`` (default) or ``cbc`` (pulp + CBC).
    max_group_cut
        Portfolio equity: no group's cost falls by more than this share, in [0, 1];
        None: no equity rows.
    project_floor
        Every project keeps at least this share of its current cost, in [0, 1]; None:
        no floor.
    date
        Date whose standards are in force for unit costs named by ``standard_id``
        (None: the ``[review] date``, else the run's date).
    standards
        A folder of standard tables the resources may name (None: the shipped tables).
    time_limit
        Seconds each solve may take (None: no limit).
    """

    resources: Path
    constraints: Path
    coefficients: Path
    solver: str = "highs"
    max_group_cut: float | None = None
    project_floor: float | None = None
    date: dt.date | None = None
    standards: Path | None = None
    time_limit: float | None = None

    @property
    def paths(self) -> dict[str, Path]:
        """The three tables by name."""
        return {
            "resources": self.resources,
            "constraints": self.constraints,
            "coefficients": self.coefficients,
        }
