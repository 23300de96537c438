"""From the embedded installation to production: `ballotdesk export` on SQLite, `ballotdesk import`
into PostgreSQL, and nothing lost: every table row by row (the event log with its ids, token and
password hashes, documents' bytes), then the service keeps working on PostgreSQL with fresh ids."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Table, func, select

from schemas.tables import Ballot, Event, Vote, metadata
from services.http.app import create_app
from services.platform import migrate
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules.actors import COLLATION
from services.usecases import collation
from tests import processes
from tests.conftest import ADMIN_TOKEN, Clock
from tests.docx_factory import comment_docx, row8
from tests.world import World, ok

POSTGRES_URL = os.environ.get("BALLOTDESK_TEST_POSTGRES_URL", "")
REQUIRED = os.environ.get("BALLOTDESK_REQUIRE_SERVICES") == "1"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
async def postgres_target() -> str:
    if not POSTGRES_URL:
        if REQUIRED:
            pytest.fail("BALLOTDESK_REQUIRE_SERVICES=1 but BALLOTDESK_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set BALLOTDESK_TEST_POSTGRES_URL)")
    try:
        return await processes.fresh_postgres_database(POSTGRES_URL, "transfer")
    except OSError as exc:
        if REQUIRED:
            pytest.fail(f"PostgreSQL is required but not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[tuple[str, AsyncTestClient[Any], Clock]]:
    """An embedded installation, migrated as `serve` does it, used through the API."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    migrate.upgrade(url)
    db = Database(url)
    clock = Clock(now=datetime.now(UTC))
    app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN), db=db, clock=clock)
    async with AsyncTestClient(app=app) as client:
        yield url, client, clock


async def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    db = Database(url)
    try:
        async with db.engine().connect() as conn:
            tables: dict[str, list[dict[str, Any]]] = {}
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                result = await conn.execute(select(table).order_by(*order))
                tables[table.name] = [dict(row._mapping) for row in result]
            return tables
    finally:
        await db.dispose()


async def _build_documents(url: str, ballot_id: int) -> None:
    """The table and the report, built in-process (the workers' work) so documents hold bytes."""
    db = Database(url)
    try:
        ids = []
        async with db.transaction() as session:
            ballot = await session.get(Ballot, ballot_id)
            assert ballot is not None
            for kind, variant in ((collation.COMMENT_TABLE, "clause"), (collation.REPORT, "")):
                document = await collation.request(session, COLLATION, ballot, kind, variant, datetime.now(UTC))
                ids.append(document.id)
        for document_id in ids:
            assert document_id is not None
            await collation.build(db, document_id)
    finally:
        await db.dispose()


def _embedded_env(url: str) -> dict[str, str]:
    return processes.environment(url, production=False, log_format="text")


async def test_an_embedded_installation_moves_to_postgresql_losing_nothing(
    embedded: tuple[str, AsyncTestClient[Any], Clock], postgres_target: str, tmp_path: Path
) -> None:
    sqlite_url, client, clock = embedded
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "JP", "disapprove", 201, reasons="Scope.")
    await w.vote(ballot_id, "DE", "approve", 200, reasons="Changed our mind twice.")
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/FR",
            json={"comments": [{"clause": "10", "type": "te", "comment": "Ten — ünïcödé."}]},
            headers=w.headers["FR"],
        ),
        201,
    )
    template = comment_docx([row8("JP-1", "3", "4.1", "", "TE", "Conflicts.", "Align.")])
    await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/comments/JP/upload",
            files={"file": ("comments.docx", template, DOCX)},
            headers=w.headers["JP"],
        ),
        201,
    )
    await w.close(ballot_id)
    await _build_documents(sqlite_url, ballot_id)
    before = await _rows(sqlite_url)
    assert before["document"] and all(d["content"] for d in before["document"])
    assert len(before["event"]) > 20 and before["api_token"]

    export_file = tmp_path / "ballotdesk-export.jsonl.gz"
    exported = await asyncio.to_thread(processes.run, ["export", str(export_file)], _embedded_env(sqlite_url))
    assert exported.returncode == 0, exported.stderr
    assert "Exported" in exported.stdout
    imported = await asyncio.to_thread(processes.run, ["import", str(export_file)], _embedded_env(postgres_target))
    assert imported.returncode == 0, imported.stderr

    after = await _rows(postgres_target)
    for table in metadata.sorted_tables:
        assert after[table.name] == before[table.name], f"table {table.name} differs after the move"

    # A second import into the now filled database is refused, and changes nothing.
    again = await asyncio.to_thread(processes.run, ["import", str(export_file)], _embedded_env(postgres_target))
    assert again.returncode == 2 and "not empty" in again.stderr
    assert await _rows(postgres_target) == after

    # The service carries on, on PostgreSQL: the old tokens still sign in (their hashes came
    # along), and new rows take ids after the imported ones.
    db = Database(postgres_target)
    app = create_app(Settings(database_url=postgres_target, admin_token=ADMIN_TOKEN), db=db, clock=clock)
    async with AsyncTestClient(app=app) as pg_client:
        w.client = pg_client
        project = await ok(
            await pg_client.post(
                "/api/v1/projects",
                json={
                    "committee_id": w.committee_id,
                    "reference": "ISO 99002",
                    "title": "After the move",
                    "deliverable": "IS",
                    "stage": "40.00",
                },
                headers=w.headers["secretary"],
            ),
            201,
        )
        w.project_id = project["id"]
        second = await w.ballot("DIS")
        await w.vote(second, "FR", "approve", 201)
    assert second == max(b["id"] for b in before["ballot"]) + 1
    now_rows = await _rows(postgres_target)
    newest_vote = max(v["id"] for v in now_rows["vote"])
    assert newest_vote == max(v["id"] for v in before["vote"]) + 1
    new_events = [e for e in now_rows["event"] if e["id"] > max(x["id"] for x in before["event"])]
    assert [e["type"] for e in new_events][:3] == ["project.created", "ballot.created", "ballot.opened"]
    assert min(e["id"] for e in new_events) == max(x["id"] for x in before["event"]) + 1
    await _assert_counts(postgres_target, len(before["vote"]) + 1)


async def _assert_counts(url: str, votes: int) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            assert (await session.execute(select(func.count()).select_from(Vote))).scalar_one() == votes
            assert (await session.execute(select(func.count()).select_from(Event))).scalar_one() > votes
    finally:
        await db.dispose()


async def test_import_refuses_a_file_that_is_not_an_export(postgres_target: str, tmp_path: Path) -> None:
    bogus = tmp_path / "not-an-export.gz"
    bogus.write_bytes(b"hello")
    done = await asyncio.to_thread(processes.run, ["import", str(bogus)], _embedded_env(postgres_target))
    assert done.returncode == 2 and "not a Ballotdesk export" in done.stderr
    for table in metadata.sorted_tables:
        assert isinstance(table, Table)
    assert all(not rows for rows in (await _rows(postgres_target)).values())
