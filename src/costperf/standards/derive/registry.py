"""The derivation-rule registry: one :class:`DeriveRule` per kind of rule.

A rule is one definition, in one module: how its names parse, its parameters with their
defaults and closed lists, how it evaluates, which columns its data hash covers, and its
leave-one-out path. Adding a rule is one module that calls :func:`register` plus one
entry in :data:`BUILTIN_MODULES`; everything else (the case.toml keys, the CLI's rule
list, parameter checks, comparison, sensitivity, provenance) reads the registry.

Calling conventions (``units`` is the prepared peer table: one row per peer in a cell)::

    evaluate(units, dims, spec, params, digest) -> RuleResult
    hashed_columns(units, dims, spec, params) -> list[str]
    drop_grid(peers, dims, spec, params, grid_of) -> DataFrame
        # the dims, value, dropped (peer id), in_cell: every cell's value with each
        # peer dropped in turn; ``grid_of(name)`` gives another rule's grid (cached).
        # The fast path: it updates only what a drop changes.
    naive_drop_grid(...) -> DataFrame
        # the same grid by recomputing the rule per drop (the reference the fast path
        # is checked against; default: sensitivity.refit_drop_grid)
    is_local(spec, params) -> bool
        # whether a cell's value depends only on that cell's peers
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from costperf.standards.derive.result import RuleResult
    from costperf.standards.derive.rules import RuleSpec

#: the modules that register the built-in rules (a new rule module is one more entry)
BUILTIN_MODULES = (
    "costperf.standards.derive.quantile",
    "costperf.standards.derive.models",
    "costperf.standards.derive.dea",
    "costperf.standards.derive.triangulation",
)

#: parameters every rule uses: which columns hold the peers' values
COMMON_PARAMS: dict[str, object] = {
    "value": "unit_cost",
    "output": "output_quantity",
    "cost": "total_cost",
    "id": "project_id",
}


@dataclass(frozen=True)
class DeriveRule:
    """One kind of derivation rule.

    Attributes
    ----------
    kind
        Registry key (``quantile``, ``mean``, ``regression`` ...).
    names
        The names a config may use, for messages and help (``median``, ``quantile:<q>``).
    parse
        Text -> :class:`~costperf.standards.derive.rules.RuleSpec`, or None when the
        text is not one of this rule's names.
    evaluate, hashed_columns, drop_grid, naive_drop_grid, is_local
        See the module docstring.
    params
        The parameters the rule uses, with defaults, in the order they are recorded in
        the provenance.
    choices
        Closed lists of allowed values of some parameters.
    check
        Extra checks of the merged parameters: ``check(params, where) -> params``
        (normalised), raising :class:`~costperf.errors.InputError` naming the key.
    label_zh
        Chinese name of the rule.
    """

    kind: str
    names: tuple[str, ...]
    parse: Callable[[str], RuleSpec | None]
    evaluate: Callable[..., RuleResult]
    hashed_columns: Callable[..., list[str]]
    drop_grid: Callable[..., pd.DataFrame]
    is_local: Callable[[RuleSpec, Mapping[str, object]], bool]
    params: Mapping[str, object] = field(default_factory=dict)
    naive_drop_grid: Callable[..., pd.DataFrame] | None = None
    choices: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    check: Callable[[dict[str, object], str], dict[str, object]] | None = None
    label_zh: str = ""


_RULES: dict[str, DeriveRule] = {}


def register(rule: DeriveRule) -> DeriveRule:
    """Add ``rule`` to the registry (its parameter defaults must agree with the others')."""
    for key, default in rule.params.items():
        for other in _RULES.values():
            if key in other.params and other.kind != rule.kind:
                if other.params[key] != default:
                    msg = f"rule {rule.kind}: parameter {key} default differs from {other.kind}"
                    raise ValueError(msg)
    _RULES[rule.kind] = rule
    return rule


def derive_rules() -> dict[str, DeriveRule]:
    """Every registered rule, by kind (the built-in modules are imported on first use)."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    return _RULES


def get_rule(kind: str) -> DeriveRule:
    """The rule of ``kind`` (a parsed spec's kind)."""
    return derive_rules()[kind]


def rule_names() -> tuple[str, ...]:
    """Every name a config may use, in registry order."""
    return tuple(name for rule in derive_rules().values() for name in rule.names)


def default_params() -> dict[str, object]:
    """Every rule parameter with its default: the common ones, then each rule's."""
    out = dict(COMMON_PARAMS)
    for rule in derive_rules().values():
        for key, default in rule.params.items():
            out.setdefault(key, default)
    return out


def param_choices() -> dict[str, tuple[object, ...]]:
    """Closed lists of parameter values, merged over the rules."""
    out: dict[str, tuple[object, ...]] = {}
    for rule in derive_rules().values():
        out.update(rule.choices)
    return out
