"""Casting and changing a body's vote (append-only; the latest before close counts)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, exists, func, insert, literal_column, true, update
from sqlalchemy import select as select_core
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import BallotStatus, BallotType, Position, Role
from schemas.events import VoteCast, VoteChanged
from schemas.routing import consumers_of
from schemas.tables import Ballot, Eligibility, Event, MemberBody, Vote
from services import ballots, committees, events
from services.auth import Principal, require_body
from services.db import Database
from services.errors import Conflict, DeadlinePassed, Forbidden, InvalidInput, NotFound
from services.rules import ballot_types
from services.visibility import readable_bodies

# Core statements on the tables, built once: the vote is the service's hot path, and building a
# statement (or an ORM object) per request costs more than the database work it asks for.
_BALLOT: Table = Ballot.__table__  # type: ignore[attr-defined]
_ELIGIBILITY: Table = Eligibility.__table__  # type: ignore[attr-defined]
_MEMBER_BODY: Table = MemberBody.__table__  # type: ignore[attr-defined]
_VOTE: Table = Vote.__table__  # type: ignore[attr-defined]
_EVENT: Table = Event.__table__  # type: ignore[attr-defined]
_EARLIER = _VOTE.alias("earlier")  # its own name: the context query joins `vote` as well
_LATEST_VOTE_ID = (
    select_core(func.max(_EARLIER.c.id))
    .where(_EARLIER.c.ballot_id == bindparam("ballot_id"), _EARLIER.c.body == bindparam("body"))
    .scalar_subquery()
)


def _context(*, lock: bool) -> Any:
    """Everything a vote is checked against, in one round trip: the ballot, the body's eligibility
    and existence, and its latest vote. Outer joins: a missing row is an error to explain.
    `lock`: share-lock the ballot, so a close waits for this transaction and a vote that arrives
    during a close sees it closed."""
    query = (
        select_core(
            _BALLOT.c.status,
            _BALLOT.c.type,
            _BALLOT.c.closes_at,
            _BALLOT.c.closed_at,
            _BALLOT.c.committee_id,
            _ELIGIBILITY.c.party,
            _ELIGIBILITY.c.may_vote,
            exists().where(_MEMBER_BODY.c.code == bindparam("body")).label("body_exists"),
            _VOTE.c.id,
            _VOTE.c.position,
            _VOTE.c.reasons,
            _VOTE.c.participate,
            _VOTE.c.experts,
            _VOTE.c.actor,
            _VOTE.c.on_behalf_of,
            _VOTE.c.cast_at,
        )
        .select_from(
            _BALLOT.outerjoin(
                _ELIGIBILITY,
                and_(_ELIGIBILITY.c.ballot_id == _BALLOT.c.id, _ELIGIBILITY.c.party == bindparam("body")),
            ).outerjoin(_VOTE, _VOTE.c.id == _LATEST_VOTE_ID)
        )
        .where(_BALLOT.c.id == bindparam("ballot_id"))
    )
    return query.with_for_update(read=True, of=_BALLOT) if lock else query


_CONTEXT_LOCKED = _context(lock=True)
_CONTEXT = _context(lock=False)
# Every vote of a body updates the body's eligibility row (that row only: other bodies' votes never
# wait on it). Its version (PostgreSQL's xmin), read with the context, tells the one-statement write
# whether another vote of the body was recorded since the read, which would make the previous
# position read with it stale: the write then takes nothing, and the vote is taken again below.
_CONTEXT_VERSIONED = _context(lock=False).add_columns(literal_column("eligibility.xmin::text").label("version"))
# The transactional path's turn: waits for a vote of the same body in flight.
_CLAIM_PARTY = (
    update(_ELIGIBILITY)
    # "of_ballot": an UPDATE reserves the names of its table's columns for its own values.
    .where(_ELIGIBILITY.c.ballot_id == bindparam("of_ballot"), _ELIGIBILITY.c.party == bindparam("body"))
    .values(may_vote=_ELIGIBILITY.c.may_vote)
)
_INSERT_VOTE = insert(_VOTE).returning(_VOTE.c.id)
_LATEST_VOTE = select(Vote).where(col(Vote.id) == _LATEST_VOTE_ID)

# PostgreSQL: the vote and its event in one statement, hence one implicit transaction and one
# round trip. The ballot is share-locked inside it and must still be open at `now`: a vote that
# waits for a close in progress is re-checked against the closed row and writes nothing.
_VOTE_VALUES = ("body", "position", "reasons", "participate", "experts", "actor_id", "actor", "on_behalf_of", "cast_at")
_EVENT_VALUES = ("occurred_at", "type", "aggregate", "committee_id", "actor", "on_behalf_of", "version", "request_id")
_OPEN_BALLOT = (
    select_core(_BALLOT.c.id)
    .where(
        # Parameter names of this statement are no column names: its UPDATE would take one as a
        # value to set (SET ballot_id = …) from the parameters given to the whole statement.
        _BALLOT.c.id == bindparam("of_ballot"),
        # Named, not a literal: an anonymous value in a CTE that two statements of the WITH read
        # lost its value in the cached statement ("a value is required for bind parameter").
        _BALLOT.c.status == bindparam("open_status"),
        _BALLOT.c.closes_at > bindparam("now", type_=_BALLOT.c.closes_at.type),
    )
    .with_for_update(read=True)
    .cte("open_ballot")
)
# After the ballot's share lock (the UPDATE reads open_ballot first), so locks come in one order.
_CLAIM_PARTY_AT_VERSION = (
    update(_ELIGIBILITY)
    .where(
        _ELIGIBILITY.c.ballot_id == _OPEN_BALLOT.c.id,
        _ELIGIBILITY.c.party == bindparam("body"),
        literal_column("eligibility.xmin::text") == bindparam("version"),
    )
    .values(may_vote=_ELIGIBILITY.c.may_vote)
    .returning(_ELIGIBILITY.c.party)
    .cte("claim_party")
)
_NEW_VOTE = (
    insert(_VOTE)
    .from_select(
        ["ballot_id", *_VOTE_VALUES],
        select_core(_OPEN_BALLOT.c.id, *(bindparam(f"v_{c}", type_=_VOTE.c[c].type) for c in _VOTE_VALUES))
        .select_from(_OPEN_BALLOT.join(_CLAIM_PARTY_AT_VERSION, true())),
    )
    .returning(_VOTE.c.id)
    .cte("new_vote")
)
_NEW_EVENT = (
    insert(_EVENT)
    .from_select(
        [*_EVENT_VALUES, "payload"],
        select_core(
            *(bindparam(f"e_{c}", type_=_EVENT.c[c].type) for c in _EVENT_VALUES),
            bindparam("e_payload", type_=JSONB).op("||", return_type=JSONB)(
                func.jsonb_build_object(literal_column("'vote_id'"), _NEW_VOTE.c.id)
            ),
        ).select_from(_NEW_VOTE),
    )
    .returning(_EVENT.c.id)
    .cte("new_event")
)
_WRITE_VOTE = select_core(_NEW_VOTE.c.id, _NEW_EVENT.c.id).select_from(_NEW_VOTE.join(_NEW_EVENT, true()))
# The one-statement write inserts no deliveries: it serves only while vote events have no consumer.
_ONE_STATEMENT = not (consumers_of(VoteCast.type) or consumers_of(VoteChanged.type))


def _check_writable(status: str, closes_at: datetime, closed_at: datetime | None, now: datetime) -> None:
    if status == BallotStatus.DRAFT.value:
        raise Conflict("This ballot is not open yet.")
    if status == BallotStatus.CANCELLED.value:
        raise DeadlinePassed("This ballot was cancelled; votes and comments are no longer accepted.")
    if status == BallotStatus.CLOSED.value:
        when = closed_at or closes_at
        raise DeadlinePassed(
            f"This ballot was closed at {when:%Y-%m-%d %H:%M} UTC; votes and comments are no longer accepted."
        )
    if now >= closes_at:  # ballots.deadline_passed, on the columns alone
        raise DeadlinePassed(
            f"The deadline of this ballot passed at {closes_at:%Y-%m-%d %H:%M} UTC; "
            "votes and comments are no longer accepted."
        )


def require_writable(ballot: Ballot, now: datetime) -> None:
    """Votes and comments are taken only while the ballot is open and before its deadline."""
    _check_writable(ballot.status, ballot.closes_at, ballot.closed_at, now)


async def participant(session: AsyncSession, ballot_id: int, code: str, *, lock: bool = False) -> Eligibility:
    """The body's eligibility row; `lock` holds it (FOR UPDATE) to the end of the transaction, which
    serialises writers of the same body's data on this ballot (e.g. two replacements of its comments)."""
    row = await session.get(Eligibility, (ballot_id, code), with_for_update=lock)
    if row is None:
        if await session.get(MemberBody, code) is None:
            raise NotFound(f"There is no member body {code!r}.")
        raise Forbidden(f"{code} is not a participant in this ballot.")
    return row


