"""What each consumer does with an event. One delivery, one transaction, marked done in it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import BallotStatus
from schemas.events import NotificationFailed, NotificationSent
from schemas.routing import COMMENT_CONTENT
from schemas.tables import Ballot, Delivery, Document, Event
from schemas.types import utcnow
from services.platform import events, requestid
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules.actors import COLLATION, MAILER
from services.usecases import collation, notifications
from workers import mail

log = logging.getLogger("ballotdesk.workers")


@dataclass
class Context:
    db: Database
    settings: Settings


async def _claim(session: AsyncSession, event_id: int, consumer: str, now: datetime) -> bool:
    """Mark the delivery done; False when another delivery of the same message got there first."""
    result = await session.execute(
        update(Delivery)
        .where(col(Delivery.event_id) == event_id, col(Delivery.consumer) == consumer, col(Delivery.done_at).is_(None))
        .values(done_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def on_collation(ctx: Context, session: AsyncSession, event: Event) -> None:
    """Request the table and report at close; a newer version when comments change afterwards."""
    ballot = await session.get(Ballot, event.payload["ballot_id"])
    if ballot is None:
        return
    now = utcnow()
    if event.type == "ballot.closed":
        await collation.request(session, COLLATION, ballot, collation.COMMENT_TABLE, "clause", now)
        await collation.request(session, COLLATION, ballot, collation.REPORT, "", now)
        return
    if event.type in COMMENT_CONTENT and ballot.status == BallotStatus.CLOSED.value:
        # After close, keep the tables that exist current (while open they are built on demand).
        variants = (
            await session.execute(
                select(Document.variant)
                .where(Document.ballot_id == ballot.id, Document.kind == collation.COMMENT_TABLE)
                .distinct()
            )
        ).scalars()
        for variant in sorted(set(variants)):
            await collation.request(session, COLLATION, ballot, collation.COMMENT_TABLE, variant, now)


async def on_mail(ctx: Context, session: AsyncSession, event: Event) -> None:
    mails = await notifications.mails_for(
        session, event, ctx.settings.public_url, say_decisive=ctx.settings.reminder_says_decisive
    )
    if not mails:
        return
    assert event.id is not None
    transport = await asyncio.to_thread(mail.send, ctx.settings.smtp_url, ctx.settings.mail_from, mails)
    await events.record(
        session,
        NotificationSent(cause_event_id=event.id, subject=mails[0].subject, recipients=len(mails), transport=transport),
        aggregate=event.aggregate,
        actor=MAILER,
        now=utcnow(),
        committee_id=event.committee_id,
    )


HANDLERS: dict[str, Callable[[Context, AsyncSession, Event], Awaitable[None]]] = {
    "collation": on_collation,
    "mailer": on_mail,
}


async def deliver(ctx: Context, consumer: str, event_id: int) -> None:
    """Handle one delivery; safe to call any number of times for the same one. Logs, and records
    its own events, under the request id of the event it handles."""
    token = requestid.current.set(None)
    try:
        await _deliver(ctx, consumer, event_id)
    finally:
        requestid.current.reset(token)


async def _deliver(ctx: Context, consumer: str, event_id: int) -> None:
    if consumer == "builder":
        await _build(ctx, event_id)
        return
    handler = HANDLERS[consumer]
    try:
        async with ctx.db.transaction() as session:
            if not await _claim(session, event_id, consumer, utcnow()):
                return
            event = await session.get(Event, event_id)
            assert event is not None
            requestid.current.set(event.request_id)
            await handler(ctx, session, event)
        log.info("%s handled event %s (%s)", consumer, event_id, event.type)
    except mail.Unsendable as exc:
        # Retrying would fail the same way for ever: recorded once, and the delivery is done.
        await _record_mail_failure(ctx, event_id, str(exc), final=True)
    except mail.MailError as exc:
        await _record_mail_failure(ctx, event_id, str(exc))
        raise


async def _build(ctx: Context, event_id: int) -> None:
    """Documents take seconds: built outside the delivery's transaction, stored conditionally."""
    async with ctx.db.transaction() as session:
        delivery = await session.get(Delivery, (event_id, "builder"))
        event = await session.get(Event, event_id)
        if delivery is None or delivery.done_at is not None or event is None:
            return
        document_id = int(event.payload["document_id"])
        requestid.current.set(event.request_id)
    # A build takes seconds: this line tells an operator (and the crash test) one is in progress.
    log.info("builder starts document %s (event %s)", document_id, event_id)
    await collation.build(ctx.db, document_id)
    async with ctx.db.transaction() as session:
        await _claim(session, event_id, "builder", utcnow())
    log.info("builder handled event %s: document %s", event_id, document_id)


async def _record_mail_failure(ctx: Context, event_id: int, error: str, *, final: bool = False) -> None:
    async with ctx.db.transaction() as session:
        if final and not await _claim(session, event_id, "mailer", utcnow()):
            return  # another delivery of the same message recorded it
        event = await session.get(Event, event_id)
        delivery = await session.get(Delivery, (event_id, "mailer"))
        if event is None:
            return
        mails = await notifications.mails_for(
            session, event, ctx.settings.public_url, say_decisive=ctx.settings.reminder_says_decisive
        )
        await events.record(
            session,
            NotificationFailed(
                cause_event_id=event_id,
                subject=mails[0].subject if mails else "",
                recipients=len(mails),
                error=error[:500],
                attempt=delivery.attempts if delivery else 0,
            ),
            aggregate=event.aggregate,
            actor=MAILER,
            now=utcnow(),
            committee_id=event.committee_id,
        )
    log.warning("e-mail for event %s failed (will retry): %s", event_id, error)
