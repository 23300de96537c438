"""Engines and the two scopes every database use runs in: a write transaction or a read.

`Database` owns them. A use case that writes runs in `transaction()` (one use case, one
transaction, its events in it); a handler or page that only reads runs in `read()`, which never
takes a write transaction, so reads do not queue behind writers (on SQLite: behind the single
write lock, held for seconds by a large upload or the sealer).

An async engine is bound to the event loop that first used it (asyncpg's pool keeps loop-bound
futures), so the API's loop and a worker's loop each get their own engines from `Database`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from services.platform import dialect, signing
from services.platform.settings import Settings

_AFTER_COMMIT = "ballotdesk.after_commit"
# Where a write session carries the key of the events' authenticators (`services.platform.events`).
RECORD_KEY = "ballotdesk.record_key"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when a transaction begins (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _sqlite_read_only(dbapi_connection: Any, _record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, _record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")  # a read scope that tries to write fails loudly
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes
    # fails with "database is locked" when another writer got in between, busy_timeout or not.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_read(conn: Any) -> None:
    # Deferred, on a connection that may not write: in WAL mode it reads a snapshot and never
    # waits for the write lock.
    conn.exec_driver_sql("BEGIN")


def create_engine_for(url: str, *, read_only: bool = False) -> AsyncEngine:
    """The engine for `url`; `read_only` (SQLite) for the connections of read scopes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Created for its owner alone (it holds token and password hashes); SQLite gives its
            # -wal and -shm files the same permissions.
            Path(parsed.database).touch(mode=0o600, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_read_only if read_only else _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_read if read_only else _sqlite_begin)
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


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (never on rollback)."""
    callbacks: list[Callable[[], None]] = session.info.setdefault(_AFTER_COMMIT, [])
    if callback not in callbacks:
        callbacks.append(callback)


class Database:
    """One URL; per running event loop, one engine for writes and (SQLite) one for reads."""

    def __init__(self, url: str, *, record_key: Callable[[], bytes] | None = None) -> None:
        """`record_key` gives the key of the events' authenticators (the composition root passes
        the settings'); without it, the key embedded mode keeps beside the database."""
        self.url = url
        self._record_key_source = record_key or (lambda: signing.record_key(Settings(database_url=url)))
        self._record_key: bytes | None = None
        self._engines: dict[asyncio.AbstractEventLoop, AsyncEngine] = {}
        self._readers: dict[asyncio.AbstractEventLoop, AsyncEngine] = {}
        self._makers: dict[asyncio.AbstractEventLoop, async_sessionmaker[AsyncSession]] = {}
        self._read_makers: dict[asyncio.AbstractEventLoop, async_sessionmaker[AsyncSession]] = {}
        parsed = make_url(url)
        self._dialect = parsed.get_backend_name()  # asked on every vote: parsed once
        self.sql = dialect.named(self._dialect)
        # An in-memory SQLite database exists once per connection: its reads share the writer's.
        self._separate_reader = self._dialect == "sqlite" and parsed.database not in (None, "", ":memory:")

    @classmethod
    def of(cls, settings: Settings) -> Database:
        """The settings' database, its events authenticated with the settings' key."""
        return cls(settings.database_url, record_key=lambda: signing.record_key(settings))

    @property
    def dialect(self) -> str:
        return self._dialect

    @property
    def record_key(self) -> bytes:
        """Read on the first write, not at construction: a process that only reads needs no key."""
        if self._record_key is None:
            self._record_key = self._record_key_source()
        return self._record_key

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

    def _read_maker(self) -> async_sessionmaker[AsyncSession]:
        loop = asyncio.get_running_loop()
        maker = self._read_makers.get(loop)
        if maker is None:
            if self._separate_reader:
                engine = self._readers[loop] = create_engine_for(self.url, read_only=True)
            elif self._dialect == "postgresql":
                # Each statement its own implicit transaction, on the same pool: no BEGIN and
                # COMMIT round trips (READ COMMITTED gives each statement its own snapshot anyway).
                # A write here would not be refused, as it is on SQLite, where the tests catch it.
                engine = self.engine().execution_options(isolation_level="AUTOCOMMIT")
            else:
                engine = self.engine()
            maker = self._read_makers[loop] = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        return maker

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The write scope. One use case, one transaction: commit on success, roll back on any
        exception; then the callbacks registered with `after_commit`."""
        async with self._maker()() as session:
            session.info[RECORD_KEY] = self.record_key
            async with session.begin():
                yield session
            # Reached only when the commit succeeded.
            for callback in session.info.pop(_AFTER_COMMIT, ()):
                callback()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """The read scope, never a write transaction. PostgreSQL: autocommit statements; SQLite:
        a deferred transaction (in WAL mode, a snapshot) on a connection that may not write."""
        # Connects at its first statement, like the write scope: a request refused before it reads
        # (an unknown token, resolved beside it) holds no connection.
        async with self._read_maker()() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        """Dispose the engines of the running loop (engines of other loops belong to them)."""
        loop = asyncio.get_running_loop()
        engines = [self._engines.pop(loop, None), self._readers.pop(loop, None)]
        self._makers.pop(loop, None)
        self._read_makers.pop(loop, None)
        for engine in engines:
            if engine is not None:
                await engine.dispose()


async def insert_ignore(session: AsyncSession, table: Any, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on either database; True when the row was inserted."""
    statement = dialect.of(session).insert(table)
    result = await session.execute(statement.values(**values).on_conflict_do_nothing())
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
