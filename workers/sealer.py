"""The sealer loop: chains committed events into the hash chain (`services.usecases.ledger`), a batch a
round, then writes the webhook deliveries of what it chained (`services.usecases.webhooks`). It runs
beside every outbox relay and in the scheduler; any number may run, since on PostgreSQL only the one
holding the advisory lock seals and the others skip the round."""

from __future__ import annotations

import asyncio
import logging

from schemas.types import utcnow
from services.platform.db import Database
from services.usecases import ledger, webhooks
from workers.relay import pause

log = logging.getLogger("ballotdesk.sealer")


async def run(db: Database, stop: asyncio.Event, interval: float = 1.0) -> None:
    """Seal until `stop` is set; a full batch is followed at once by the next."""
    while not stop.is_set():
        try:
            async with db.transaction() as session:
                done = await ledger.seal_batch(session)
            # Its own transaction: a fault in the webhooks' fan-out never holds up the chain.
            async with db.transaction() as session:
                fanned = await webhooks.fan_out(session, utcnow())
            if done == ledger.SEAL_BATCH or fanned:
                continue
        except Exception:
            log.exception("sealing round failed; retrying")
        await pause(stop, interval)
