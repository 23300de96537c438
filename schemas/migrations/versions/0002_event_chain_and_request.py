"""event: request id and hash-chain columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 07:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The guard's SQL as of this revision, written out: a migration must install the same thing
# forever, whatever schemas/event_guard.py (which create_all uses) becomes later.
POSTGRESQL_GUARD = [
    """CREATE OR REPLACE FUNCTION ballotdesk_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'the event log is append-only: an event cannot be deleted (event %)', OLD.id;
    END IF;
    IF OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (to_jsonb(NEW) - 'chain_seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'chain_seq' - 'prev_hash' - 'hash')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the event log is append-only: an event can only be sealed, once (event %)', OLD.id;
END
$guard$
""",
    "DROP TRIGGER IF EXISTS event_append_only ON event",
    """CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
    FOR EACH ROW EXECUTE FUNCTION ballotdesk_event_append_only()""",
]
POSTGRESQL_UNGUARD = [
    "DROP TRIGGER IF EXISTS event_append_only ON event",
    "DROP FUNCTION IF EXISTS ballotdesk_event_append_only()",
]
# SQLite has no row-to-JSON: the trigger names each column it keeps unchanged (IS is NULL-safe).
SQLITE_GUARD = [
    """CREATE TRIGGER IF NOT EXISTS event_append_only_delete BEFORE DELETE ON event
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an event cannot be deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS event_append_only_update BEFORE UPDATE ON event
    WHEN NOT (
        OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
        AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
        AND NEW."id" IS OLD."id" AND NEW."occurred_at" IS OLD."occurred_at" AND NEW."type" IS OLD."type"
        AND NEW."aggregate" IS OLD."aggregate" AND NEW."committee_id" IS OLD."committee_id"
        AND NEW."actor" IS OLD."actor" AND NEW."on_behalf_of" IS OLD."on_behalf_of"
        AND NEW."payload" IS OLD."payload" AND NEW."version" IS OLD."version"
        AND NEW."request_id" IS OLD."request_id"
    )
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an event can only be sealed, once'); END""",
]
SQLITE_UNGUARD = [
    "DROP TRIGGER IF EXISTS event_append_only_delete",
    "DROP TRIGGER IF EXISTS event_append_only_update",
]


def _guard_statements(drop: bool) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return POSTGRESQL_UNGUARD if drop else POSTGRESQL_GUARD
    return SQLITE_UNGUARD if drop else SQLITE_GUARD


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
