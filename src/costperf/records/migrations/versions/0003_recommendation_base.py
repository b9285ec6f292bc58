"""Schema 3: a recommendation names the decision record its base was read from.

* ``recommendations`` gains ``base_record``: the ``record_id`` (``run_id:project_id``)
  of the approved amount the recommendation starts from, so every recommendation is
  traced to the decision, the evaluation (``evaluation_id``) and the rules (its run's
  parameters) that produced it. Rows recorded before keep NULL.
* ``ALTER TABLE ... ADD COLUMN`` leaves the append-only triggers in place.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("recommendations", sa.Column("base_record", sa.Text))
    op.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    if sqlite:
        op.execute("PRAGMA user_version = 3")


def downgrade() -> None:
    msg = "record stores are never downgraded"
    raise NotImplementedError(msg)
