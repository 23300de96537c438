"""A Ballotdesk worker process (dramatiq threads + outbox relay, as `ballotdesk worker` runs one)
with two bench-only additions: the consumers' entry point is wrapped to push the time it starts
to Redis, and a `bench_ping` actor (the anchor) records how long a plain dramatiq message took."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

import dramatiq
import redis

STARTS = "bench:dispatch:starts"
PINGS = "bench:dispatch:pings"
READY = "bench:dispatch:ready"


def ping_actor(broker: dramatiq.Broker, client: Any = None) -> dramatiq.Actor:  # type: ignore[type-arg]
    def bench_ping(sent_at: float) -> None:
        if client is not None:
            client.rpush(PINGS, repr(time.time() - sent_at))

    return dramatiq.Actor(
        bench_ping, broker=broker, actor_name="bench_ping", queue_name="bench", priority=0, options={"max_retries": 0}
    )


def main() -> None:
    import sys

    from services.platform.settings import Settings
    from workers import runtime as runtime_module

    database_url, broker_url = sys.argv[1], sys.argv[2]
    logging.basicConfig(level=logging.WARNING)
    client = redis.Redis.from_url(broker_url)
    real = runtime_module.deliver

    async def timed(ctx: Any, consumer: str, event_id: int) -> None:
        client.rpush(STARTS, f"{consumer} {event_id} {time.time()!r}")
        await real(ctx, consumer, event_id)

    runtime_module.deliver = timed  # type: ignore[assignment]
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    runtime = runtime_module.Runtime(Settings(database_url=database_url, broker_url=broker_url))
    ping_actor(runtime.broker, client)
    runtime.start_worker(threads=2)
    background = runtime_module.BackgroundLoop()
    background.start(runtime.relay(background.stop))
    client.set(READY, "1")
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    background.shutdown()
    runtime.stop_worker()


if __name__ == "__main__":
    main()
