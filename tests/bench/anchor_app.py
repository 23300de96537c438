"""The bare anchor: litestar, one POST handler, a msgspec body, one transaction (UPDATE … RETURNING
plus INSERT into an events table) on asyncpg (PostgreSQL) or aiosqlite (SQLite).

Factory for uvicorn: ``uvicorn --factory tests.bench.anchor_app:create``; the database comes
from ``BENCH_ANCHOR_DSN`` (``postgresql://…`` or a SQLite file path).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from litestar import Litestar, get, post
from litestar.datastructures import State

SCHEMA_PG = (
    "CREATE TABLE IF NOT EXISTS bench_anchor_voter "
    "(id integer PRIMARY KEY, position text NOT NULL, version integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_anchor_event (id bigserial PRIMARY KEY, voter_id integer NOT NULL, "
    "payload jsonb NOT NULL, occurred_at timestamptz NOT NULL)",
)
SCHEMA_SQLITE = (
    "CREATE TABLE IF NOT EXISTS bench_anchor_voter "
    "(id integer PRIMARY KEY, position text NOT NULL, version integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_anchor_event (id integer PRIMARY KEY, voter_id integer NOT NULL, "
    "payload text NOT NULL, occurred_at text NOT NULL)",
)
UPDATE = "UPDATE bench_anchor_voter SET position = {0}, version = version + 1 WHERE id = {1} RETURNING version"
INSERT = "INSERT INTO bench_anchor_event (voter_id, payload, occurred_at) VALUES ({0}, {1}, {2})"


class VoteIn(msgspec.Struct, forbid_unknown_fields=True):
    voter_id: int
    position: Literal["approve", "disapprove", "abstain"]
    reasons: str | None = None


class VoteOut(msgspec.Struct):
    voter_id: int
    version: int


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@post("/votes", status_code=201)
async def vote(data: VoteIn, state: State) -> VoteOut:
    if not 1 <= data.voter_id <= 10_000 or (data.reasons is not None and len(data.reasons) > 20_000):
        raise msgspec.ValidationError("out of range")
    payload = json.dumps({"voter_id": data.voter_id, "position": data.position, "reasons": bool(data.reasons)})
    now = datetime.now(UTC)
    if state.kind == "pg":
        async with state.pool.acquire() as conn, conn.transaction():
            version = await conn.fetchval(UPDATE.format("$1", "$2"), data.position, data.voter_id)
            await conn.execute(INSERT.format("$1", "$2", "$3"), data.voter_id, payload, now)
    else:
        async with state.lock:
            conn = state.conn
            await conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = await conn.execute(UPDATE.format("?", "?"), (data.position, data.voter_id))
                row = await cursor.fetchone()
                version = row[0] if row else 0
                await conn.execute(INSERT.format("?", "?", "?"), (data.voter_id, payload, now.isoformat()))
                await conn.execute("COMMIT")
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
    return VoteOut(voter_id=data.voter_id, version=int(version or 0))


def create() -> Litestar:
    dsn = os.environ["BENCH_ANCHOR_DSN"]
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if dsn.startswith("postgresql"):
            import asyncpg

            app.state.kind = "pg"
            app.state.pool = await asyncpg.create_pool(dsn, min_size=5, max_size=20)
            try:
                yield
            finally:
                await app.state.pool.close()
        else:
            import aiosqlite

            app.state.kind = "sqlite"
            conn = await aiosqlite.connect(dsn, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=15000"):
                await conn.execute(f"PRAGMA {pragma}")
            app.state.conn = conn
            app.state.lock = asyncio.Lock()
            try:
                yield
            finally:
                await conn.close()

    return Litestar(route_handlers=[health, vote], state=State(state), lifespan=[lifespan])


async def prepare(dsn: str, voters: int) -> None:
    """Create the anchor's tables with `voters` rows (run by the harness before the server)."""
    if dsn.startswith("postgresql"):
        import asyncpg

        conn = await asyncpg.connect(dsn)
        try:
            for statement in SCHEMA_PG:
                await conn.execute(statement)
            await conn.execute("TRUNCATE bench_anchor_voter, bench_anchor_event")
            await conn.executemany(
                "INSERT INTO bench_anchor_voter VALUES ($1, 'approve', 0)", [(i,) for i in range(1, voters + 1)]
            )
        finally:
            await conn.close()
    else:
        import aiosqlite

        async with aiosqlite.connect(dsn) as conn:
            for statement in SCHEMA_SQLITE:
                await conn.execute(statement)
            await conn.execute("DELETE FROM bench_anchor_voter")
            await conn.execute("DELETE FROM bench_anchor_event")
            await conn.executemany(
                "INSERT INTO bench_anchor_voter VALUES (?, 'approve', 0)", [(i,) for i in range(1, voters + 1)]
            )
            await conn.commit()
