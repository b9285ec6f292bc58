"""The record store: every review, proposal, observation, evaluation and recommendation.

A real database (SQLAlchemy 2): an SQLite file by default (WAL journal), or PostgreSQL
with ``--records postgresql://…``.  The schema is versioned (Alembic; the migration
scripts ship in ``costperf/records/migrations`` and run programmatically when a store of
an older schema is opened).  History is append-only (database triggers refuse UPDATE and
DELETE); a correction is a new row that ``supersedes`` an older one.  Every write is one
transaction, and writers take turns (see :mod:`costperf.records.store`).

Modules: :mod:`~costperf.records.models` (tables), :mod:`~costperf.records.store`
(opening, checking, locking, migrating), :mod:`~costperf.records.write` (rows and
runs), :mod:`~costperf.records.writers` (the public writers),
:mod:`~costperf.records.read` (reading).
"""

from costperf.records.models import APPLICATION_ID, HISTORY_TABLES, SCHEMA_VERSION
from costperf.records.read import TABLES, existing_store, read_proposals, read_records
from costperf.records.store import Store, Target, as_target, check_store, open_store
from costperf.records.write import Written, find_run, new_run_id, params_hash
from costperf.records.writers import (
    find_batch,
    write_batch,
    write_evaluations,
    write_monitoring,
    write_proposals,
    write_recommendations,
    write_rederivation,
    write_run,
)

__all__ = [
    "APPLICATION_ID",
    "HISTORY_TABLES",
    "SCHEMA_VERSION",
    "TABLES",
    "Store",
    "Target",
    "Written",
    "as_target",
    "check_store",
    "existing_store",
    "find_batch",
    "find_run",
    "new_run_id",
    "open_store",
    "params_hash",
    "read_proposals",
    "read_records",
    "write_batch",
    "write_evaluations",
    "write_monitoring",
    "write_proposals",
    "write_recommendations",
    "write_rederivation",
    "write_run",
]
