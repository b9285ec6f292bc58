"""The review-record store (SQLite): every run's decisions, kept for next year's budgets.

Each run is written in one transaction: either all its rows are stored or none are, so
an interrupted or failed run never leaves a half-written record, and earlier runs are
never touched. Records name the standard and version behind every decision.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from pathlib import Path

import pandas as pd

from costperf.errors import InputError

SCHEMA_VERSION = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, case_name TEXT NOT NULL, created_at TEXT NOT NULL,
    costperf_version TEXT NOT NULL, config_hash TEXT, data_hash TEXT, summary TEXT
);
CREATE TABLE IF NOT EXISTS review_projects (
    run_id TEXT NOT NULL REFERENCES runs(run_id), project_id TEXT NOT NULL,
    project_name TEXT, district TEXT, requested REAL NOT NULL, output_quantity REAL,
    standard_value REAL, approvable REAL, approved REAL NOT NULL, cut REAL NOT NULL,
    cut_rate REAL, decision TEXT NOT NULL, rule TEXT NOT NULL, standard_id TEXT,
    standard_version TEXT, reason_zh TEXT, reason_en TEXT,
    PRIMARY KEY (run_id, project_id)
);
CREATE TABLE IF NOT EXISTS review_lines (
    run_id TEXT NOT NULL REFERENCES runs(run_id), project_id TEXT NOT NULL,
    line_no REAL, cost_element TEXT, item TEXT, requested REAL NOT NULL,
    approved REAL NOT NULL, cut REAL NOT NULL, cut_rate REAL, decision TEXT NOT NULL,
    rule TEXT NOT NULL, standard_id TEXT, standard_version TEXT, reason_zh TEXT,
    reason_en TEXT, source_file TEXT, source_row INTEGER
);
CREATE TABLE IF NOT EXISTS standards_used (
    run_id TEXT NOT NULL REFERENCES runs(run_id), standard_id TEXT NOT NULL,
    version TEXT NOT NULL, dims TEXT NOT NULL, value REAL NOT NULL, provenance TEXT
);
"""


def open_store(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) a record store; refuse a file that is not one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path)
        conn.executescript(_DDL)
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            with conn:
                conn.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
        elif int(row[0]) != SCHEMA_VERSION:
            msg = (
                f"{path}: record store schema version {row[0]}, this costperf "
                f"writes version {SCHEMA_VERSION}"
            )
            raise InputError(msg)
    except sqlite3.DatabaseError as exc:
        msg = f"{path}: not a costperf record store (SQLite said: {exc})"
        raise InputError(msg) from exc
    return conn


def write_run(
    path: str | Path,
    *,
    case_name: str,
    projects: pd.DataFrame,
    lines: pd.DataFrame,
    standards: pd.DataFrame,
    config_hash: str = "",
    data_hash: str = "",
    summary: dict | None = None,
    version: str = "",
) -> str:
    """Store one run's review records atomically; return its run id."""
    run_id = uuid.uuid4().hex[:16]
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    conn = open_store(path)
    try:
        with conn:  # one transaction: all or nothing
            conn.execute(
                "INSERT INTO runs VALUES (?,?,?,?,?,?,?)",
                (
                    run_id,
                    case_name,
                    created,
                    version,
                    config_hash,
                    data_hash,
                    json.dumps(summary or {}, ensure_ascii=False, default=str),
                ),
            )
            _insert(conn, "review_projects", projects.assign(run_id=run_id))
            _insert(conn, "review_lines", lines.assign(run_id=run_id))
            _insert(conn, "standards_used", standards.assign(run_id=run_id))
    finally:
        conn.close()
    return run_id


def _insert(conn: sqlite3.Connection, table: str, frame: pd.DataFrame) -> None:
    columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    data = frame.reindex(columns=columns).astype(object)
    data = data.where(data.notna(), None)
    marks = ",".join("?" * len(columns))
    conn.executemany(
        f"INSERT INTO {table} ({','.join(columns)}) VALUES ({marks})",
        data.itertuples(index=False, name=None),
    )


def read_records(
    path: str | Path, table: str = "review_projects", run_id: str | None = None
) -> pd.DataFrame:
    """Read stored records (all runs, or one)."""
    if table not in {"runs", "review_projects", "review_lines", "standards_used"}:
        msg = f"unknown record table '{table}'"
        raise InputError(msg)
    conn = open_store(path)
    try:
        query = f"SELECT * FROM {table}"
        params: tuple = ()
        if run_id is not None:
            query += " WHERE run_id = ?"
            params = (run_id,)
        return pd.read_sql_query(query, conn, params=params)
    finally:
        conn.close()
