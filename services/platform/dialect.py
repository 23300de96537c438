"""What differs between PostgreSQL and SQLite, decided once per database and named by what it means.

The service runs on both; code elsewhere asks the strategy a question ("does the transaction
already hold the only write lock?") instead of testing the dialect's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


@dataclass(frozen=True)
class Dialect:
    name: str
    # SQLite: a write transaction holds the database's only write lock from its first statement
    # (BEGIN IMMEDIATE), so advisory locks and row claims between writers are already implied.
    writers_serialised: bool
    # PostgreSQL: NOTIFY/LISTEN reach relays of every process; SQLite has only this process.
    notifies: bool
    # PostgreSQL: a vote and its event written by one statement (CTEs with RETURNING, JSONB).
    single_statement_writes: bool
    # PostgreSQL: ids come from sequences, which an import of explicit ids must move past.
    has_sequences: bool

    def insert(self, table: Any) -> Any:
        """INSERT with the dialect's ON CONFLICT clause available."""
        module: Any = postgresql if self.name == "postgresql" else sqlite
        return module.insert(table)


POSTGRESQL = Dialect(
    "postgresql", writers_serialised=False, notifies=True, single_statement_writes=True, has_sequences=True
)
SQLITE = Dialect("sqlite", writers_serialised=True, notifies=False, single_statement_writes=False, has_sequences=False)


def named(name: str) -> Dialect:
    return POSTGRESQL if name == "postgresql" else SQLITE


def of(session: AsyncSession | AsyncConnection) -> Dialect:
    """The strategy of the database a session or connection is bound to."""
    return named(session.get_bind().dialect.name if isinstance(session, AsyncSession) else session.dialect.name)
