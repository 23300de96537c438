"""Casting and changing a body's vote (append-only; the latest before close counts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import BallotStatus, BallotType, Position, Role
from schemas.events import VoteCast, VoteChanged
from schemas.tables import Ballot, Eligibility, MemberBody, Vote
from services import ballots, committees, events
from services.auth import Principal, require_body
from services.errors import Conflict, DeadlinePassed, Forbidden, InvalidInput, NotFound
from services.rules import ballot_types
from services.visibility import readable_bodies


def require_writable(ballot: Ballot, now: datetime) -> None:
    """Votes and comments are taken only while the ballot is open and before its deadline."""
    if ballot.status == BallotStatus.DRAFT.value:
        raise Conflict("This ballot is not open yet.")
    if ballot.status == BallotStatus.CANCELLED.value:
        raise DeadlinePassed("This ballot was cancelled; votes and comments are no longer accepted.")
    if ballot.status == BallotStatus.CLOSED.value:
        when = ballot.closed_at or ballot.closes_at
        raise DeadlinePassed(
            f"This ballot was closed at {when:%Y-%m-%d %H:%M} UTC; votes and comments are no longer accepted."
        )
    if ballots.deadline_passed(ballot, now):
        raise DeadlinePassed(
            f"The deadline of this ballot passed at {ballot.closes_at:%Y-%m-%d %H:%M} UTC; "
            "votes and comments are no longer accepted."
        )


async def participant(session: AsyncSession, ballot_id: int, code: str) -> Eligibility:
    row = await session.get(Eligibility, (ballot_id, code))
    if row is None:
        if await session.get(MemberBody, code) is None:
            raise NotFound(f"There is no member body {code!r}.")
        raise Forbidden(f"{code} is not a participant in this ballot.")
    return row


def _same(vote: Vote, position: str, reasons: str, participate: bool | None, experts: list[dict[str, Any]]) -> bool:
    return (
        vote.position == position
        and vote.reasons == reasons
        and vote.participate == participate
        and (vote.experts or []) == experts
    )


async def latest_vote(session: AsyncSession, ballot_id: int, body: str) -> Vote | None:
    query = select(Vote).where(Vote.ballot_id == ballot_id, Vote.body == body).order_by(col(Vote.id).desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def cast_vote(
    session: AsyncSession, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[Vote, bool, str | None]:
    """Record a body's vote. Returns (vote, created, warning); an identical repeat writes nothing."""
    # A shared lock: votes do not wait for each other, but a close waits for votes in flight
    # and votes that arrive during a close see it closed.
    ballot = await ballots.get_ballot(session, ballot_id, lock="share")
    require_writable(ballot, now)
    on_behalf = require_body(principal, body, Role.DELEGATE)
    row = await participant(session, ballot_id, body)
    if not row.may_vote:
        raise Forbidden(f"{body} may comment on this ballot but not vote.")
    ballot_type = BallotType(ballot.type)
    spec = ballot_types.spec(ballot_type)
    if not ballot_types.position_allowed(ballot_type, data.position):
        allowed = ", ".join(p.value for p in spec.positions) or "none (comment-only)"
        raise InvalidInput(
            f"'{data.position.value}' is not a position on a {ballot.type} ballot. Allowed: {allowed}.",
            field="position",
        )
    if not spec.np_participation and (data.participate is not None or data.experts):
        raise InvalidInput("Participation and experts are asked only on NP ballots.", field="participate")
    reasons = (data.reasons or "").strip()
    participate = data.participate if spec.np_participation else None
    if spec.np_participation and participate is None:
        participate = False
    experts = [{"name": e.name.strip(), "email": e.email} for e in data.experts or []]
    warning = None
    if data.position is Position.DISAPPROVE and not reasons:
        warning = "A disapproval without technical reasons is recorded but not counted at DIS and FDIS."
    previous = await latest_vote(session, ballot_id, body)
    if previous is not None and _same(previous, data.position.value, reasons, participate, experts):
        return previous, False, warning
    values: dict[str, Any] = {
        "ballot_id": ballot_id,
        "body": body,
        "position": data.position.value,
        "reasons": reasons,
        "participate": participate,
        "experts": experts or None,
        "actor_id": principal.user_id,
        "actor": principal.label,
        "on_behalf_of": on_behalf or body,
        "cast_at": now,
    }
    # A Core insert: the hot path of the service, where an ORM flush is measurable overhead.
    inserted = await session.execute(insert(Vote).values(**values).returning(col(Vote.id)))
    vote = Vote(id=inserted.scalar_one(), **values)
    assert vote.id is not None
    payload: VoteCast | VoteChanged
    if previous is None:
        payload = VoteCast(
            ballot_id=ballot_id,
            vote_id=vote.id,
            body=body,
            position=vote.position,
            reasons=bool(reasons),
            participate=participate,
            experts=len(experts),
        )
    else:
        payload = VoteChanged(
            ballot_id=ballot_id,
            vote_id=vote.id,
            body=body,
            position=vote.position,
            previous_position=previous.position,
            reasons=bool(reasons),
            participate=participate,
            experts=len(experts),
        )
    await events.record(
        session,
        payload,
        aggregate=f"ballot:{ballot_id}",
        actor=principal,
        now=now,
        committee_id=ballot.committee_id,
        on_behalf_of=body,
    )
    return vote, previous is None, warning


async def list_votes(session: AsyncSession, principal: Principal, ballot_id: int) -> list[Vote]:
    ballot = await ballots.get_ballot(session, ballot_id)
    chain = await committees.chain(session, ballot.committee_id)
    readable = readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot_id))
    votes = await ballots.current_votes(session, ballot_id)
    return [v for v in votes if readable is None or v.body in readable]


def vote_out(vote: Vote, *, changed: bool = False, warning: str | None = None) -> api.VoteOut:
    return api.VoteOut(
        ballot_id=vote.ballot_id,
        body=vote.body,
        position=vote.position,
        reasons=vote.reasons,
        reasons_given=bool(vote.reasons),
        participate=vote.participate,
        experts=vote.experts or [],
        actor=vote.actor,
        on_behalf_of=vote.on_behalf_of,
        cast_at=vote.cast_at,
        changed=changed,
        warning=warning,
    )
