"""The records as the frames the feedback stages take (current rows only).

Decisions: per project and year, the latest review run or batch that decided it (a
later batch of the same project-year supersedes an earlier one, as does a run that
names the one it corrects).
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from costperf.records import models
from costperf.records.read import current_filter, select_records
from costperf.records.store import Store

DECISION_KINDS = ("run", "review")


def _frame(store: Store, stmt: sa.Select) -> pd.DataFrame:
    with store.read() as conn:
        return pd.read_sql_query(stmt, conn)


def decisions(store: Store) -> pd.DataFrame:
    """Current project decisions with their year and the run's time, one per project-year.

    Columns: those of ``review_projects`` (``extra`` expanded into columns) plus
    ``created_at`` and ``record_id`` (``run_id:project_id``).
    """
    rp, runs = models.review_projects, models.runs
    cond = current_filter(runs)
    stmt = (
        sa.select(rp, runs.c.created_at, runs.c.year.label("run_year"), runs.c.kind)
        .join(runs, runs.c.run_id == rp.c.run_id)
        .where(runs.c.kind.in_(DECISION_KINDS))
        .where(cond)
    )
    frame = _frame(store, stmt)
    if frame.empty:
        return frame.assign(record_id=pd.Series(dtype=object))
    frame["year"] = pd.to_numeric(frame["year"].fillna(frame["run_year"]), errors="coerce")
    frame = frame.dropna(subset=["year"]).astype({"year": int})
    frame = frame.sort_values(["project_id", "year", "created_at", "run_id"])
    frame = frame.drop_duplicates(["project_id", "year"], keep="last")
    extra = frame["extra"].map(lambda t: json.loads(t) if isinstance(t, str) and t else {})
    extras = pd.DataFrame(list(extra), index=frame.index)
    extras = extras[[c for c in extras.columns if c not in frame.columns]]
    out = pd.concat([frame.drop(columns=["extra", "run_year"]), extras], axis=1)
    out["record_id"] = out["run_id"] + ":" + out["project_id"].astype(str)
    return out.reset_index(drop=True)


def current(store: Store, table: str) -> pd.DataFrame:
    """The current (not superseded) rows of a history table."""
    return _frame(store, select_records(models.metadata.tables[table], current=True))