async def latest_vote(session: AsyncSession, ballot_id: int, body: str) -> Vote | None:
    return (await session.execute(_LATEST_VOTE, {"ballot_id": ballot_id, "body": body})).scalar_one_or_none()


@dataclass(frozen=True)
class _Decision:
    """What a vote request comes to, decided on the context row before anything is written."""

    values: dict[str, Any]  # the vote row, id aside
    committee_id: int
    previous_id: int | None
    previous_position: str | None
    experts: int
    warning: str | None
    same: Vote | None  # an identical repeat: this is the vote, nothing is written

    def payload(self, vote_id: int) -> VoteCast | VoteChanged:
        v = self.values
        common = {
            "ballot_id": v["ballot_id"],
            "vote_id": vote_id,
            "body": v["body"],
            "position": v["position"],
            "reasons": bool(v["reasons"]),
            "participate": v["participate"],
            "experts": self.experts,
        }
        if self.previous_position is None:
            return VoteCast(**common)
        return VoteChanged(**common, previous_position=self.previous_position)

    def event(self, vote_id: int, principal: Principal, now: datetime) -> dict[str, Any]:
        return events.row(
            self.payload(vote_id),
            aggregate=f"ballot:{self.values['ballot_id']}",
            actor=principal,
            now=now,
            committee_id=self.committee_id,
            on_behalf_of=self.values["body"],
        )


