"""Wiring of the worker side: broker, actors, the in-process worker, the relay."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from datetime import timedelta

import dramatiq
from dramatiq.asyncio import get_event_loop_thread

from schemas.routing import QUEUES
from services.platform.db import Database
from services.platform.settings import Settings
from workers import relay
from workers.broker import make_broker
from workers.consumers import Context, deliver

log = logging.getLogger("ballotdesk.workers")

ACTOR_OPTIONS = {
    # Retries with back-off for passing faults (SMTP down, a deadlock); the relay re-sends later still.
    "events": {"max_retries": 8, "min_backoff": 2_000, "max_backoff": 300_000, "time_limit": 120_000},
    "documents": {"max_retries": 3, "min_backoff": 5_000, "max_backoff": 300_000, "time_limit": 900_000},
}


class Runtime:
    """One broker with its actors, bound to one database."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db or Database.of(settings)
        self.broker = make_broker(settings.broker_url)
        self.embedded = not settings.broker_url
        self.context = Context(db=self.db, settings=settings)
        self.actors: dict[str, dramatiq.Actor] = {}  # type: ignore[type-arg]
        for queue, options in ACTOR_OPTIONS.items():

            async def handle(consumer: str, event_id: int) -> None:
                await deliver(self.context, consumer, event_id)

            self.actors[queue] = dramatiq.Actor(
                handle,
                broker=self.broker,
                actor_name=f"ballotdesk_{queue}",
                queue_name=queue,
                priority=0,
                options=dict(options),
            )
        self.worker: dramatiq.Worker | None = None

    def send(self, consumer: str, event_id: int) -> None:
        self.actors[QUEUES[consumer]].send(consumer, event_id)

    def start_worker(self, threads: int = 2, prefetch: int | None = None) -> dramatiq.Worker:
        self.broker.emit_after("process_boot")
        worker = dramatiq.Worker(self.broker, worker_threads=threads, worker_timeout=100)
        if prefetch:
            worker.queue_prefetch = prefetch
        worker.start()
        self.worker = worker
        return worker

    def stop_worker(self, timeout: int = 30_000) -> None:
        if self.worker is not None:
            loop_thread = get_event_loop_thread()
            if loop_thread is not None:
                # The actors' engine belongs to dramatiq's loop: close its connections there.
                loop_thread.run_coroutine(self.db.dispose())
            self.worker.stop(timeout=timeout)
            self.worker = None
        self.broker.close()

    async def relay(self, stop: asyncio.Event, interval: float | None = None, *, dispose: bool = True) -> None:
        # The poll interval is the dispatch latency. PostgreSQL and a broker take 20 polls a second
        # easily; SQLite's polls take its write lock, so the embedded mode polls less often.
        if interval is None:
            interval = 0.2 if self.embedded else 0.05
        try:
            await relay.run(
                self.db,
                self.send,
                stop,
                interval=interval,
                redeliver_after=timedelta(seconds=self.settings.redeliver_seconds),
                redeliver_at_start=self.embedded,
            )
        finally:
            if dispose:
                await self.db.dispose()


class BackgroundLoop:
    """An event loop in a thread, for running the relay beside dramatiq's own threads."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ballotdesk-relay", daemon=True)
        self.tasks: list[concurrent.futures.Future[None]] = []

    def start(self, *coroutines: object) -> None:
        self.thread.start()
        for coroutine in coroutines:
            self.tasks.append(asyncio.run_coroutine_threadsafe(coroutine, self.loop))  # type: ignore[arg-type]

    def shutdown(self, timeout: float = 10.0) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        for task in self.tasks:
            try:
                task.result(timeout=timeout)
            except Exception:
                log.exception("background task ended with an error")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=timeout)
