"""Derive unit-cost standards from peer data, with provenance for every value.

A derived value records which peer rows it used and which it excluded (and why), the
method and its parameters, and a hash of the data, so an auditor can recompute it.


The steps, as a case runs them (:func:`derive_for_case`):

- :mod:`~costperf.standards.derive.rules`: rule names and parameters
- :mod:`~costperf.standards.derive.evaluate`: run one rule
  (:mod:`~costperf.standards.derive.quantile`, :mod:`~costperf.standards.derive.models`,
  :mod:`~costperf.standards.derive.dea`, :mod:`~costperf.standards.derive.triangulation`,
  each returning a :mod:`~costperf.standards.derive.result`)
- :mod:`~costperf.standards.derive.compare`: rules side by side, with savings
- :mod:`~costperf.standards.derive.sensitivity`: leave one peer out
- :mod:`~costperf.standards.derive.provenance`: the peer rows behind each value
- :mod:`~costperf.standards.derive.table`: the standard as a draft table version
- :mod:`~costperf.standards.derive.case`: settings from case.toml and the entry point
- :mod:`~costperf.standards.derive.statistic`: the peer table and the one-step
  peer-statistic standard
"""

from costperf.standards.derive.case import (
    DEFAULT_COMPARE,
    Derivation,
    derivation_settings,
    derive_for_case,
)
from costperf.standards.derive.compare import COMPARISON_COLUMNS, compare_rules, rule_savings
from costperf.standards.derive.dea import dea_rule
from costperf.standards.derive.evaluate import evaluate_rule, rule_values
from costperf.standards.derive.models import case_formula, regression_drop_grid, regression_rule
from costperf.standards.derive.provenance import rule_provenance
from costperf.standards.derive.quantile import peer_statistic_rule
from costperf.standards.derive.result import (
    PEER_COLUMNS,
    VALUE_COLUMNS,
    RuleResult,
    cell_keys,
    data_hash,
    in_cell,
)
from costperf.standards.derive.rules import (
    CHOICES,
    DEFAULT_PARAMS,
    LOCAL_KINDS,
    MODEL_RULES,
    QUANTILE_RULES,
    RULE_NAMES,
    USED_PARAMS,
    RuleSpec,
    check_params,
    parse_rule,
    rule_parameters,
)
from costperf.standards.derive.sensitivity import (
    SENSITIVITY_COLUMNS,
    leave_one_out,
    leave_one_out_values,
)
from costperf.standards.derive.statistic import (
    RULE_QUANTILES,
    STANDARD_COLUMNS,
    derive_unit_cost_standard,
    peer_table,
)
from costperf.standards.derive.table import (
    ISSUER,
    DerivedTable,
    build_standard_table,
    round_half_up,
    standard_frame,
    table_id_of,
    write_derived_table,
)
from costperf.standards.derive.triangulation import combine_members, triangulation_rule

__all__ = [
    "CHOICES",
    "COMPARISON_COLUMNS",
    "DEFAULT_COMPARE",
    "DEFAULT_PARAMS",
    "Derivation",
    "DerivedTable",
    "ISSUER",
    "LOCAL_KINDS",
    "MODEL_RULES",
    "PEER_COLUMNS",
    "QUANTILE_RULES",
    "RULE_NAMES",
    "RULE_QUANTILES",
    "RuleResult",
    "RuleSpec",
    "SENSITIVITY_COLUMNS",
    "STANDARD_COLUMNS",
    "USED_PARAMS",
    "VALUE_COLUMNS",
    "build_standard_table",
    "case_formula",
    "cell_keys",
    "check_params",
    "combine_members",
    "compare_rules",
    "data_hash",
    "dea_rule",
    "derivation_settings",
    "derive_for_case",
    "derive_unit_cost_standard",
    "evaluate_rule",
    "in_cell",
    "leave_one_out",
    "leave_one_out_values",
    "parse_rule",
    "peer_statistic_rule",
    "peer_table",
    "regression_drop_grid",
    "regression_rule",
    "round_half_up",
    "rule_parameters",
    "rule_provenance",
    "rule_savings",
    "rule_values",
    "standard_frame",
    "table_id_of",
    "triangulation_rule",
    "write_derived_table",
]
