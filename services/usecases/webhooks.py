"""Webhook subscriptions and their deliveries (issue #15 §1–4).

Deliveries are derived from the hash chain, not written on every request: `fan_out` runs in the
sealer's transaction, reads the events it has just chained (the chain position is gapless and in
commit order, so nothing is skipped or seen twice), and writes one delivery per webhook that
wants the event and whose owner may see it. Votes keep their one-statement path; an event is
never sent before it is part of the tamper-evident record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import Role
from schemas.events import WebhookDeleted, WebhookDisabled, WebhookRegistered, WebhookSecretRotated
from schemas.tables import (
    Event,
    Webhook,
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
)
from services.platform import events, webhook_http
from services.platform.db import Database, insert_ignore
from services.rules import event_visibility as visibility
from services.rules import webhooks as rules
from services.rules.actors import Principal, is_secretary, system_actor
from services.rules.errors import Forbidden, InvalidInput, NotFound
from services.usecases import committees, event_access

FAN_OUT_BATCH = 500
# A claimed delivery is not claimed again for this long: longer than one POST may take.
LEASE = timedelta(seconds=60)
_DELIVERY = system_actor("webhooks")


def _aggregate(webhook_id: int) -> str:
    return f"webhook:{webhook_id}"


async def register(
    session: AsyncSession, principal: Principal, data: api.WebhookIn, policy: webhook_http.Policy, now: datetime
) -> tuple[Webhook, str]:
    """A new subscription and its secret (shown once)."""
    # What a webhook receives is what its owner may read (services.rules.event_visibility).
    secretary = data.committee_id is not None and is_secretary(
        principal, await committees.chain(session, data.committee_id)
    )
    if not (principal.is_admin or secretary or principal.bodies(Role.DELEGATE, Role.COMMENTER)):
        if principal.committees(Role.SECRETARY):
            raise Forbidden("A secretary registers webhooks for a committee of theirs: give its committee_id.")
        raise Forbidden("Only an administrator, a committee's secretary or a delegate may register webhooks.")
    try:
        await webhook_http.checked_addresses(data.url, policy)
    except webhook_http.Refused as exc:
        raise InvalidInput(str(exc), field="url") from None
    secret = webhook_http.new_secret()
    head = (await session.execute(sa_select(func.max(col(Event.id))))).scalar_one()
    hook = Webhook(
        url=data.url,
        events=sorted(set(data.events)),
        committee_id=data.committee_id,
        description=data.description,
        secret=webhook_http.seal_secret(events.key_of(session), secret),
        owner_id=principal.user_id,
        owner=principal.label,
        created_at=now,
        start_event_id=int(head or 0),
    )
    session.add(hook)
    await session.flush()
    assert hook.id is not None
    await events.record(
        session,
        WebhookRegistered(webhook_id=hook.id, url=hook.url, events=hook.events, committee_id=hook.committee_id),
        aggregate=_aggregate(hook.id),
        actor=principal,
        now=now,
        committee_id=hook.committee_id,
    )
    return hook, secret


async def list_webhooks(session: AsyncSession, principal: Principal) -> list[Webhook]:
    query = select(Webhook).where(col(Webhook.deleted_at).is_(None)).order_by(col(Webhook.id))
    if not principal.is_admin:
        query = query.where(col(Webhook.owner_id) == principal.user_id)
    return list((await session.execute(query)).scalars())


async def get_webhook(session: AsyncSession, principal: Principal, webhook_id: int, *, lock: bool = False) -> Webhook:
    hook = await session.get(Webhook, webhook_id, with_for_update=lock or None, populate_existing=lock)
    mine = hook is not None and (
        principal.is_admin or (hook.owner_id is not None and hook.owner_id == principal.user_id)
    )
    if hook is None or hook.deleted_at is not None or not mine:
        raise NotFound(f"There is no webhook {webhook_id}.")
    return hook


def _owns(principal: Principal, hook: Webhook) -> bool:
    return hook.owner_id is not None and hook.owner_id == principal.user_id


async def delete(session: AsyncSession, principal: Principal, webhook_id: int, now: datetime) -> None:
    hook = await get_webhook(session, principal, webhook_id, lock=True)
    hook.deleted_at, hook.active = now, False
    session.add(hook)
    await _drop_pending(session, webhook_id, now)
    await events.record(
        session, WebhookDeleted(webhook_id=webhook_id), aggregate=_aggregate(webhook_id), actor=principal, now=now,
        committee_id=hook.committee_id,
    )  # fmt: skip


async def rotate_secret(session: AsyncSession, principal: Principal, webhook_id: int, now: datetime) -> str:
    hook = await get_webhook(session, principal, webhook_id, lock=True)
    secret = webhook_http.new_secret()
    hook.secret = webhook_http.seal_secret(events.key_of(session), secret)
    session.add(hook)
    await events.record(
        session, WebhookSecretRotated(webhook_id=webhook_id), aggregate=_aggregate(webhook_id), actor=principal,
        now=now, committee_id=hook.committee_id,
    )  # fmt: skip
    return secret


async def attempts(
    session: AsyncSession, principal: Principal, webhook_id: int, limit: int = 100
) -> list[tuple[WebhookAttempt, WebhookDelivery, str]]:
    """The latest attempts first, each with its delivery and its event's type."""
    await get_webhook(session, principal, webhook_id)
    query = (
        sa_select(WebhookAttempt, WebhookDelivery, col(Event.type))
        .join(WebhookDelivery, col(WebhookDelivery.id) == col(WebhookAttempt.delivery_id))
        .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
        .where(col(WebhookDelivery.webhook_id) == webhook_id)
        .order_by(col(WebhookAttempt.id).desc())
        .limit(limit)
    )
    return [(a, d, str(t)) for a, d, t in (await session.execute(query)).all()]


