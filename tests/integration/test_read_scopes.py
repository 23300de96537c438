"""Reads never wait for the write lock: SQLite lets one writer at a time, and a large upload, the
sealer or a busy minute of votes holds that lock; pages, the API's reads and /metrics go on."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from services.platform.db import Database
from tests.conftest import Clock
from tests.world import ADMIN, World, ok


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_reads_answer_while_another_connection_holds_the_write_lock(
    client: AsyncTestClient,
    clock: Clock,
    database_url: str,  # type: ignore[type-arg]
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", status=201)
    secretary = w.headers["secretary"]

    holder = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held as a long import would hold it
    try:
        for path, headers in [
            (f"/api/v1/ballots/{ballot_id}", secretary),
            (f"/api/v1/ballots/{ballot_id}/votes", secretary),
            (f"/api/v1/ballots/{ballot_id}/comments", secretary),
            ("/api/v1/events?after=0", ADMIN),
            ("/api/v1/ballots?status=open", w.headers["DE"]),
            ("/metrics", {}),
        ]:
            started = time.monotonic()
            response = await asyncio.wait_for(client.get(path, headers=headers), timeout=10)
            assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
            assert time.monotonic() - started < 2, f"{path} waited for the write lock"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await w.vote(ballot_id, "FR", "approve", status=201)
    assert len(await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=secretary))) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_read_scope_cannot_write(db: Database) -> None:
    # SQLite refuses it (query_only); PostgreSQL's read scope is autocommit statements, unguarded,
    # and relies on this test catching a read that writes on SQLite.
    with pytest.raises(Exception, match=r"(?i)read.?only|readonly"):
        async with db.read() as session:
            await session.execute(
                text("INSERT INTO member_body (code, acronym, name, created_at) VALUES ('XX', 'X', 'X', '2026-01-01')")
            )
    async with db.read() as session:
        assert (await session.execute(text("SELECT count(*) FROM member_body"))).scalar_one() == 0
