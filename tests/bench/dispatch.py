"""Event dispatch with Redis: from the commit of an event to the start of its consumer, through
the outbox relay and dramatiq's Redis broker; anchored by a plain dramatiq message sent straight
to the same worker (no database, no relay). Also the idle memory of that worker process."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import redis
from sqlalchemy import update

from schemas.events import CommentsSubmitted
from schemas.tables import Delivery
from schemas.types import utcnow
from services.platform import events
from services.platform.db import Database
from tests.bench import common, seed
from tests.bench.common import Measurement
from tests.bench.dispatch_worker import PINGS, READY, STARTS, ping_actor


async def _settle(world: seed.World) -> int:
    """A ballot to record events on; every older delivery marked done so the worker starts idle."""
    db = Database(common.PG_BENCH_URL)
    try:
        ballot_id = await seed.open_ballot(db, world, "DIS")
        async with db.transaction() as s:
            await s.execute(update(Delivery).where(Delivery.done_at.is_(None)).values(done_at=utcnow()))  # type: ignore[union-attr]
        return ballot_id
    finally:
        await db.dispose()


async def _produce(world: seed.World, ballot_id: int, n: int, gap: float) -> dict[int, float]:
    db = Database(common.PG_BENCH_URL)
    committed = {}
    try:
        for i in range(n):
            async with db.transaction() as s:
                event_id = await events.record(
                    s,
                    CommentsSubmitted(
                        ballot_id=ballot_id,
                        body=world.codes[i % len(world.codes)],
                        count=0,
                        set_version=1,
                        references=[],
                    ),
                    aggregate=f"ballot:{ballot_id}",
                    actor="bench",
                    now=utcnow(),
                    committee_id=world.committee_id,
                )
            committed[int(event_id or 0)] = time.time()
            await asyncio.sleep(gap * random.uniform(0.5, 1.5))
        return committed
    finally:
        await db.dispose()


def run(quick: bool, workdir: Path, world: seed.World) -> list[Measurement]:
    n, gap = (40, 0.02) if quick else (300, 0.03)
    client = redis.Redis.from_url(common.REDIS_URL)
    client.flushdb()
    ballot_id = asyncio.run(_settle(world))
    worker = common.spawn(
        [common.PYTHON, "-m", "tests.bench.dispatch_worker", common.PG_BENCH_URL, common.REDIS_URL],
        log=workdir / "dispatch_worker.log",
    )
    try:
        deadline = time.monotonic() + 30
        while not client.get(READY):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start (see {workdir / 'dispatch_worker.log'})")
            time.sleep(0.05)
        time.sleep(2.0)
        idle_rss = round(common.rss_mb(worker.pid), 1)

        # anchor: plain dramatiq messages, send → actor start
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=common.REDIS_URL)  # type: ignore[no-untyped-call]
        ping = ping_actor(broker)
        for _ in range(n):
            ping.send(time.time())
            time.sleep(gap * random.uniform(0.5, 1.5))
        deadline = time.monotonic() + 20
        while client.llen(PINGS) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        pings = [float(x) for x in client.lrange(PINGS, 0, -1)]
        broker.close()

        # the service path: commit → relay → Redis → consumer start
        committed = asyncio.run(_produce(world, ballot_id, n, gap))
        deadline = time.monotonic() + 30
        while client.llen(STARTS) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        started: dict[int, float] = {}
        for raw in client.lrange(STARTS, 0, -1):
            _consumer, event_id, at = raw.decode().split()
            started.setdefault(int(event_id), float(at))
    finally:
        common.stop(worker, timeout=30)
        common.flush_redis()
    latencies = [started[e] - t for e, t in committed.items() if e in started]
    missing = len(committed) - len(latencies)
    p99, p50 = common.percentile(latencies, 99), common.percentile(latencies, 50)
    ping99 = common.percentile(pings, 99)
    return [
        Measurement(
            "dispatch_redis_p99",
            round(p99 * 1000, 2),
            "ms",
            {"dramatiq_direct_p99": round(ping99 * 1000, 2)},
            {
                "events": len(committed),
                "missing": missing,
                "p50_ms": round(p50 * 1000, 2),
                "max_ms": round(max(latencies) * 1000, 2) if latencies else None,
                "anchor_p50_ms": round(common.percentile(pings, 50) * 1000, 2),
                "anchor_messages": len(pings),
                "relay": "woken by NOTIFY at commit (LISTEN), fallback poll every 1 s",
                "worker": "1 process x 2 threads, default prefetch",
            },
        ),
        Measurement("idle_rss_worker", idle_rss, "MB", {}, {"what": "VmRSS of the worker process 2 s after start"}),
    ]
