"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is used when BALLOTDESK_TEST_POSTGRES_URL is set; without it those tests are skipped,
unless BALLOTDESK_REQUIRE_SERVICES=1 (CI), where a missing server is a failure.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from schemas.tables import metadata
from services.http.app import create_app
from services.platform.db import Database, create_engine_for
from services.platform.settings import Settings, normalise_database_url

ADMIN_TOKEN = "test-admin-token-0123456789"
POSTGRES_URL = normalise_database_url(os.environ.get("BALLOTDESK_TEST_POSTGRES_URL", ""))
REQUIRE_POSTGRES = os.environ.get("BALLOTDESK_REQUIRE_SERVICES") == "1"


@dataclass
class Clock:
    """A clock the tests move by hand, so deadlines pass without sleeping."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


async def _reset_postgres_schema(url: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            await conn.run_sync(metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("BALLOTDESK_REQUIRE_SERVICES=1 but BALLOTDESK_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set BALLOTDESK_TEST_POSTGRES_URL)")
    try:
        asyncio.run(_reset_postgres_schema(POSTGRES_URL))
    except OSError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return POSTGRES_URL


async def empty_tables(conn: AsyncConnection) -> None:
    """Empty every table in the connection's transaction. The record's tables refuse TRUNCATE
    (schemas.event_guard); the test superuser sets triggers aside for this transaction only."""
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    await conn.execute(text("SET LOCAL session_replication_role = replica"))
    await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


async def _truncate(db: Database) -> None:
    async with db.engine().begin() as conn:
        await empty_tables(conn)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ballotdesk.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if database.dialect == "sqlite":
        async with database.engine().begin() as conn:
            await conn.run_sync(metadata.create_all)
    else:
        await _truncate(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN)


@pytest.fixture
async def client(settings: Settings, db: Database, clock: Clock) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(settings, db=db, clock=clock)
    async with AsyncTestClient(app=app) as c:
        yield c


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The app must take its settings from the fixture, never from the developer's shell.
    monkeypatch.delenv("BALLOTDESK_DATABASE_URL", raising=False)
    monkeypatch.delenv("BALLOTDESK_ADMIN_TOKEN", raising=False)
    yield
