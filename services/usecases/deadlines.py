"""Ballots open and close on time: the sweep that the scheduler (or the embedded server) runs.

Each ballot is handled in its own transaction with a conditional status check, so several
sweepers may run at once and each ballot still opens and closes exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import BallotStatus
from schemas.events import ReminderDue
from schemas.tables import Ballot, Reminder
from schemas.types import utcnow
from services.platform import events
from services.platform.db import Database, insert_ignore
from services.rules.actors import DEADLINE, REMINDERS, SCHEDULED_OPENING
from services.rules.errors import DomainError
from services.rules.reminders import REMINDER_DAYS, reminders_due
from services.usecases import ballots

log = logging.getLogger("ballotdesk.deadlines")


@dataclass
class Sweep:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    reminded: list[tuple[int, int]] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


async def schedule_reminders(session: AsyncSession, now: datetime) -> list[tuple[int, int]]:
    """Record each due reminder once (several schedulers may run this at the same moment)."""
    window = now + timedelta(days=max(REMINDER_DAYS))
    open_ballots = (
        await session.execute(
            select(Ballot).where(
                Ballot.status == BallotStatus.OPEN.value, col(Ballot.closes_at) > now, col(Ballot.closes_at) <= window
            )
        )
    ).scalars()
    announced = []
    for ballot in list(open_ballots):
        assert ballot.id is not None and ballot.opened_at is not None
        already = set(
            (
                await session.execute(
                    select(Reminder.days_before).where(
                        Reminder.ballot_id == ballot.id, col(Reminder.closes_at) == ballot.closes_at
                    )
                )
            ).scalars()
        )
        mark, announce = reminders_due(ballot.opened_at, ballot.closes_at, now, already)
        for days in sorted(mark, reverse=True):
            inserted = await insert_ignore(
                session,
                Reminder,
                {"ballot_id": ballot.id, "closes_at": ballot.closes_at, "days_before": days, "created_at": now},
            )
            if inserted and days == announce:
                await events.on_ballot(
                    session,
                    ballot,
                    ReminderDue(ballot_id=ballot.id, days_before=days, closes_at=ballot.closes_at.isoformat()),
                    actor=REMINDERS,
                    now=now,
                )
                announced.append((ballot.id, days))
    return announced


async def sweep(db: Database, batch: int = 50) -> Sweep:
    done = Sweep()
    now = utcnow()
    async with db.transaction() as session:
        to_open = list(
            (
                await session.execute(
                    select(Ballot.id)
                    .where(
                        Ballot.status == BallotStatus.DRAFT.value,
                        col(Ballot.opens_at).is_not(None),
                        col(Ballot.opens_at) <= now,
                    )
                    .limit(batch)
                )
            ).scalars()
        )
        to_close = await ballots.due_ballots(session, now, batch)
    for ballot_id in to_open:
        try:
            async with db.transaction() as session:
                await ballots.open_ballot(session, SCHEDULED_OPENING, ballot_id, utcnow())
            done.opened.append(ballot_id)
        except DomainError as exc:
            # e.g. the project is not at a stage this ballot can open from: the secretary must act.
            done.failed.append((ballot_id, exc.detail))
    for ballot_id in to_close:
        try:
            async with db.transaction() as session:
                await ballots.close_ballot(session, DEADLINE, ballot_id, utcnow())
            done.closed.append(ballot_id)
        except DomainError as exc:
            done.failed.append((ballot_id, exc.detail))
    async with db.transaction() as session:
        done.reminded = await schedule_reminders(session, utcnow())
    for ballot_id, reason in done.failed:
        log.warning("ballot %s not handled at its scheduled time: %s", ballot_id, reason)
    return done
