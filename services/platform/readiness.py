"""Is this process able to serve: the database answers and the broker accepts connections."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text

from services.platform.db import Database
from services.platform.logs import redact

TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


async def database(db: Database) -> Check:
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS), db.engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        return Check("database", False, _describe(exc))
    return Check("database", True)


async def broker(url: str) -> Check:
    if not url:
        return Check("broker", True, "in-process")
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            if url.startswith(("amqp://", "amqps://")):
                await asyncio.to_thread(_amqp_reachable, url)
            else:
                await _redis_reachable(url)
    except Exception as exc:
        return Check("broker", False, _describe(exc))
    return Check("broker", True)


async def _redis_reachable(url: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        await client.ping()
    finally:
        await client.aclose()


def _amqp_reachable(url: str) -> None:
    # A full AMQP handshake: credentials and virtual host are checked too, not just the port.
    import pika  # type: ignore[import-untyped]

    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = TIMEOUT_SECONDS
    parameters.blocked_connection_timeout = TIMEOUT_SECONDS
    pika.BlockingConnection(parameters).close()


def _describe(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return redact(f"{type(exc).__name__}: {message}")[:300]


async def check(db: Database, broker_url: str) -> list[Check]:
    return list(await asyncio.gather(database(db), broker(broker_url)))
