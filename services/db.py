"""Engines and transactions.

An async engine is bound to the event loop that first used it (asyncpg's pool keeps loop-bound
futures), so the API's loop and a worker's loop each get their own engine from `Database`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services import outbox


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction begins (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes
    # fails with "database is locked" when another writer got in between, busy_timeout or not.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine_for(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it costs a round trip on every checkout (a vote makes two). A connection
    # the server dropped (a restart) fails its request once with a disconnect error, which the API
    # answers with 503 and which makes SQLAlchemy discard every pooled connection made before it.
    # A steady load is served from the pool proper: a connection beyond `pool_size` is closed when
    # it is returned, and opening one costs more than the vote it serves. At most 20 per process,
    # as many as the benchmark's bare anchor uses.
    return create_async_engine(
        url,
        pool_size=15,
        max_overflow=5,
        pool_recycle=1800,
    )


class Database:
    """One URL, one engine per running event loop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engines: dict[asyncio.AbstractEventLoop, AsyncEngine] = {}
        self._makers: dict[asyncio.AbstractEventLoop, async_sessionmaker[AsyncSession]] = {}
        self._dialect = make_url(url).get_backend_name()  # asked on every vote: parsed once

    @property
    def dialect(self) -> str:
        return self._dialect

    def engine(self) -> AsyncEngine:
        loop = asyncio.get_running_loop()
        engine = self._engines.get(loop)
        if engine is None:
            engine = create_engine_for(self.url)
            self._engines[loop] = engine
            self._makers[loop] = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        return engine

    def _maker(self) -> async_sessionmaker[AsyncSession]:
        self.engine()
        return self._makers[asyncio.get_running_loop()]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One use case, one transaction: commit on success, roll back on any exception."""
        async with self._maker()() as session:
            async with session.begin():
                yield session
            outbox.committed(session)  # reached only when the commit succeeded

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads that need no transaction around them: on PostgreSQL each
        statement is its own (no BEGIN and COMMIT round trips); on SQLite a transaction as usual."""
        async with self.engine().connect() as connection:
            if self.dialect == "postgresql":
                yield await connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                async with connection.begin():
                    yield connection

    async def dispose(self) -> None:
        """Dispose the engine of the running loop (engines of other loops belong to them)."""
        loop = asyncio.get_running_loop()
        engine = self._engines.pop(loop, None)
        self._makers.pop(loop, None)
        if engine is not None:
            await engine.dispose()


async def insert_ignore(session: AsyncSession, table: Any, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on either database; True when the row was inserted."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    result = await session.execute(statement.values(**values).on_conflict_do_nothing())
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
