"""Sends due webhook deliveries: claims a batch (leased, so workers in several processes share
them), POSTs each signed as Standard Webhooks says, and records every attempt and what follows."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import msgspec

from schemas.types import utcnow
from services.platform import webhook_http
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules import webhooks as rules
from services.usecases import webhooks
from services.views import presenters
from workers.relay import pause

log = logging.getLogger("ballotdesk.webhooks")
AT_ONCE = 8


def body_of(job: webhooks.Job) -> bytes:
    event = presenters.event_out(job.event)
    return msgspec.json.encode({"type": event.type, "timestamp": event.occurred_at, "data": event})


async def send(job: webhooks.Job, policy: webhook_http.Policy) -> webhook_http.Outcome:
    body = body_of(job)
    now = utcnow()
    # Stable across retries of one event to one endpoint: receivers dedupe on it.
    message_id = f"msg_{job.webhook_id}_{job.event.id}"
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook_http.sign(job.secret, message_id, now, body),
        "user-agent": "Ballotdesk-Webhooks/1",
    }
    return await webhook_http.post(job.url, body, headers, policy)


async def run(db: Database, settings: Settings, stop: asyncio.Event, interval: float = 1.0) -> None:
    policy = webhook_http.Policy.of(settings)
    schedule = rules.parse_schedule(settings.webhook_retry_schedule)
    disable_after = timedelta(hours=settings.webhook_disable_after_hours)
    slots = asyncio.Semaphore(AT_ONCE)

    async def one(job: webhooks.Job) -> None:
        async with slots:
            outcome = await send(job, policy)
        await webhooks.record_outcome(db, job, outcome, utcnow(), schedule=schedule, disable_after=disable_after)
        log.info(
            "webhook %s, event %s, attempt %s: %s",
            job.webhook_id,
            job.event.id,
            job.attempt,
            outcome.status_code or outcome.error,
        )

    while not stop.is_set():
        try:
            jobs = await webhooks.claim_due(db, utcnow())
            if jobs:
                await asyncio.gather(*(one(j) for j in jobs))
                continue
        except Exception:
            log.exception("webhook round failed; retrying")
        await pause(stop, interval)