# --- fan-out, in the sealer's transaction -----------------------------------------------------------


async def fan_out(session: AsyncSession, now: datetime) -> int:
    """Write the deliveries of the events chained since the last call; returns how many."""
    cursor = await session.get(WebhookCursor, 1, with_for_update=True)
    if cursor is None:
        # Sealers in several processes may get here at once: one row, whoever writes it.
        await insert_ignore(session, WebhookCursor, {"id": 1, "seq": 0})
        cursor = await session.get(WebhookCursor, 1, with_for_update=True, populate_existing=True)
        assert cursor is not None
    head = int((await session.execute(sa_select(func.max(col(Event.chain_seq))))).scalar_one() or 0)
    if head <= cursor.seq:
        return 0
    hooks = list(
        (
            await session.execute(
                select(Webhook).where(col(Webhook.active).is_(True), col(Webhook.deleted_at).is_(None))
            )
        ).scalars()
    )
    if not hooks:
        cursor.seq = head
        session.add(cursor)
        return 0
    rows = list(
        (
            await session.execute(
                select(Event)
                .where(col(Event.chain_seq) > cursor.seq)
                .order_by(col(Event.chain_seq))
                .limit(FAN_OUT_BATCH)
            )
        ).scalars()
    )
    parents = await committees.parents(session)
    readers = {h.id: await event_access.reader_of_user(session, h.owner_id) for h in hooks}
    scopes = {
        h.id: visibility.offices_with_subgroups({h.committee_id}, parents) if h.committee_id else None for h in hooks
    }
    facts = event_access.Facts()
    deliveries: list[dict[str, Any]] = []
    for event in rows:
        for hook in hooks:
            scope = scopes[hook.id]
            if int(event.id or 0) <= hook.start_event_id or not rules.wants(hook.events, event.type):
                continue
            if scope is not None and event.committee_id not in scope:
                continue
            if await event_access.sees(session, readers[hook.id], event, facts):
                deliveries.append(
                    {"webhook_id": hook.id, "event_id": event.id, "created_at": now, "next_attempt_at": now}
                )
    if deliveries:
        await session.execute(insert(WebhookDelivery), deliveries)
    cursor.seq = int(rows[-1].chain_seq or cursor.seq) if rows else head
    session.add(cursor)
    return len(deliveries)


