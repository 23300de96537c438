"""The Alembic migrations build exactly the schema the tables declare, on both databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from schemas.tables import metadata
from services.platform import migrate
from services.platform.db import create_engine_for
from tests.integration.test_cli import _fresh_database


def _diff(url: str) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine_for(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine_for(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    request.getfixturevalue("postgres_url")
    return asyncio.run(_fresh_database("ballotdesk_migrations"))


def test_upgrade_builds_the_declared_schema_and_downgrade_removes_it(empty_database: str) -> None:
    migrate.upgrade(empty_database)
    assert set(metadata.tables) <= _tables(empty_database)
    assert _diff(empty_database) == []
    migrate.downgrade(empty_database)
    assert _tables(empty_database) <= {"alembic_version"}
    migrate.upgrade(empty_database)
    assert _diff(empty_database) == []


def test_the_migrated_record_refuses_edits_and_truncate(empty_database: str) -> None:
    """Migration 0005 keeps the append-only guard (the authenticator among the columns a seal may
    not change) and, on PostgreSQL, refuses TRUNCATE of the record's tables."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    migrate.upgrade(empty_database)

    async def run() -> None:
        engine = create_engine_for(empty_database)
        insert = (
            "INSERT INTO event (occurred_at, type, aggregate, actor, payload, version, authenticator) "
            "VALUES ('2026-12-03 10:00:00', 'x.y', 'a:1', 'me', '{}', 1, 'v1.k.n.m')"
        )
        try:
            async with engine.begin() as conn:
                await conn.execute(text(insert))
                await conn.execute(text("UPDATE event SET chain_seq = 1, prev_hash = 'p', hash = 'h'"))
            for edit in ["UPDATE event SET authenticator = 'v1.k.n.other'", "DELETE FROM event"]:
                with pytest.raises(DBAPIError, match="append-only"):
                    async with engine.begin() as conn:
                        await conn.execute(text(edit))
            if engine.dialect.name == "postgresql":
                for table in ["event", "vote", "comment"]:
                    with pytest.raises(DBAPIError, match="TRUNCATE is refused"):
                        async with engine.begin() as conn:
                            await conn.execute(text(f"TRUNCATE {table} CASCADE"))
        finally:
            await engine.dispose()

    asyncio.run(run())
