"""Closing a DIS ballot: 170 bodies voting (with earlier, overridden votes) and 20,000 comments;
the close use case only (tally, result, stage event), no document generation."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from schemas.tables import Ballot
from schemas.types import utcnow
from services.platform.db import Database
from services.usecases import ballots
from tests.bench import common, seed
from tests.bench.common import Measurement


async def _run(world: seed.World, comments: int, repeats: int) -> dict[str, object]:
    db = Database(common.PG_BENCH_URL)
    try:
        times = []
        for _ in range(repeats):
            ballot_id = await seed.open_ballot(db, world, "DIS")
            await seed.insert_votes(db, world, ballot_id, changes=3)
            await seed.insert_comments(db, ballot_id, seed.comment_rows(comments, world.codes))
            async with db.transaction() as s:  # warm the pool and the statement caches
                await s.execute(select(func.count()).select_from(Ballot))
            started = time.perf_counter()
            async with db.transaction() as s:
                ballot = await ballots.close_ballot(s, world.secretary or "bench", ballot_id, utcnow())
            times.append(time.perf_counter() - started)
            assert ballot.status == "closed", ballot.status
        times.sort()
        return {"seconds": times[len(times) // 2], "runs": [round(t, 4) for t in times], "approved": ballot.approved}
    finally:
        await db.dispose()


def run(quick: bool, world: seed.World) -> list[Measurement]:
    comments, repeats = (2000, 1) if quick else (20000, 3)
    result = asyncio.run(_run(world, comments, repeats))
    return [
        Measurement(
            "close_170_20000",
            round(float(result["seconds"]), 4),  # type: ignore[arg-type]
            "s",
            {},
            {"bodies": len(world.codes), "comments": comments, "votes_per_body": 3, **result},
        )
    ]
