"""The frame of every command that touches the database: open it, run, close it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.platform.db import Database
from services.platform.settings import Settings

T = TypeVar("T")


def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the settings' database in an event loop of its own, and dispose of the
    database's engines afterwards, whatever happened."""

    async def run() -> T:
        db = Database.of(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())
