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
