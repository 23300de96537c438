"""Casting and changing a body's vote (append-only; the latest before close counts)."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, exists, func, insert, literal_column, true, update
from sqlalchemy import select as select_core
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.enums import BallotStatus
from schemas.events import VoteCast, VoteChanged
from schemas.routing import consumers_of
from schemas.tables import Ballot, Eligibility, Event, MemberBody, Vote
from services.platform import dialect, events
from services.platform.db import Database
from services.rules.actors import Principal
from services.rules.errors import Forbidden, NotFound
from services.rules.vote_decision import PreviousVote, RecordedVote, VoteContext, check_writable, decide

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

# PostgreSQL: the vote and its event in one statement, hence one implicit transaction and one
# round trip. The ballot is share-locked inside it and must still be open at `now`: a vote that
# waits for a close in progress is re-checked against the closed row and writes nothing.
_VOTE_VALUES = ("body", "position", "reasons", "participate", "experts", "actor_id", "actor", "on_behalf_of", "cast_at")
_EVENT_VALUES = (
    "occurred_at",
    "type",
    "aggregate",
    "committee_id",
    "actor",
    "on_behalf_of",
    "version",
    "request_id",
    "authenticator",
)
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
        select_core(_OPEN_BALLOT.c.id, *(bindparam(f"v_{c}", type_=_VOTE.c[c].type) for c in _VOTE_VALUES)).select_from(
            _OPEN_BALLOT.join(_CLAIM_PARTY_AT_VERSION, true())
        ),
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


def require_writable(ballot: Ballot, now: datetime) -> None:
    """Votes and comments are taken only while the ballot is open and before its deadline."""
    check_writable(ballot.status, ballot.closes_at, ballot.closed_at, now)


async def participant(session: AsyncSession, ballot_id: int, code: str, *, lock: bool = False) -> Eligibility:
    """The body's eligibility row; `lock` holds it (FOR UPDATE) to the end of the transaction, which
    serialises writers of the same body's data on this ballot (e.g. two replacements of its comments)."""
    row = await session.get(Eligibility, (ballot_id, code), with_for_update=lock)
    if row is None:
        if await session.get(MemberBody, code) is None:
            raise NotFound(f"There is no member body {code!r}.")
        raise Forbidden(f"{code} is not a participant in this ballot.")
    return row


def _as_context(row: Any) -> VoteContext | None:
    """The context query's row, by its column names."""
    if row is None:
        return None
    previous = None
    if row.id is not None:
        previous = PreviousVote(
            row.id, row.position, row.reasons, row.participate, row.experts, row.actor, row.on_behalf_of, row.cast_at
        )
    return VoteContext(
        status=row.status,
        type=row.type,
        closes_at=row.closes_at,
        closed_at=row.closed_at,
        committee_id=row.committee_id,
        party=row.party,
        may_vote=row.may_vote,
        body_exists=bool(row.body_exists),
        previous=previous,
    )


async def cast_vote(
    session: AsyncSession, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[RecordedVote, bool]:
    """The portable form: record a body's vote in the session's transaction. Returns the vote
    and whether it is the body's first; an identical repeat writes nothing."""
    params = {"ballot_id": ballot_id, "body": body}
    row = (await session.execute(_CONTEXT_LOCKED, params)).first()
    if row is not None and row.party is not None and not dialect.of(session).writers_serialised:
        # Another vote of this body in flight is waited for here, then its vote read afresh.
        await session.execute(_CLAIM_PARTY, {"of_ballot": ballot_id, "body": body})
        row = (await session.execute(_CONTEXT, params)).first()
    decision = decide(_as_context(row), principal, ballot_id, body, data, now)
    if decision.same is not None:
        return decision.recorded(), False
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
    return decision.recorded(), decision.previous_id is None


async def take_vote(
    db: Database, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[RecordedVote, bool]:
    """The one way a vote is taken, by the API, the pages and the demo, in a transaction of its
    own. PostgreSQL: one read and one write statement, each its own implicit transaction (no BEGIN
    and COMMIT round trips); elsewhere `cast_vote` in a transaction. Returns the vote and whether
    it is the body's first."""
    if db.sql.single_statement_writes and _ONE_STATEMENT:
        taken = await _one_statement(db, principal, ballot_id, body, data, now)
        if taken is not None:
            return taken
    async with _turn(db), db.transaction() as session:
        return await cast_vote(session, principal, ballot_id, body, data, now)


async def _one_statement(
    db: Database, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> tuple[RecordedVote, bool] | None:
    """None when another vote of this body was recorded since the read (it is then taken again
    in a transaction)."""
    params = {"ballot_id": ballot_id, "body": body}
    async with db.engine().connect() as connection:
        conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = (await conn.execute(_CONTEXT_VERSIONED, params)).first()
        decision = decide(_as_context(row), principal, ballot_id, body, data, now)
        if decision.same is not None:
            return decision.recorded(), False
        assert row is not None
        event = events.row(
            decision.payload(0),
            key=db.record_key,
            aggregate=f"ballot:{ballot_id}",
            actor=principal,
            now=now,
            committee_id=decision.committee_id,
            on_behalf_of=body,
        )
        del event["payload"]["vote_id"]  # the statement adds the id it inserts
        if event.keys() != {*_EVENT_VALUES, "payload"}:  # an event column added without this statement
            raise RuntimeError(f"the vote statement does not write event columns {sorted(event)}")
        write = {
            "of_ballot": ballot_id,
            "body": body,
            "version": row.version,
            "now": now,
            "open_status": BallotStatus.OPEN.value,
            **{f"v_{c}": decision.values[c] for c in _VOTE_VALUES},
            **{f"e_{c}": value for c, value in event.items()},
        }
        inserted = (await conn.execute(_WRITE_VOTE, write)).first()
        if inserted is None:  # closed, cancelled or past its deadline since the read: a clear 409
            decide(_as_context((await conn.execute(_CONTEXT, params)).first()), principal, ballot_id, body, data, now)
    if inserted is None:
        return None
    return decision.recorded(), decision.previous_id is None


# SQLite lets one transaction write at a time, and a writer that finds the database locked polls
# for it with sleeps of up to 100 ms: fifty votes at once spent most of their time asleep. Votes of
# one process queue here instead, first come first served (other writers still poll).
_SQLITE_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _turn(db: Database) -> contextlib.AbstractAsyncContextManager[Any]:
    if not db.sql.writers_serialised:
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    lock = _SQLITE_TURNS.get(loop)
    if lock is None:
        lock = _SQLITE_TURNS[loop] = asyncio.Lock()
    return lock
