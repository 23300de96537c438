"""event: request id and hash-chain columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 07:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from schemas import event_guard

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The event table's columns as of this revision (the SQLite guard lists the ones it protects).
EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "type",
    "aggregate",
    "committee_id",
    "actor",
    "on_behalf_of",
    "payload",
    "version",
    "request_id",
    "chain_seq",
    "prev_hash",
    "hash",
)


def _guard_statements(drop: bool) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return event_guard.postgresql_drop_statements() if drop else event_guard.postgresql_statements()
    return event_guard.sqlite_drop_statements() if drop else event_guard.sqlite_statements(EVENT_COLUMNS)


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("chain_seq", BigId, nullable=True))
        batch.add_column(sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.create_unique_constraint("uq_event_chain_seq", ["chain_seq"])
    # After the batch: on SQLite it rebuilds the table, which would drop triggers made before it.
    for statement in _guard_statements(drop=False):
        op.execute(statement)


def downgrade() -> None:
    for statement in _guard_statements(drop=True):
        op.execute(statement)
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint("uq_event_chain_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("chain_seq")
        batch.drop_column("request_id")
