"""Alembic environment: migrations run on the connection the store hands over.

The store opens the connection, takes the write lock (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL an advisory lock) and calls :func:`costperf.records.store.migrate`, which
passes the connection in ``config.attributes['connection']``; the migrations then run
inside that one transaction, so a store is upgraded whole or not at all.
"""

from __future__ import annotations

from alembic import context

from costperf.records.models import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=None,
    version_table=VERSION_TABLE,
    transactional_ddl=True,
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
