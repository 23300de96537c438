"""What the outbox relay waits on between rounds: a commit that wrote deliveries, or its poll.

On PostgreSQL the relay keeps one pooled connection that LISTENs on `outbox.CHANNEL`; in every
process it also answers the in-process doorbell. A connection lost (a database restart) is
replaced at the next round, at most every `RETRY_SECONDS`; meanwhile the poll alone carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.platform import outbox
from services.platform.db import Database

log = logging.getLogger("ballotdesk.relay")
RETRY_SECONDS = 5.0


class Wakeup:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.bell = asyncio.Event()
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # the asyncpg connection that LISTENs
        self._tried_at = float("-inf")
        self._subscription: contextlib.ExitStack | None = None

    @property
    def listening(self) -> bool:
        return self._driver is not None and not self._driver.is_closed()

    async def __aenter__(self) -> Wakeup:
        self._subscription = contextlib.ExitStack()
        self._subscription.enter_context(outbox.doorbell.subscribe(self.bell))
        await self.ensure_listening()
        return self

    async def __aexit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        if self._subscription is not None:
            self._subscription.close()
        await self._unlisten()

    async def ensure_listening(self) -> None:
        if not self.db.sql.notifies or self.listening:
            return
        if time.monotonic() - self._tried_at < RETRY_SECONDS:
            return
        self._tried_at = time.monotonic()
        await self._unlisten()
        try:
            connection = await self.db.engine().connect()
            try:
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.add_listener(outbox.CHANNEL, self._notified)
            except BaseException:
                await connection.close()
                raise
        except Exception as exc:  # the poll still runs; try again later
            log.warning("cannot LISTEN for outbox notifications (polling only): %s", exc)
            return
        self._connection, self._driver = connection, driver

    def _notified(self, *_: object) -> None:
        self.bell.set()

    async def _unlisten(self) -> None:
        connection, driver = self._connection, self._driver
        self._connection = self._driver = None
        if driver is not None and not driver.is_closed():
            with contextlib.suppress(Exception):
                await driver.remove_listener(outbox.CHANNEL, self._notified)
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until the bell rings, `stop` is set, or `seconds` pass."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.bell.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
