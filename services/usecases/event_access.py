"""Which events a reader gets (services.rules.event_visibility), for GET /events and webhooks alike."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from schemas.enums import BallotStatus, Role
from schemas.tables import Ballot, Eligibility, Event, User
from services.platform import events
from services.platform.identity import principal_for_user
from services.rules import event_visibility as visibility
from services.rules.actors import Principal
from services.usecases import committees

# A page for a delegate may skip many events of other bodies; at most this many are read for one.
SCAN_FACTOR = 10


async def reader_for(session: AsyncSession, principal: Principal) -> visibility.Reader:
    if principal.is_admin:
        return visibility.Reader(admin=True)
    offices = principal.committees(Role.SECRETARY, Role.CONVENOR)
    return visibility.Reader(
        offices=visibility.offices_with_subgroups(offices, await committees.parents(session))
        if offices
        else frozenset(),
        bodies=frozenset(principal.bodies(Role.DELEGATE, Role.COMMENTER)),
    )


async def reader_of_user(session: AsyncSession, user_id: int | None) -> visibility.Reader:
    """An owner's reader; None (the administrator's token) reads everything."""
    if user_id is None:
        return visibility.Reader(admin=True)
    user = await session.get(User, user_id)
    if user is None or not user.active:
        return visibility.Reader()
    return await reader_for(session, await principal_for_user(session, user))


def ballot_of(event: Event) -> int | None:
    if event.aggregate.startswith("ballot:"):
        return int(event.aggregate.split(":", 1)[1])
    found = event.payload.get("ballot_id")
    return found if isinstance(found, int) else None


class Facts:
    """Ballot facts read once per ballot and kept for one request or one fan-out round."""

    def __init__(self) -> None:
        self._known: dict[int, visibility.BallotFacts | None] = {}

    async def of(self, session: AsyncSession, ballot_id: int | None) -> visibility.BallotFacts | None:
        if ballot_id is None:
            return None
        if ballot_id not in self._known:
            ballot = await session.get(Ballot, ballot_id)
            if ballot is None:
                self._known[ballot_id] = None
            else:
                rows = await session.execute(
                    sa_select(col(Eligibility.party)).where(col(Eligibility.ballot_id) == ballot_id)
                )
                closed = ballot.status == BallotStatus.CLOSED.value
                self._known[ballot_id] = visibility.BallotFacts(frozenset(rows.scalars()), closed)
        return self._known[ballot_id]


async def sees(session: AsyncSession, reader: visibility.Reader, event: Event, facts: Facts) -> bool:
    if reader.admin:
        return True
    return visibility.may_see(
        reader,
        event_type=event.type,
        committee_id=event.committee_id,
        body=visibility.body_of(event.type, event.on_behalf_of, event.payload),
        ballot=await facts.of(session, ballot_of(event)),
    )


async def readable_page(
    session: AsyncSession,
    principal: Principal,
    *,
    after: int,
    limit: int,
    types: Sequence[str],
    aggregate: str | None,
) -> tuple[list[Event], int]:
    """The reader's events after `after`, and the cursor to continue from (which may be past
    the last event returned: events the reader may not see are skipped, not re-read)."""
    reader = await reader_for(session, principal)
    if reader.admin:
        rows = await events.page(session, after=after, limit=limit, types=types, aggregate=aggregate)
        return rows, rows[-1].id or after if rows else after
    facts = Facts()
    found: list[Event] = []
    cursor = after
    for _ in range(SCAN_FACTOR):
        rows = await events.page(session, after=cursor, limit=limit, types=types, aggregate=aggregate)
        for event in rows:
            cursor = int(event.id or cursor)
            if await sees(session, reader, event, facts):
                found.append(event)
                if len(found) == limit:
                    return found, cursor
        if len(rows) < limit:
            break
    return found, cursor
