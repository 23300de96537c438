"""event: the application's authenticator; TRUNCATE refused on the record's tables (PostgreSQL)

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen as of this revision (schemas/event_guard.py, which create_all uses, may change later).
POSTGRESQL_TRUNCATE_FUNCTION = """CREATE OR REPLACE FUNCTION ballotdesk_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql AS $guard$
BEGIN
    RAISE EXCEPTION 'the record cannot be emptied: TRUNCATE is refused on %', TG_TABLE_NAME;
END
$guard$
"""
GUARDED_TABLES = ("event", "vote", "comment")
# SQLite's update guard names every column it keeps unchanged: the authenticator joins them.
SQLITE_UPDATE_GUARD = """CREATE TRIGGER IF NOT EXISTS event_append_only_update BEFORE UPDATE ON event
    WHEN NOT (
        OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
        AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
        AND NEW."id" IS OLD."id" AND NEW."occurred_at" IS OLD."occurred_at" AND NEW."type" IS OLD."type"
        AND NEW."aggregate" IS OLD."aggregate" AND NEW."committee_id" IS OLD."committee_id"
        AND NEW."actor" IS OLD."actor" AND NEW."on_behalf_of" IS OLD."on_behalf_of"
        AND NEW."payload" IS OLD."payload" AND NEW."version" IS OLD."version"
        AND NEW."request_id" IS OLD."request_id" AND NEW."authenticator" IS OLD."authenticator"
    )
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an event can only be sealed, once'); END"""
SQLITE_DELETE_GUARD = """CREATE TRIGGER IF NOT EXISTS event_append_only_delete BEFORE DELETE ON event
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only: an event cannot be deleted'); END"""
SQLITE_UPDATE_GUARD_0002 = SQLITE_UPDATE_GUARD.replace(' AND NEW."authenticator" IS OLD."authenticator"', "")


def _sqlite_guards(update_guard: str) -> None:
    # A batch rebuilds the table on SQLite, dropping its triggers: they are made again after it.
    op.execute("DROP TRIGGER IF EXISTS event_append_only_delete")
    op.execute("DROP TRIGGER IF EXISTS event_append_only_update")
    op.execute(SQLITE_DELETE_GUARD)
    op.execute(update_guard)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # the guard refuses the rebuild's copy otherwise
        op.execute("DROP TRIGGER IF EXISTS event_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS event_append_only_delete")
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("authenticator", sa.String(length=128), nullable=True))
        batch.create_unique_constraint("uq_event_authenticator", ["authenticator"])
    if sqlite:
        _sqlite_guards(SQLITE_UPDATE_GUARD)
        return
    op.execute(POSTGRESQL_TRUNCATE_FUNCTION)
    for table in GUARDED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS event_no_truncate ON {table}")
        op.execute(
            f"CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ballotdesk_refuse_truncate()"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS event_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS event_append_only_delete")
    else:
        for table in GUARDED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS event_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ballotdesk_refuse_truncate()")
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint("uq_event_authenticator", type_="unique")
        batch.drop_column("authenticator")
    if sqlite:
        _sqlite_guards(SQLITE_UPDATE_GUARD_0002)