def _decide(
    context: Any, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> _Decision:
    if context is None:
        raise NotFound(f"There is no ballot {ballot_id}.")
    (status, type_, closes_at, closed_at, committee_id, party, may_vote, body_exists, *previous) = context
    _check_writable(status, closes_at, closed_at, now)
    on_behalf = require_body(principal, body, Role.DELEGATE)
    if party is None:
        if not body_exists:
            raise NotFound(f"There is no member body {body!r}.")
        raise Forbidden(f"{body} is not a participant in this ballot.")
    if not may_vote:
        raise Forbidden(f"{body} may comment on this ballot but not vote.")
    ballot_type = BallotType(type_)
    spec = ballot_types.spec(ballot_type)
    if not ballot_types.position_allowed(ballot_type, data.position):
        allowed = ", ".join(p.value for p in spec.positions) or "none (comment-only)"
        raise InvalidInput(
            f"'{data.position.value}' is not a position on a {type_} ballot. Allowed: {allowed}.",
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
    previous_id, previous_position, previous_reasons, previous_participate, previous_experts = previous[:5]
    same = None
    if (
        previous_id is not None
        and previous_position == data.position.value
        and previous_reasons == reasons
        and previous_participate == participate
        and (previous_experts or []) == experts
    ):
        actor, on_behalf_of, cast_at = previous[5:]
        same = Vote(
            id=previous_id,
            ballot_id=ballot_id,
            body=body,
            position=previous_position,
            reasons=previous_reasons,
            participate=previous_participate,
            experts=previous_experts,
            actor=actor,
            on_behalf_of=on_behalf_of,
            cast_at=cast_at,
        )
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
    return _Decision(values, committee_id, previous_id, previous_position, len(experts), warning, same)


async def cast_vote(
    session: AsyncSession, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[Vote, bool, str | None]:
    """Record a body's vote in the session's transaction. Returns (vote, created, warning); an
    identical repeat writes nothing."""
    params = {"ballot_id": ballot_id, "body": body}
    context = (await session.execute(_CONTEXT_LOCKED, params)).first()
    if context is not None and context.party is not None and session.get_bind().dialect.name != "sqlite":
        # Another vote of this body in flight is waited for here, then its vote read afresh.
        # (Not on SQLite: its transaction holds the database's write lock from the first statement.)
        await session.execute(_CLAIM_PARTY, {"of_ballot": ballot_id, "body": body})
        context = (await session.execute(_CONTEXT, params)).first()
    decision = _decide(context, principal, ballot_id, body, data, now)
    if decision.same is not None:
        return decision.same, False, decision.warning
    vote_id: int = (await session.execute(_INSERT_VOTE, decision.values)).scalar_one()
    await events.record(
        session,
        decision.payload(vote_id),
        aggregate=f"ballot:{ballot_id}",
        actor=principal,
        now=now,
        committee_id=decision.committee_id,
        on_behalf_of=body,
    )
    return Vote(id=vote_id, **decision.values), decision.previous_id is None, decision.warning


async def take_vote(
    db: Database, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[api.VoteOut, bool]:
    """`cast_vote` as the API runs it, in a transaction of its own: on PostgreSQL one read and one
    write statement, each its own implicit transaction (no BEGIN and COMMIT round trips).
    Returns the vote as answered and whether it is the body's first."""
    if db.dialect != "postgresql" or not _ONE_STATEMENT:
        return await _cast_in_transaction(db, principal, ballot_id, body, data, now)
    params = {"ballot_id": ballot_id, "body": body}
    async with db.engine().connect() as connection:
        conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
        context = (await conn.execute(_CONTEXT_VERSIONED, params)).first()
        decision = _decide(context[:-1] if context else None, principal, ballot_id, body, data, now)
        if decision.same is not None:
            return vote_out(decision.same, changed=True, warning=decision.warning), False
        assert context is not None
        event = decision.event(0, principal, now)
        del event["payload"]["vote_id"]  # the statement adds the id it inserts
        if event.keys() != {*_EVENT_VALUES, "payload"}:  # an event column added without this statement
            raise RuntimeError(f"the vote statement does not write event columns {sorted(event)}")
        write = {
            "of_ballot": ballot_id,
            "body": body,
            "version": context.version,
            "now": now,
            "open_status": BallotStatus.OPEN.value,
            **{f"v_{c}": decision.values[c] for c in _VOTE_VALUES},
            **{f"e_{c}": value for c, value in event.items()},
        }
        inserted = (await conn.execute(_WRITE_VOTE, write)).first()
        if inserted is None:  # closed, cancelled or past its deadline since the read: a clear 409
            _decide((await conn.execute(_CONTEXT, params)).first(), principal, ballot_id, body, data, now)
    if inserted is None:  # another vote of this body was recorded since the read
        return await _cast_in_transaction(db, principal, ballot_id, body, data, now)
    created = decision.previous_id is None
    v = decision.values  # answered from the values written: no ORM object on the hot path
    out = api.VoteOut(
        ballot_id=ballot_id,
        body=body,
        position=v["position"],
        reasons=v["reasons"],
        reasons_given=bool(v["reasons"]),
        participate=v["participate"],
        experts=v["experts"] or [],
        actor=v["actor"],
        on_behalf_of=v["on_behalf_of"],
        cast_at=now,
        changed=not created,
        warning=decision.warning,
    )
    return out, created


async def _cast_in_transaction(
    db: Database, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[api.VoteOut, bool]:
    async with _turn(db), db.transaction() as session:
        vote, created, warning = await cast_vote(session, principal, ballot_id, body, data, now)
    return vote_out(vote, changed=not created, warning=warning), created


# SQLite lets one transaction write at a time, and a writer that finds the database locked polls
# for it with sleeps of up to 100 ms: fifty votes at once spent most of their time asleep. Votes of
# one process queue here instead, first come first served (other writers still poll).
_SQLITE_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _turn(db: Database) -> contextlib.AbstractAsyncContextManager[Any]:
    if db.dialect != "sqlite":
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    lock = _SQLITE_TURNS.get(loop)
    if lock is None:
        lock = _SQLITE_TURNS[loop] = asyncio.Lock()
    return lock


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
