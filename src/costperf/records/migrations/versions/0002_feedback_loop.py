"""Schema 2: years, batches and the feedback loop; history is append-only.

* ``runs`` gains what makes a review batch reproducible and findable (kind, year,
  inputs hash, standards ``id@version``, parameters and their hash, source files) and
  ``supersedes`` for corrections.
* ``review_projects`` gains department, class of matter, year, manual review and
  ``extra`` (the project's other columns as JSON); ``review_lines`` gains economic
  code, quantity, unit price, sheet and ``extra``, and its ``line_no`` becomes INTEGER.
  On SQLite the table is rebuilt with a plain ``INSERT ... SELECT`` (no CAST): INTEGER
  affinity stores 3.0 as 3 and keeps a fractional 2.5 as it was, so nothing is lost.
* New tables: proposals (plan, constraints, projects), monitoring observations,
  evaluation results, follow-up actions, recommendations.
* Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on every history
  table.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

T, R, I = sa.Text, sa.Float, sa.Integer  # noqa: E741 - column types, read as a table

HISTORY = (
    "runs",
    "review_projects",
    "review_lines",
    "standards_used",
    "proposals",
    "proposal_constraints",
    "proposal_projects",
    "monitoring_observations",
    "evaluation_results",
    "followup_actions",
    "recommendations",
)
REFUSED = "costperf records are append-only: record a correction that supersedes the row"


def _col(name: str, type_: type, **kw: object) -> sa.Column:
    return sa.Column(name, type_, **kw)


def _run_id(primary: bool = False) -> sa.Column:
    return sa.Column("run_id", T, sa.ForeignKey("runs.run_id"), nullable=False, primary_key=primary)


def _location() -> list[sa.Column]:
    return [_col("source_file", T), _col("sheet", T), _col("source_row", I)]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.add_column("runs", _col("kind", T, nullable=False, server_default="run"))
    for name, type_ in (
        ("year", I),
        ("inputs_hash", T),
        ("standards", T),
        ("params", T),
        ("params_hash", T),
        ("source", T),
        ("supersedes", T),
    ):
        op.add_column("runs", _col(name, type_))
    for name, type_ in (
        ("department", T),
        ("class_of_matter", T),
        ("year", I),
        ("manual_review", I),
        ("extra", T),
    ):
        op.add_column("review_projects", _col(name, type_))
    _review_lines(sqlite)
    _new_tables()
    op.create_index("runs_by_kind", "runs", ["kind", "inputs_hash"])
    op.create_index("review_projects_by_project", "review_projects", ["project_id", "year"])
    op.create_index("review_lines_by_run", "review_lines", ["run_id", "project_id"])
    op.create_index("standards_used_by_run", "standards_used", ["run_id"])
    for table in ("monitoring_observations", "evaluation_results", "recommendations"):
        op.create_index(f"{table}_by_project", table, ["project_id", "year"])
    op.create_index("followup_actions_by_project", "followup_actions", ["project_id", "year"])
    op.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    op.execute("INSERT INTO meta (key, value) VALUES ('application', 'costperf')")
    if sqlite:
        op.execute("PRAGMA user_version = 2")
    _triggers(sqlite)


def _review_lines(sqlite: bool) -> None:
    added = [("econ_code", T), ("quantity", R), ("unit_price", R), ("sheet", T), ("extra", T)]
    if not sqlite:
        op.alter_column(
            "review_lines", "line_no", type_=I, postgresql_using="round(line_no)::integer"
        )
        for name, type_ in added:
            op.add_column("review_lines", _col(name, type_))
        return
    old = (
        "run_id, project_id, line_no, cost_element, item, requested, approved, cut, "
        "cut_rate, decision, rule, standard_id, standard_version, reason_zh, reason_en, "
        "source_file, source_row"
    )
    op.execute(
        """CREATE TABLE review_lines_v2 (
        run_id TEXT NOT NULL REFERENCES runs(run_id), project_id TEXT NOT NULL,
        line_no INTEGER, cost_element TEXT, item TEXT, requested REAL NOT NULL,
        approved REAL NOT NULL, cut REAL NOT NULL, cut_rate REAL, decision TEXT NOT NULL,
        rule TEXT NOT NULL, standard_id TEXT, standard_version TEXT, reason_zh TEXT,
        reason_en TEXT, source_file TEXT, source_row INTEGER, econ_code TEXT,
        quantity REAL, unit_price REAL, sheet TEXT, extra TEXT)"""
    )
    # rowid order kept, so the lines read back in the order they were written
    op.execute(f"INSERT INTO review_lines_v2 ({old}) SELECT {old} FROM review_lines ORDER BY rowid")
    op.execute("DROP TABLE review_lines")
    op.execute("ALTER TABLE review_lines_v2 RENAME TO review_lines")


def _new_tables() -> None:
    op.create_table(
        "proposals",
        _run_id(primary=True),
        _col("resource", T, primary_key=True),
        *[_col(n, T) for n in ("label", "project_id", "grp", "unit")],
        _col("is_integer", I),
        _col("unit_cost", R, nullable=False),
        _col("current", R, nullable=False),
        _col("proposed", R),
        _col("change", R),
        _col("current_cost", R, nullable=False),
        _col("proposed_cost", R),
        _col("reduced_cost", R),
        *[_col(n, T) for n in ("unit_cost_source", "standard_id", "standard_version", "extra")],
    )
    op.create_table(
        "proposal_constraints",
        _run_id(primary=True),
        _col("constraint_id", T, primary_key=True),
        _col("label", T),
        _col("kind", T, nullable=False),
        _col("sense", T, nullable=False),
        _col("rhs", R, nullable=False),
        _col("unit", T),
        *[_col(n, R) for n in ("current_lhs", "proposed_lhs", "slack")],
        _col("binding", I),
        _col("shadow_price", R),
        _col("shadow_price_basis", T),
        _col("relaxation", R),
        _col("project_id", T),
        _col("extra", T),
    )
    op.create_table(
        "proposal_projects",
        _run_id(primary=True),
        _col("project_id", T, primary_key=True),
        _col("grp", T),
        _col("current_cost", R, nullable=False),
        *[_col(n, R) for n in ("proposed_cost", "savings", "savings_rate")],
        _col("extra", T),
    )
    op.create_table(
        "monitoring_observations",
        _col("observation_id", I, primary_key=True, autoincrement=True),
        _run_id(),
        _col("project_id", T, nullable=False),
        _col("year", I, nullable=False),
        _col("checkpoint", T, nullable=False),
        _col("indicator", T, nullable=False),
        *[_col(n, R) for n in ("budget", "executed", "target", "actual")],
        _col("note", T),
        *_location(),
        _col("supersedes", I),
    )
    op.create_table(
        "evaluation_results",
        _col("evaluation_id", I, primary_key=True, autoincrement=True),
        _run_id(),
        _col("project_id", T, nullable=False),
        _col("year", I, nullable=False),
        _col("kind", T, nullable=False),
        _col("score", R, nullable=False),
        _col("grade", T, nullable=False),
        _col("target_attainment", R),
        _col("grade_rule", T),
        _col("note", T),
        *_location(),
        _col("supersedes", I),
    )
    op.create_table(
        "followup_actions",
        _col("action_id", I, primary_key=True, autoincrement=True),
        _run_id(),
        _col("project_id", T, nullable=False),
        _col("year", I),
        _col("source_table", T, nullable=False),
        _col("source_id", I),
        _col("checkpoint", T),
        _col("indicator", T),
        _col("flag", T, nullable=False),
        *[_col(n, R) for n in ("planned_rate", "actual_rate", "gap", "threshold")],
        _col("proposed_action", T),
        _col("amount", R),
        _col("rule", T, nullable=False),
        *[_col(n, T) for n in ("reason_zh", "reason_en", "details")],
        _col("supersedes", I),
    )
    op.create_table(
        "recommendations",
        _col("recommendation_id", I, primary_key=True, autoincrement=True),
        _run_id(),
        _col("project_id", T, nullable=False),
        _col("department", T),
        _col("year", I, nullable=False),
        _col("base_year", I),
        _col("base", R),
        _col("recommendation", T, nullable=False),
        *[_col(n, R) for n in ("cut_rate", "next_year_amount", "effect")],
        _col("grade", T),
        _col("score", R),
        _col("evaluation_id", I),
        _col("execution_rate", R),
        _col("flags", T),
        _col("rule", T, nullable=False),
        *[_col(n, T) for n in ("reasons_zh", "reasons_en")],
        _col("supersedes", I),
    )


def _triggers(sqlite: bool) -> None:
    if sqlite:
        for table in HISTORY:
            for event in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSED} ({event} on {table})'); END"
                )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION costperf_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '% (% on %)', "
        f"'{REFUSED}', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$"
    )
    for table in HISTORY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION costperf_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION costperf_append_only()"
        )


def downgrade() -> None:
    msg = "record stores are never downgraded"
    raise NotImplementedError(msg)
