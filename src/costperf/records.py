"""The review-record store (SQLite): every run's decisions, kept for next year's budgets.

Each run is written in one transaction: either all its rows are stored or none are, so
an interrupted or failed run never leaves a half-written record, and earlier runs are
never touched. Records name the standard and version behind every decision.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import uuid
from pathlib import Path

import pandas as pd

from costperf.errors import InputError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x43505246  # "CPRF" in the SQLite header: this file is a costperf store
_TABLES = frozenset({"meta", "runs", "review_projects", "review_lines", "standards_used"})

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
    """Open (creating if needed) a record store; refuse a file that is not one.

    A missing file or an empty SQLite database becomes a new store.  Any other file (a
    text file, another application's database, a store of a newer schema) is refused
    with an :class:`InputError` naming it, and is left exactly as it was: nothing is
    written to a file until it is known to be a costperf store.
    """
    path = Path(path)
    if path.is_dir():
        msg = f"{path}: is a folder, not a costperf record store"
        raise InputError(msg)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"{path}: cannot create the record store's folder: {exc}"
        raise InputError(msg) from exc
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error as exc:
        msg = f"{path}: cannot open the record store (SQLite said: {exc})"
        raise InputError(msg) from exc
    try:
        _check_or_create(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        msg = f"{path}: not a costperf record store (SQLite said: {exc})"
        raise InputError(msg) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def check_store(path: str | Path) -> None:
    """Refuse, before anything is written anywhere, a store a run could not write to.

    A missing file needs a folder that can be created or written; an existing file must
    be a costperf store (or an empty SQLite database). Nothing is created or changed.
    """
    path = Path(path)
    if path.is_dir():
        msg = f"{path}: is a folder, not a costperf record store"
        raise InputError(msg)
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), Path())
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            msg = f"{path}: the record store cannot be created here (no writable folder)"
            raise InputError(msg)
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        msg = f"{path}: cannot open the record store (SQLite said: {exc})"
        raise InputError(msg) from exc
    try:
        _check_or_create(conn, path, create=False)
    except sqlite3.DatabaseError as exc:
        msg = f"{path}: not a costperf record store (SQLite said: {exc})"
        raise InputError(msg) from exc
    finally:
        conn.close()


def _check_or_create(conn: sqlite3.Connection, path: Path, *, create: bool = True) -> None:
    """Create the tables in an empty database, or check that it is a costperf store."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables and application_id == 0:  # a new (or empty) database
        if not create:
            return
        conn.executescript(
            f"BEGIN;\n{_DDL}\nPRAGMA application_id = {APPLICATION_ID};\n"
            f"INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');\nCOMMIT;"
        )
        return
    # stores written before the application id was set have application_id 0
    row = None
    if application_id in (0, APPLICATION_ID) and _TABLES <= tables:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row is None:
        found = ", ".join(sorted(tables)) or "none"
        msg = (
            f"{path}: not a costperf record store (an SQLite database of another "
            f"application: tables {found}); name a new file or an earlier costperf store"
        )
        raise InputError(msg)
    version = str(row[0]).strip()
    if not version.isdigit() or int(version) != SCHEMA_VERSION:
        msg = (
            f"{path}: record store schema version {row[0]}, this costperf "
            f"writes version {SCHEMA_VERSION}"
        )
        raise InputError(msg)


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
    run_id: str | None = None,
) -> str:
    """Store one run's review records atomically; return its run id (new by default)."""
    run_id = run_id or new_run_id()
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


def new_run_id() -> str:
    """A fresh run id (16 hex digits)."""
    return uuid.uuid4().hex[:16]


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
