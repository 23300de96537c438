"""Waking the outbox relay when deliveries commit, instead of at its next poll.

Two signals, both only hints (the relay still polls, so a lost one costs latency, not a message):

* PostgreSQL: the writing transaction sends `NOTIFY ballotdesk_outbox`. PostgreSQL delivers it
  at commit and not at all on rollback, to relays in any process that `LISTEN`. Identical
  notifications of one transaction are folded into one, and `written` sends at most one anyway.
* In this process (the embedded mode's relay, SQLite): the `doorbell` rings after a commit that
  wrote deliveries. Thread-safe: the in-process worker's actors
  commit on dramatiq's event loop thread while the relay waits on the API's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.platform import dialect
from services.platform.db import after_commit

CHANNEL = "ballotdesk_outbox"
_WRITTEN = "ballotdesk.outbox_written"
_NOTIFY = select(func.pg_notify(CHANNEL, ""))


class Doorbell:
    """Wakes every relay of this process that waits on it, whichever event loop it runs on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}

    @contextmanager
    def subscribe(self, wake: asyncio.Event) -> Iterator[None]:
        """Set `wake` (on its own loop) whenever the bell rings, while the block runs."""
        key = id(wake)
        with self._lock:
            self._waiters[key] = (asyncio.get_running_loop(), wake)
        try:
            yield
        finally:
            with self._lock:
                self._waiters.pop(key, None)

    def ring(self) -> None:
        with self._lock:
            waiters = list(self._waiters.values())
        for loop, wake in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(wake.set)


doorbell = Doorbell()


async def written(session: AsyncSession) -> None:
    """Note that this transaction wrote deliveries: the relay is woken when it commits."""
    if session.info.get(_WRITTEN):
        return
    session.info[_WRITTEN] = True
    after_commit(session, doorbell.ring)
    if dialect.of(session).notifies:
        await session.execute(_NOTIFY)
