"""Derive unit-cost standards from peer data, with provenance for every value.

A derived value records which peer rows it used and which it excluded (and why), the
method and its parameters, and a hash of the data, so an auditor can recompute it.


Rules are a registry (:mod:`~costperf.standards.derive.registry`): a new rule is one
module that registers a :class:`DeriveRule` and one entry in ``BUILTIN_MODULES``.

The steps, as a case runs them (:func:`derive_standard`):

- :mod:`~costperf.standards.derive.rules`: parsing rule names, checking parameters
- :mod:`~costperf.standards.derive.evaluate`: run one rule
  (:mod:`~costperf.standards.derive.quantile`, :mod:`~costperf.standards.derive.models`,
  :mod:`~costperf.standards.derive.dea`, :mod:`~costperf.standards.derive.triangulation`,
  each returning a :mod:`~costperf.standards.derive.result`)
- :mod:`~costperf.standards.derive.compare`: rules side by side, with savings
- :mod:`~costperf.standards.derive.sensitivity`: leave one peer out
- :mod:`~costperf.standards.derive.provenance`: the peer rows behind each value
- :mod:`~costperf.standards.derive.table`: the standard as a draft table version
- :mod:`~costperf.standards.derive.derivation`: the entry point and CLI overrides
- :mod:`~costperf.standards.derive.statistic`: the peer table and the one-step
  peer-statistic standard
"""

from costperf.standards.derive.compare import (
    COMPARISON_COLUMNS,
    compare_rules,
    comparison_of,
    rule_savings,
)
from costperf.standards.derive.derivation import (
    DEFAULT_COMPARE,
    Derivation,
    derive_standard,
    override_params,
)
from costperf.standards.derive.evaluate import evaluate_rule, evaluate_spec, rule_values
from costperf.standards.derive.provenance import provenance_of, rule_provenance
from costperf.standards.derive.registry import (
    DeriveRule,
    default_params,
    derive_rules,
    get_rule,
    register,
    rule_names,
)
from costperf.standards.derive.result import (
    PEER_COLUMNS,
    VALUE_COLUMNS,
    RuleResult,
    cell_keys,
    data_hash,
    in_cell,
)
from costperf.standards.derive.rules import (
    RuleSpec,
    check_params,
    is_peer_statistic,
    parse_rule,
    rule_parameters,
)
from costperf.standards.derive.sensitivity import (
    SENSITIVITY_COLUMNS,
    leave_one_out,
    leave_one_out_values,
)
from costperf.standards.derive.statistic import (
    STANDARD_COLUMNS,
    derive_unit_cost_standard,
    peer_table,
)
from costperf.standards.derive.table import (
    ISSUER,
    DerivedTable,
    as_published,
    build_standard_table,
    round_half_up,
    round_half_up_values,
    standard_frame,
    table_id_of,
    write_derived_table,
)

__all__ = [
    "COMPARISON_COLUMNS",
    "DEFAULT_COMPARE",
    "Derivation",
    "DeriveRule",
    "DerivedTable",
    "ISSUER",
    "PEER_COLUMNS",
    "RuleResult",
    "RuleSpec",
    "SENSITIVITY_COLUMNS",
    "STANDARD_COLUMNS",
    "VALUE_COLUMNS",
    "as_published",
    "build_standard_table",
    "cell_keys",
    "check_params",
    "compare_rules",
    "comparison_of",
    "data_hash",
    "default_params",
    "derive_rules",
    "derive_standard",
    "derive_unit_cost_standard",
    "evaluate_rule",
    "evaluate_spec",
    "get_rule",
    "in_cell",
    "is_peer_statistic",
    "leave_one_out",
    "leave_one_out_values",
    "override_params",
    "parse_rule",
    "peer_table",
    "provenance_of",
    "register",
    "round_half_up",
    "round_half_up_values",
    "rule_names",
    "rule_parameters",
    "rule_provenance",
    "rule_savings",
    "rule_values",
    "standard_frame",
    "table_id_of",
    "write_derived_table",
]
