"""Schema 1: the tables of release 0.1 (``records.py``), exactly as it wrote them.

Every statement is ``IF NOT EXISTS`` / insert-if-absent, so on a store written by 0.1
(which has these tables but no migration history) this revision changes nothing and only
records that the store is at schema 1.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPLICATION_ID = 0x43505246

DDL = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, case_name TEXT NOT NULL, created_at TEXT NOT NULL,
    costperf_version TEXT NOT NULL, config_hash TEXT, data_hash TEXT, summary TEXT
)""",
    """CREATE TABLE IF NOT EXISTS review_projects (
    run_id TEXT NOT NULL REFERENCES runs(run_id), project_id TEXT NOT NULL,
    project_name TEXT, district TEXT, requested REAL NOT NULL, output_quantity REAL,
    standard_value REAL, approvable REAL, approved REAL NOT NULL, cut REAL NOT NULL,
    cut_rate REAL, decision TEXT NOT NULL, rule TEXT NOT NULL, standard_id TEXT,
    standard_version TEXT, reason_zh TEXT, reason_en TEXT,
    PRIMARY KEY (run_id, project_id)
)""",
    """CREATE TABLE IF NOT EXISTS review_lines (
    run_id TEXT NOT NULL REFERENCES runs(run_id), project_id TEXT NOT NULL,
    line_no REAL, cost_element TEXT, item TEXT, requested REAL NOT NULL,
    approved REAL NOT NULL, cut REAL NOT NULL, cut_rate REAL, decision TEXT NOT NULL,
    rule TEXT NOT NULL, standard_id TEXT, standard_version TEXT, reason_zh TEXT,
    reason_en TEXT, source_file TEXT, source_row INTEGER
)""",
    """CREATE TABLE IF NOT EXISTS standards_used (
    run_id TEXT NOT NULL REFERENCES runs(run_id), standard_id TEXT NOT NULL,
    version TEXT NOT NULL, dims TEXT NOT NULL, value REAL NOT NULL, provenance TEXT
)""",
    """INSERT INTO meta (key, value) SELECT 'schema_version', '1'
    WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'schema_version')""",
)


def upgrade() -> None:
    for statement in DDL:
        op.execute(statement)
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def downgrade() -> None:
    msg = "record stores are never downgraded"
    raise NotImplementedError(msg)