# --- sending, by the workers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    delivery_id: int
    webhook_id: int
    url: str
    secret: str
    event: Event
    attempt: int


async def claim_due(db: Database, now: datetime, limit: int = 50) -> list[Job]:
    """Due deliveries, leased to this worker (others skip them until the lease ends)."""
    async with db.transaction() as session:
        query = (
            select(WebhookDelivery, Webhook, Event)
            .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
            .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
            .where(
                col(WebhookDelivery.done_at).is_(None),
                col(WebhookDelivery.next_attempt_at) <= now,
                col(Webhook.active).is_(True),
            )
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        found = list((await session.execute(query)).all())
        key = events.key_of(session)
        jobs = []
        for delivery, hook, event in found:
            delivery.attempts += 1
            delivery.next_attempt_at = now + LEASE
            session.add(delivery)
            jobs.append(
                Job(
                    delivery_id=int(delivery.id or 0),
                    webhook_id=int(hook.id or 0),
                    url=hook.url,
                    secret=webhook_http.open_secret(key, hook.secret),
                    event=event,
                    attempt=delivery.attempts,
                )
            )
    return jobs


async def record_outcome(
    db: Database,
    job: Job,
    outcome: webhook_http.Outcome,
    now: datetime,
    *,
    schedule: tuple[float, ...] = rules.RETRY_SCHEDULE,
    disable_after: timedelta = rules.DISABLE_AFTER,
) -> None:
    """The attempt, and what follows: done, tried again later, failed, or the webhook disabled."""
    async with db.transaction() as session:
        delivery = await session.get(WebhookDelivery, job.delivery_id, with_for_update=True)
        hook = await session.get(Webhook, job.webhook_id, with_for_update=True)
        if delivery is None or hook is None:
            return
        retry = None if outcome.succeeded else rules.retry_at(delivery.attempts, now, schedule)
        session.add(
            WebhookAttempt(
                delivery_id=job.delivery_id,
                attempted_at=now,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
                next_attempt_at=retry,
            )
        )
        if outcome.succeeded:
            delivery.status, delivery.done_at, delivery.next_attempt_at = "succeeded", now, None
            hook.failing_since = None
        else:
            if retry is None:
                delivery.status, delivery.done_at, delivery.next_attempt_at = "failed", now, None
            else:
                delivery.next_attempt_at = retry
            hook.failing_since = hook.failing_since or now
            if hook.active and now - hook.failing_since >= disable_after:
                await _disable(session, hook, now)
        session.add(delivery)
        session.add(hook)


async def _disable(session: AsyncSession, hook: Webhook, now: datetime) -> None:
    assert hook.id is not None and hook.failing_since is not None
    hook.active, hook.disabled_at = False, now
    await _drop_pending(session, hook.id, now)
    reason = f"no delivery succeeded since {hook.failing_since:%Y-%m-%d %H:%M} UTC"
    await events.record(
        session,
        WebhookDisabled(
            webhook_id=hook.id, url=hook.url, owner=hook.owner, failing_since=hook.failing_since.isoformat(),
            reason=reason,
        ),
        aggregate=_aggregate(hook.id),
        actor=_DELIVERY,
        now=now,
        committee_id=hook.committee_id,
    )  # fmt: skip


async def _drop_pending(session: AsyncSession, webhook_id: int, now: datetime) -> None:
    await session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.webhook_id) == webhook_id, col(WebhookDelivery.done_at).is_(None))
        .values(status="dropped", done_at=now, next_attempt_at=None)
    )
