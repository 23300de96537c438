"""The database's own guard on the event log: no DELETE, and no UPDATE except sealing.

The service never updates or deletes an event; the only change it makes is the sealer filling an
unsealed event's `chain_seq`, `prev_hash` and `hash` once. The triggers below refuse everything
else at the database, so a bug or a hand-typed statement cannot rewrite the record quietly (it
takes a superuser disabling the trigger, which the hash chain then exposes). On PostgreSQL a
statement trigger refuses TRUNCATE too (row triggers do not fire on it); a superuser emptying
tables on purpose (the test fixtures) sets `session_replication_role = replica` first. SQLite
has no TRUNCATE.

Attached to the table for `metadata.create_all`; migration 0002 holds a frozen copy of this SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import DDL, Table, event

SEAL_COLUMNS = ("chain_seq", "prev_hash", "hash")
TRIGGER = "event_append_only"
PG_FUNCTION = "ballotdesk_event_append_only"
DELETE_REFUSED = "the event log is append-only: an event cannot be deleted"
UPDATE_REFUSED = "the event log is append-only: an event can only be sealed, once"
TRUNCATE_TRIGGER = "event_no_truncate"
PG_TRUNCATE_FUNCTION = "ballotdesk_refuse_truncate"
TRUNCATE_REFUSED = "the record cannot be emptied: TRUNCATE is refused on"
# The tables whose rows the record is checked against: emptying any of them is refused.
GUARDED_TABLES = ("event", "vote", "comment")

_PG_TRUNCATE_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_TRUNCATE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    RAISE EXCEPTION '{TRUNCATE_REFUSED} %', TG_TABLE_NAME;
END
$guard$
"""

# Comparing the rows as JSON without the seal columns covers every other column, present or future.
_PG_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{DELETE_REFUSED} (event %)', OLD.id;
    END IF;
    IF OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (to_jsonb(NEW) - 'chain_seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'chain_seq' - 'prev_hash' - 'hash')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{UPDATE_REFUSED} (event %)', OLD.id;
END
$guard$
"""


def postgresql_statements(table: str = "event") -> list[str]:
    return [
        _PG_FUNCTION_SQL,
        f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}",
        f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
    ]


def postgresql_truncate_statements(table: str) -> list[str]:
    return [
        _PG_TRUNCATE_SQL,
        f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {table}",
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_TRUNCATE_FUNCTION}()",
    ]


def postgresql_drop_statements(table: str = "event") -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}", f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"]


def sqlite_statements(columns: Sequence[str], table: str = "event") -> list[str]:
    """SQLite has no row-to-JSON, so the unchanged columns are listed (`IS` is NULL-safe)."""
    unchanged = " AND ".join(f'NEW."{c}" IS OLD."{c}"' for c in columns if c not in SEAL_COLUMNS)
    sealing = (
        "OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL "
        "AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL"
    )
    return [
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGER}_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{DELETE_REFUSED}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGER}_update BEFORE UPDATE ON {table} "
        f"WHEN NOT ({sealing} AND {unchanged}) "
        f"BEGIN SELECT RAISE(ABORT, '{UPDATE_REFUSED}'); END",
    ]


def sqlite_drop_statements(table: str = "event") -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {TRIGGER}_delete", f"DROP TRIGGER IF EXISTS {TRIGGER}_update"]


def attach_truncate_guard(table: Table) -> None:
    for statement in postgresql_truncate_statements(table.name):
        ddl = DDL(statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
        event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))


def attach(table: Table) -> None:
    """Create the guard whenever `metadata.create_all` creates the table."""
    # DDL formats its text with %, so the % of RAISE's placeholders are doubled.
    for statement in postgresql_statements(table.name):
        ddl = DDL(statement.replace("%", "%%"))  # type: ignore[no-untyped-call]
        event.listen(table, "after_create", ddl.execute_if(dialect="postgresql"))
    for statement in sqlite_statements([c.name for c in table.columns], table.name):
        ddl = DDL(statement)  # type: ignore[no-untyped-call]
        event.listen(table, "after_create", ddl.execute_if(dialect="sqlite"))
