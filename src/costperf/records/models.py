"""The record store's tables at the current schema (SQLAlchemy Core).

Schema 1 (release 0.1) had ``meta``, ``runs``, ``review_projects``, ``review_lines`` and
``standards_used``; schema 2 keeps them (with more columns) and adds the tables of the
feedback loop; schema 3 adds ``recommendations.base_record``.  The migrations in ``migrations/versions`` build exactly these tables;
``tests/test_records_store.py`` checks that the two agree.

Every table but ``meta`` is *history*: rows are only ever inserted (triggers refuse an
UPDATE or DELETE).  A correction is a new row whose ``supersedes`` names the row it
replaces; :func:`costperf.records.read.read_records` with ``current=True`` hides
superseded rows.

What each table holds:

========================== ==========================================================
``runs``                   one row per write: a case run or review batch (kind
                           ``run``/``review``), an optimiser run (``proposals``), an
                           import (``monitoring``/``evaluation``), a feedback or a
                           re-derivation; with its inputs hash, standards used
                           (``id@version`` list), parameters and their hash
``review_projects``        project decisions of a run or batch
``review_lines``           line decisions
``standards_used``         the standard values (id, version, cell) a run applied or
                           derived, with provenance (JSON)
``proposals``              the optimiser's resource plan, one row per resource
``proposal_constraints``   its constraints with shadow prices
``proposal_projects``      its per-project totals
``monitoring_observations`` 双监控 rows: project, checkpoint, indicator, budget,
                           executed, target, actual
``evaluation_results``     evaluations: project, year, score, kind, grade
``followup_actions``       flags and the actions they propose (monitoring flags,
                           self/key evaluation disagreements), with their numbers
``recommendations``        next year's recommendation per project, with its effect
========================== ==========================================================
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 3
HEAD_REVISION = "0003"
VERSION_TABLE = "costperf_migrations"
APPLICATION_ID = 0x43505246  # "CPRF" in the SQLite header: this file is a costperf store

metadata = sa.MetaData()
Text, Real, Int = sa.Text, sa.Float, sa.Integer


def _location() -> list[sa.Column]:
    return [sa.Column("source_file", Text), sa.Column("sheet", Text), sa.Column("source_row", Int)]


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", Text, primary_key=True),
    sa.Column("value", Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", Text, primary_key=True),
    sa.Column("case_name", Text, nullable=False),
    sa.Column("created_at", Text, nullable=False),
    sa.Column("costperf_version", Text, nullable=False),
    sa.Column("config_hash", Text),
    sa.Column("data_hash", Text),
    sa.Column("summary", Text),
    sa.Column("kind", Text, nullable=False, server_default="run"),
    sa.Column("year", Int),
    sa.Column("inputs_hash", Text),
    sa.Column("standards", Text),  # JSON list of "id@version"
    sa.Column("params", Text),  # JSON object
    sa.Column("params_hash", Text),
    sa.Column("source", Text),  # JSON list of input files
    sa.Column("supersedes", Text),  # run_id this run corrects
)

review_projects = sa.Table(
    "review_projects",
    metadata,
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("project_id", Text, primary_key=True),
    sa.Column("project_name", Text),
    sa.Column("district", Text),
    sa.Column("requested", Real, nullable=False),
    sa.Column("output_quantity", Real),
    sa.Column("standard_value", Real),
    sa.Column("approvable", Real),
    sa.Column("approved", Real, nullable=False),
    sa.Column("cut", Real, nullable=False),
    sa.Column("cut_rate", Real),
    sa.Column("decision", Text, nullable=False),
    sa.Column("rule", Text, nullable=False),
    sa.Column("standard_id", Text),
    sa.Column("standard_version", Text),
    sa.Column("reason_zh", Text),
    sa.Column("reason_en", Text),
    sa.Column("department", Text),
    sa.Column("class_of_matter", Text),
    sa.Column("year", Int),
    sa.Column("manual_review", Int),
    sa.Column("extra", Text),  # JSON: the project's other columns (dimensions, drivers)
)

review_lines = sa.Table(
    "review_lines",
    metadata,
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("project_id", Text, nullable=False),
    sa.Column("line_no", Int),
    sa.Column("cost_element", Text),
    sa.Column("item", Text),
    sa.Column("requested", Real, nullable=False),
    sa.Column("approved", Real, nullable=False),
    sa.Column("cut", Real, nullable=False),
    sa.Column("cut_rate", Real),
    sa.Column("decision", Text, nullable=False),
    sa.Column("rule", Text, nullable=False),
    sa.Column("standard_id", Text),
    sa.Column("standard_version", Text),
    sa.Column("reason_zh", Text),
    sa.Column("reason_en", Text),
    sa.Column("source_file", Text),
    sa.Column("source_row", Int),
    sa.Column("econ_code", Text),
    sa.Column("quantity", Real),
    sa.Column("unit_price", Real),
    sa.Column("sheet", Text),
    sa.Column("extra", Text),
)

standards_used = sa.Table(
    "standards_used",
    metadata,
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("standard_id", Text, nullable=False),
    sa.Column("version", Text, nullable=False),
    sa.Column("dims", Text, nullable=False),
    sa.Column("value", Real, nullable=False),
    sa.Column("provenance", Text),
)

proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("resource", Text, primary_key=True),
    sa.Column("label", Text),
    sa.Column("project_id", Text),
    sa.Column("grp", Text),
    sa.Column("unit", Text),
    sa.Column("is_integer", Int),
    sa.Column("unit_cost", Real, nullable=False),
    sa.Column("current", Real, nullable=False),
    sa.Column("proposed", Real),
    sa.Column("change", Real),
    sa.Column("current_cost", Real, nullable=False),
    sa.Column("proposed_cost", Real),
    sa.Column("reduced_cost", Real),
    sa.Column("unit_cost_source", Text),
    sa.Column("standard_id", Text),
    sa.Column("standard_version", Text),
    sa.Column("extra", Text),
)

proposal_constraints = sa.Table(
    "proposal_constraints",
    metadata,
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("constraint_id", Text, primary_key=True),
    sa.Column("label", Text),
    sa.Column("kind", Text, nullable=False),
    sa.Column("sense", Text, nullable=False),
    sa.Column("rhs", Real, nullable=False),
    sa.Column("unit", Text),
    sa.Column("current_lhs", Real),
    sa.Column("proposed_lhs", Real),
    sa.Column("slack", Real),
    sa.Column("binding", Int),
    sa.Column("shadow_price", Real),
    sa.Column("shadow_price_basis", Text),
    sa.Column("relaxation", Real),
    sa.Column("project_id", Text),
    sa.Column("extra", Text),
)

proposal_projects = sa.Table(
    "proposal_projects",
    metadata,
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("project_id", Text, primary_key=True),
    sa.Column("grp", Text),
    sa.Column("current_cost", Real, nullable=False),
    sa.Column("proposed_cost", Real),
    sa.Column("savings", Real),
    sa.Column("savings_rate", Real),
    sa.Column("extra", Text),
)

monitoring_observations = sa.Table(
    "monitoring_observations",
    metadata,
    sa.Column("observation_id", Int, primary_key=True, autoincrement=True),
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("project_id", Text, nullable=False),
    sa.Column("year", Int, nullable=False),
    sa.Column("checkpoint", Text, nullable=False),  # ISO date
    sa.Column("indicator", Text, nullable=False),
    sa.Column("budget", Real),
    sa.Column("executed", Real),
    sa.Column("target", Real),
    sa.Column("actual", Real),
    sa.Column("note", Text),
    *_location(),
    sa.Column("supersedes", Int),
)

evaluation_results = sa.Table(
    "evaluation_results",
    metadata,
    sa.Column("evaluation_id", Int, primary_key=True, autoincrement=True),
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("project_id", Text, nullable=False),
    sa.Column("year", Int, nullable=False),
    sa.Column("kind", Text, nullable=False),  # self / key / third_party
    sa.Column("score", Real, nullable=False),
    sa.Column("grade", Text, nullable=False),
    sa.Column("target_attainment", Real),
    sa.Column("grade_rule", Text),
    sa.Column("note", Text),
    *_location(),
    sa.Column("supersedes", Int),
)

followup_actions = sa.Table(
    "followup_actions",
    metadata,
    sa.Column("action_id", Int, primary_key=True, autoincrement=True),
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("project_id", Text, nullable=False),
    sa.Column("year", Int),
    sa.Column("source_table", Text, nullable=False),
    sa.Column("source_id", Int),
    sa.Column("checkpoint", Text),
    sa.Column("indicator", Text),
    sa.Column("flag", Text, nullable=False),
    sa.Column("planned_rate", Real),
    sa.Column("actual_rate", Real),
    sa.Column("gap", Real),
    sa.Column("threshold", Real),
    sa.Column("proposed_action", Text),
    sa.Column("amount", Real),
    sa.Column("rule", Text, nullable=False),
    sa.Column("reason_zh", Text),
    sa.Column("reason_en", Text),
    sa.Column("details", Text),  # JSON: the other numbers of the flag
    sa.Column("supersedes", Int),
)

recommendations = sa.Table(
    "recommendations",
    metadata,
    sa.Column("recommendation_id", Int, primary_key=True, autoincrement=True),
    sa.Column("run_id", Text, sa.ForeignKey("runs.run_id"), nullable=False),
    sa.Column("project_id", Text, nullable=False),
    sa.Column("department", Text),
    sa.Column("year", Int, nullable=False),  # the budget year recommended for
    sa.Column("base_year", Int),
    sa.Column("base", Real),
    sa.Column("recommendation", Text, nullable=False),
    sa.Column("cut_rate", Real),
    sa.Column("next_year_amount", Real),
    sa.Column("effect", Real),
    sa.Column("grade", Text),
    sa.Column("score", Real),
    sa.Column("evaluation_id", Int),
    sa.Column("execution_rate", Real),
    sa.Column("flags", Text),
    sa.Column("rule", Text, nullable=False),
    sa.Column("reasons_zh", Text),
    sa.Column("reasons_en", Text),
    sa.Column("supersedes", Int),
    sa.Column("base_record", Text),  # record_id (run_id:project_id) the base was read from
)

HISTORY_TABLES = tuple(t for t in metadata.tables if t != "meta")
"""Tables that are only ever appended to (triggers refuse UPDATE and DELETE)."""

ROW_ID = {
    "monitoring_observations": "observation_id",
    "evaluation_results": "evaluation_id",
    "followup_actions": "action_id",
    "recommendations": "recommendation_id",
}
"""Tables whose rows have their own id (``supersedes`` points at it)."""
