"""Reading records: whole tables or filtered, all history or only current rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from costperf.errors import InputError
from costperf.records import models
from costperf.records.store import Store, Target, as_target, open_store

StoreName = str | Path | Target

TABLES = tuple(models.metadata.tables)


def existing_store(target: StoreName) -> Store | None:
    """The store opened (and upgraded if old), or None when an SQLite file does not exist
    yet: reading never creates a store."""
    target = as_target(target)
    if target.backend == "sqlite" and not target.path.exists():
        return None
    return open_store(target)


def _table(name: str) -> sa.Table:
    if name not in models.metadata.tables:
        msg = f"unknown record table '{name}'; use one of: {', '.join(TABLES)}"
        raise InputError(msg)
    return models.metadata.tables[name]


def current_filter(table: sa.Table) -> sa.ColumnElement | None:
    """The condition 'not superseded by a later row' (None for tables without it)."""
    if "supersedes" not in table.c:
        return None
    if table.name == "runs":
        later = sa.select(table.c.supersedes).where(table.c.supersedes.is_not(None))
        return table.c.run_id.not_in(later)
    row_id = table.c[models.ROW_ID[table.name]]
    later = sa.select(table.c.supersedes).where(table.c.supersedes.is_not(None))
    cond = row_id.not_in(later)
    if table.name == "followup_actions":  # a flag about a superseded row is no longer current
        for name in ("monitoring_observations", "evaluation_results"):
            source = models.metadata.tables[name]
            replaced = sa.select(source.c.supersedes).where(source.c.supersedes.is_not(None))
            # NULL-safe: a flag with no source row stays current (NOT NULL would drop it)
            same = sa.func.coalesce(table.c.source_table, "") == name
            stale = same & sa.func.coalesce(table.c.source_id, -1).in_(replaced)
            cond = cond & ~stale
    return cond


def read_records(
    path: StoreName,
    table: str = "review_projects",
    run_id: str | None = None,
    *,
    current: bool = False,
    where: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Read stored records.

    Parameters
    ----------
    path
        The store (SQLite file or ``postgresql://`` URL); a missing file reads as empty.
    table
        A table of :data:`TABLES`.
    run_id
        Only this run's rows.
    current
        Leave out rows a later row supersedes (corrections).
    where
        Column filters: ``{"year": 2026, "department": ["A", "B"]}`` (a list or tuple
        means any of).

    Returns
    -------
    DataFrame
        The table's columns, in insertion order.
    """
    spec = _table(table)
    stmt = select_records(spec, run_id=run_id, current=current, where=where)
    store = existing_store(path)
    if store is None:
        return pd.DataFrame({c.name: pd.Series(dtype=object) for c in spec.columns})
    try:
        with store.read() as conn:
            return pd.read_sql_query(stmt, conn)
    finally:
        store.close()


def select_records(
    table: sa.Table,
    *,
    run_id: str | None = None,
    current: bool = False,
    where: Mapping[str, object] | None = None,
) -> sa.Select:
    """The SELECT behind :func:`read_records` (rows in insertion order)."""
    stmt = sa.select(table)
    if run_id is not None:
        stmt = stmt.where(table.c.run_id == run_id)
    if current and (cond := current_filter(table)) is not None:
        stmt = stmt.where(cond)
    for column, value in (where or {}).items():
        if column not in table.c:
            msg = f"records of '{table.name}' have no column '{column}' to filter on"
            raise InputError(msg)
        if isinstance(value, Sequence) and not isinstance(value, str):
            stmt = stmt.where(table.c[column].in_(list(value)))
        else:
            stmt = stmt.where(table.c[column] == value)
    order = models.ROW_ID.get(table.name)
    if order:
        return stmt.order_by(table.c[order])
    if table.name == "runs":
        return stmt.order_by(table.c.created_at, table.c.run_id)
    return stmt


def read_proposals(
    path: StoreName, table: str = "proposals", run_id: str | None = None
) -> pd.DataFrame:
    """Read stored proposals (``proposals``, ``proposal_constraints`` or
    ``proposal_projects``), all runs or one."""
    names = ("proposals", "proposal_constraints", "proposal_projects")
    if table not in names:
        msg = f"unknown proposal table '{table}'; use one of: {', '.join(names)}"
        raise InputError(msg)
    return read_records(path, table, run_id)
