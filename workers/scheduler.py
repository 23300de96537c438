"""Time-driven work: ballots opening and closing on time, reminders before deadlines."""

from __future__ import annotations

import asyncio
import logging

from services.platform.db import Database
from services.usecases import deadlines
from workers.relay import pause

log = logging.getLogger("ballotdesk.scheduler")


async def run(db: Database, stop: asyncio.Event, interval: float = 15.0) -> None:
    """Sweep until `stop` is set. Any number of schedulers may run: each ballot is handled once."""
    while not stop.is_set():
        try:
            done = await deadlines.sweep(db)
            for ballot_id in done.opened:
                log.info("ballot %s opened at its scheduled time", ballot_id)
            for ballot_id in done.closed:
                log.info("ballot %s closed at its deadline", ballot_id)
            for ballot_id, days in done.reminded:
                log.info("ballot %s: %s-day reminder scheduled", ballot_id, days)
        except Exception:
            log.exception("scheduler sweep failed; retrying")
        await pause(stop, interval)
