"""The review-rule registry: one :class:`ReviewRule` per rule a request can meet.

A rule is one definition in one module: what it applies to, the standard tables it
reads, and a function over the whole table of the lines (or projects) routed to it. A
new rule (a price cap, a quantity norm, a composite quota, a unit-cost standard, a
target check) is one module that calls :func:`register` and one entry in
:data:`BUILTIN_MODULES`; the reviews loop over the registry, never over a list of
branches.  The batch review (:mod:`costperf.review.batch`) runs the levels in the order
of :data:`LEVELS`: route, line, project, check.

Calling conventions
-------------------
``level == "route"`` (which rule reviews each line)::

    route(lines, projects, context) -> (rule_per_line, problems)

``level == "line"`` (expenditure rules: meeting, training, travel, equipment)::

    review(requests, lines, standards, tables) -> (result, problems)

``requests`` is the validated request table, ``lines`` the prepared working facts of
the lines routed to the rule (index aligned with ``requests``), ``standards`` the
:class:`~costperf.standards.StandardSet` and ``tables`` the table id of each role.
``result`` holds, per line, ``approvable`` [yuan] and the rule's provenance
(``rule``, ``standard_id``, ``standard_version``, ``document_no``, ``standard_lines``,
``verified``, ``basis_zh``, ``basis_en``; optionally the quantities and prices it
compared, ``manual_review`` with its reasons, and ``uncovered``: the tables do not
cover the line's facts, e.g. a city outside the lodging table); ``problems`` is a
problems table (never raised by the rule).

``level == "project"`` (caps and gates: the unit-cost standard, the target gate)::

    review(projects, lines, targets, context) -> verdicts

``lines`` carry each line's ``approved`` after the line rules.  ``verdicts`` has one
row per project it applies to, indexed by ``project_id``: ``cap`` [yuan] (NaN: none,
applied to the approved sum of the lines: lines first, then the cap), ``reject``
(不予安排), ``covered`` (a standard covers the whole project), ``manual_review`` with
``manual_review_reason_zh/en``, and ``rule``, ``standard_id``, ``standard_version``,
``basis_zh``, ``basis_en``; optionally ``target_check``.

``level == "check"`` (flags that change no amount: duplicates, no applicable standard)::

    check(lines, verdicts, context) -> flags

``flags`` is aligned with ``lines``: ``manual_review``, ``manual_review_reason_zh/en``.
``context`` is a :class:`costperf.review.batch.BatchContext` (standards, tables, date,
whether the book has a targets sheet, the routing table).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

#: the modules that register the built-in rules (a new rule module is one more entry)
BUILTIN_MODULES = (
    "costperf.review.expenditure.meeting",
    "costperf.review.expenditure.training",
    "costperf.review.expenditure.travel",
    "costperf.review.expenditure.equipment",
    "costperf.review.unit_cost",
    "costperf.review.batch.routing",
    "costperf.review.batch.gates",
    "costperf.review.batch.checks",
)

LEVELS = ("route", "line", "project", "check")

#: the columns every line rule's ``result`` holds (a rule with no line left to review
#: returns an empty frame of these)
LINE_RESULT_COLUMNS = (
    "approvable",
    "limit_reject",
    "rule",
    "standard_id",
    "standard_version",
    "document_no",
    "standard_lines",
    "verified",
    "basis_zh",
    "basis_en",
)


@dataclass(frozen=True)
class ReviewRule:
    """One review rule.

    Attributes
    ----------
    name
        Registry key, also the expense kind a line rule reviews (``meeting`` ...).
    level
        One of :data:`LEVELS`.
    review
        The function (see the module docstring for its signature by level).
    tables
        Standard tables it reads: role -> default table id (``meeting`` ->
        ``meeting-fee``); a caller may name another table for a role.
    label_zh, label_en
        The rule's name for users.
    document
        The document the rule implements (e.g. 财行〔2016〕214号).
    open_dims
        Dimensions whose values a table may simply not cover (a city outside the
        lodging table): such a line is flagged for manual review, not bad input.
    codes
        A line rule's codes of what it found, as it writes them in a line's ``rule``
        (``travel_lodging``, ``meeting_days_limit``): each is read back as this rule
        (:func:`rule_of_code`, the summary by rule); none: the rule writes its name.
    """

    name: str
    level: str
    review: Callable[..., object]
    tables: Mapping[str, str] = field(default_factory=dict)
    label_zh: str = ""
    label_en: str = ""
    document: str = ""
    open_dims: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()


_RULES: dict[str, ReviewRule] = {}


def register(rule: ReviewRule) -> ReviewRule:
    """Add ``rule`` to the registry."""
    if rule.level not in LEVELS:
        msg = f"review rule {rule.name}: level must be one of {LEVELS}, got {rule.level!r}"
        raise ValueError(msg)
    _RULES[rule.name] = rule
    return rule


def review_rules(level: str | None = None) -> dict[str, ReviewRule]:
    """The registered rules (of one level), in registration order."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    return {n: r for n, r in _RULES.items() if level is None or r.level == level}


def rule_of_code(code: str) -> str:
    """The registered rule that writes ``code`` in a line's ``rule`` (the code itself
    when no rule declares it: a rule's own name, ``unit_cost``, ``no_standard``)."""
    for rule in review_rules().values():
        if code in rule.codes:
            return rule.name
    return code


def default_tables() -> dict[str, str]:
    """Every table role the rules read, with its default table id."""
    out: dict[str, str] = {}
    for rule in review_rules().values():
        out.update(rule.tables)
    return out
