"""The outbox relay starts a round when deliveries commit, not only when its poll comes round.

The relays here poll every 60 s, so a delivery handed over within a few seconds was woken for:
by the in-process doorbell (any database), or by PostgreSQL's NOTIFY from another process's
commit (simulated by committing outside `Database.transaction`, which is what rings the bell).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.events import CommentsSubmitted
from schemas.types import utcnow
from services.platform import events
from services.platform.db import RECORD_KEY, Database
from services.rules.actors import system_actor
from workers import relay

POLL = 60.0

TESTER = system_actor("test")


def _payload(n: int) -> CommentsSubmitted:
    # "comments.submitted" has a consumer (collation), so recording it writes a delivery.
    return CommentsSubmitted(ballot_id=1, body="DE", count=n, set_version=n, references=[])


class Relay:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.sent: list[tuple[str, int, float]] = []
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def send(self, consumer: str, event_id: int) -> None:
        self.sent.append((consumer, event_id, time.monotonic()))

    async def handed_over(self, event_id: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, sent_id, at in self.sent:
                if sent_id == event_id:
                    return at
            await asyncio.sleep(0.01)
        raise AssertionError(f"event {event_id} was not handed over within {timeout} s (poll is {POLL} s)")


@pytest.fixture
async def running(db: Database) -> AsyncIterator[Relay]:
    r = Relay(db)
    r.task = asyncio.create_task(relay.run(db, r.send, r.stop, interval=POLL))
    await asyncio.sleep(0.5)  # its first (empty) round is over: it now waits
    yield r
    r.stop.set()
    await asyncio.wait_for(r.task, timeout=10)


async def test_a_commit_in_this_process_wakes_the_relay(running: Relay, db: Database) -> None:
    for n in (1, 2):
        async with db.transaction() as session:
            event_id = await events.record(session, _payload(n), aggregate="ballot:1", actor=TESTER, now=utcnow())
        committed = time.monotonic()
        handed = await running.handed_over(event_id, timeout=5)
        assert handed - committed < 5
    assert [s[0] for s in running.sent] == ["collation", "collation"]


async def test_a_rolled_back_write_wakes_nobody_and_sends_nothing(running: Relay, db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await events.record(session, _payload(1), aggregate="ballot:1", actor=TESTER, now=utcnow())
            raise RuntimeError("the use case failed")
    await asyncio.sleep(1.0)
    assert running.sent == []


@pytest.mark.postgres
async def test_a_commit_elsewhere_wakes_the_relay_through_notify(postgres_url: str) -> None:
    db, other = Database(postgres_url), Database(postgres_url)  # another engine, as another process has
    r = Relay(db)
    task = asyncio.create_task(relay.run(db, r.send, r.stop, interval=POLL))
    try:
        await asyncio.sleep(0.5)
        # Committed without Database.transaction, so the in-process doorbell stays silent.
        async with AsyncSession(other.engine(), info={RECORD_KEY: other.record_key}) as session, session.begin():
            event_id = await events.record(session, _payload(1), aggregate="ballot:1", actor=TESTER, now=utcnow())
        committed = time.monotonic()
        handed = await r.handed_over(event_id, timeout=5)
        assert handed - committed < 5
    finally:
        r.stop.set()
        await asyncio.wait_for(task, timeout=10)
        await other.dispose()
        await db.dispose()
