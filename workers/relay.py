"""The outbox relay: hands committed deliveries to the broker.

Pending rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so relays in several
processes share the work. A row dispatched but not done after `redeliver_after` is sent again
(a message lost with a broker's memory, a worker killed mid-way); consumers ignore repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import col, select

from schemas.tables import Delivery, Event
from schemas.types import utcnow
from services.platform.db import Database
from workers.wakeup import Wakeup

log = logging.getLogger("ballotdesk.relay")
Send = Callable[[str, int], None]
LISTENING_POLL = 1.0


async def relay_once(db: Database, send: Send, *, dispatched_before: datetime, batch: int = 500) -> int:
    """Dispatch one batch of new deliveries and of those dispatched before `dispatched_before` but
    still not done; returns how many were handed over. Stops at the first broker error."""
    now = utcnow()
    sent = 0
    async with db.transaction() as session:
        query = (
            select(Delivery, Event.request_id)
            .join(Event, col(Event.id) == col(Delivery.event_id))
            .where(
                col(Delivery.done_at).is_(None),
                or_(col(Delivery.dispatched_at).is_(None), col(Delivery.dispatched_at) < dispatched_before),
            )
            .order_by(col(Delivery.event_id))
            .limit(batch)
            .with_for_update(skip_locked=True, of=Delivery)
        )
        rows = list((await session.execute(query)).all())
        for row, request_id in rows:
            try:
                send(row.consumer, row.event_id)
            except Exception as exc:  # the broker is down: keep the rest for the next round
                log.warning("broker unavailable, %d deliveries wait: %s", len(rows) - sent, exc)
                break
            log.debug("dispatched %s of event %s", row.consumer, row.event_id, extra={"request_id": request_id})
            row.dispatched_at = now
            row.attempts += 1
            session.add(row)
            sent += 1
    return sent


async def run(
    db: Database,
    send: Send,
    stop: asyncio.Event,
    *,
    interval: float = 0.2,
    redeliver_after: timedelta = timedelta(minutes=5),
    redeliver_at_start: bool = False,
) -> None:
    """Relay until `stop` is set. `redeliver_at_start`: the broker kept nothing (in-process).

    A round starts when a commit wrote deliveries (NOTIFY on PostgreSQL, the in-process doorbell)
    or after `interval`; while LISTENing, the poll is only a fallback and runs at most every
    `LISTENING_POLL` seconds."""
    started = utcnow()
    async with Wakeup(db) as wakeup:
        while not stop.is_set():
            wakeup.bell.clear()  # before the round: a commit during it starts the next one
            try:
                await wakeup.ensure_listening()
                cutoff = utcnow() - redeliver_after
                if redeliver_at_start:
                    cutoff = max(cutoff, started)
                if await relay_once(db, send, dispatched_before=cutoff):
                    continue
            except Exception:
                log.exception("relay round failed; retrying")
            await wakeup.wait(stop, max(interval, LISTENING_POLL) if wakeup.listening else interval)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
