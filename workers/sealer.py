"""The sealer loop: chains committed events into the hash chain (`services.usecases.ledger`), a batch a
round. It runs beside every outbox relay and in the scheduler; any number may run, since on
PostgreSQL only the one holding the advisory lock seals and the others skip the round."""

from __future__ import annotations

import asyncio
import logging

from services.platform.db import Database
from services.usecases import ledger
from workers.relay import pause

log = logging.getLogger("ballotdesk.sealer")


async def run(db: Database, stop: asyncio.Event, interval: float = 1.0) -> None:
    """Seal until `stop` is set; a full batch is followed at once by the next."""
    while not stop.is_set():
        try:
            async with db.transaction() as session:
                done = await ledger.seal_batch(session)
            if done == ledger.SEAL_BATCH:
                continue
        except Exception:
            log.exception("sealing round failed; retrying")
        await pause(stop, interval)
