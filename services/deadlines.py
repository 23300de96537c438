"""Ballots open and close on time: the sweep that the scheduler (or the embedded server) runs.

Each ballot is handled in its own transaction with a conditional status check, so several
sweepers may run at once and each ballot still opens and closes exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlmodel import col, select

from schemas.enums import BallotStatus
from schemas.tables import Ballot
from schemas.types import utcnow
from services import ballots
from services.db import Database
from services.errors import DomainError

log = logging.getLogger("ballotdesk.deadlines")
SYSTEM_OPEN = "ballotdesk (scheduled opening)"


@dataclass
class Sweep:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)


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
                await ballots.open_ballot(session, SYSTEM_OPEN, ballot_id, utcnow())
            done.opened.append(ballot_id)
        except DomainError as exc:
            # e.g. the project is not at a stage this ballot can open from: the secretary must act.
            done.failed.append((ballot_id, exc.detail))
    for ballot_id in to_close:
        try:
            async with db.transaction() as session:
                await ballots.close_ballot(session, ballots.SYSTEM, ballot_id, utcnow())
            done.closed.append(ballot_id)
        except DomainError as exc:
            done.failed.append((ballot_id, exc.detail))
    for ballot_id, reason in done.failed:
        log.warning("ballot %s not handled at its scheduled time: %s", ballot_id, reason)
    return done
