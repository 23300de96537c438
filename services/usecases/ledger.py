"""The tamper-evident record: sealing the event log into a hash chain, and checking it.

Events are written unsealed, so a vote never waits for the chain (no lock, no row every vote
updates). A sealer, one at a time, gives each unsealed event the next position `chain_seq`, the
hash of its predecessor and its own hash:

    hash = sha256(prev_hash + canonical JSON of the event's fields and its position)

The chain order is the order in which the sealer saw the events committed, usually but not always
the id order (a transaction that took an id first may commit later); `chain_seq`, not `id`, is
the chain's order. The database refuses any other change to an event (`schemas.event_guard`).

`verify` recomputes the chain and, for every closed ballot, the result from its events alone
(who could vote from `ballot.opened`, the latest vote of each body from `vote.cast/changed`, the
pure rules of `services.rules.approval`), and compares it with what was recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, text
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import BallotStatus
from schemas.tables import Ballot, Event, Vote
from services.platform import dialect
from services.platform.db import Database
from services.rules.chain import (
    GENESIS,
    Finding,
    Report,
    canonical,
    check_chain,
    event_fields,
    link,
    replay_ballot,
    summary,
)

# Any constant will do, as long as nothing else in the database takes the same advisory lock.
SEALER_LOCK = 0x62616C6C6F74  # "ballot"
SEAL_BATCH = 1000


# --- sealing -------------------------------------------------------------------------------------


async def _take_lock(session: AsyncSession, *, wait: bool) -> bool:
    if dialect.of(session).writers_serialised:
        return True  # SQLite: the transaction already holds the only write lock (BEGIN IMMEDIATE)
    if wait:
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEALER_LOCK})
        return True
    taken = await session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SEALER_LOCK})
    return bool(taken.scalar_one())


async def seal_batch(session: AsyncSession, *, limit: int = SEAL_BATCH, wait: bool = False) -> int:
    """Seal up to `limit` committed unsealed events in the caller's transaction; returns how many.
    Without `wait`, returns 0 at once when another sealer is at work."""
    if not await _take_lock(session, wait=wait):
        return 0
    head = (
        await session.execute(
            sa_select(col(Event.chain_seq), col(Event.hash))
            .where(col(Event.chain_seq).is_not(None))
            .order_by(col(Event.chain_seq).desc())
            .limit(1)
        )
    ).first()
    seq, prev = (int(head[0] or 0), str(head[1])) if head else (0, GENESIS)
    rows = list(
        (
            await session.execute(
                select(Event).where(col(Event.chain_seq).is_(None)).order_by(col(Event.id)).limit(limit)
            )
        ).scalars()
    )
    if not rows:
        return 0
    sealed = []
    for row in rows:
        seq += 1
        fields = event_fields(row)
        fields["chain_seq"] = seq
        digest = link(prev, fields)
        sealed.append({"event_id": row.id, "seq": seq, "prev": prev, "digest": digest})
        prev = digest
    table = Event.__table__  # type: ignore[attr-defined]
    statement = (
        table.update()
        .where(table.c.id == bindparam("event_id"), table.c.chain_seq.is_(None))
        .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("digest"))
    )
    # The rows were loaded as ORM objects only to read them; the update goes around the session.
    session.expunge_all()
    await (await session.connection()).execute(statement, sealed)
    return len(sealed)


async def seal(db: Database, *, limit: int = SEAL_BATCH, wait: bool = False, rounds: int = 1_000_000) -> int:
    """Seal every committed unsealed event, a batch per transaction; returns how many."""
    total = 0
    for _ in range(rounds):
        async with db.transaction() as session:
            done = await seal_batch(session, limit=limit, wait=wait)
        total += done
        if done < limit:
            break
    return total


# --- verification --------------------------------------------------------------------------------


def _row(e: Event) -> dict[str, Any]:
    return {**event_fields(e), "prev_hash": e.prev_hash, "hash": e.hash}


async def verify(db: Database, *, page: int = 5000) -> Report:
    """Recompute the chain and every closed ballot's result; read-only."""
    report = Report()
    async with db.read() as session:
        report.events = int((await session.execute(sa_select(func.count()).select_from(Event))).scalar_one())
        report.unsealed = int(
            (
                await session.execute(sa_select(func.count()).select_from(Event).where(col(Event.chain_seq).is_(None)))
            ).scalar_one()
        )
        seq, prev, after = 1, GENESIS, 0
        while True:
            query = select(Event).where(col(Event.chain_seq) > after).order_by(col(Event.chain_seq)).limit(page)
            rows = [_row(e) for e in (await session.execute(query)).scalars()]
            session.expunge_all()
            if not rows:
                break
            report.findings.extend(check_chain(rows, start_seq=seq, start_prev=prev))
            report.sealed += len(rows)
            last = rows[-1]
            seq, prev, after = int(last["chain_seq"]) + 1, str(last["hash"]), int(last["chain_seq"])
        closed = list(
            (
                await session.execute(
                    select(Ballot).where(Ballot.status == BallotStatus.CLOSED.value).order_by(col(Ballot.id))
                )
            ).scalars()
        )
        for ballot in closed:
            report.ballots_checked += 1
            report.findings.extend(await _check_ballot(session, ballot))
    return report


async def ballot_events(session: AsyncSession, ballot_id: int) -> list[Event]:
    query = select(Event).where(Event.aggregate == f"ballot:{ballot_id}").order_by(col(Event.id))
    return list((await session.execute(query)).scalars())


async def _check_ballot(session: AsyncSession, ballot: Ballot) -> list[Finding]:
    assert ballot.id is not None
    subject = f"ballot {ballot.id}"
    replay = replay_ballot([{**event_fields(e)} for e in await ballot_events(session, ballot.id)])
    findings = [Finding("result", subject, p) for p in replay.problems]
    if replay.last_result is None:
        findings.append(Finding("result", subject, "it is closed but its events hold no close"))
    elif canonical(replay.last_result) != canonical(ballot.result):
        findings.append(
            Finding(
                "result",
                subject,
                f"the stored result differs from the one its events give ({summary(ballot.result)} stored, "
                f"{summary(replay.last_result)} recomputed)",
            )
        )
    elif ballot.approved is not bool(replay.last_result.get("approved")):
        findings.append(Finding("result", subject, "the stored approval flag differs from the recomputed result"))
    # The vote table must tell the same story as the vote events.
    latest = (
        sa_select(func.max(Vote.id).label("id"))
        .where(col(Vote.ballot_id) == ballot.id)
        .group_by(col(Vote.body))
        .subquery()
    )
    stored = {
        v.body: (int(v.id or 0), v.position, bool(v.reasons.strip()), v.participate)
        for v in (await session.execute(select(Vote).join(latest, col(Vote.id) == latest.c.id))).scalars()
    }
    if stored != replay.votes:
        differing = sorted(b for b in set(stored) | set(replay.votes) if stored.get(b) != replay.votes.get(b))
        findings.append(
            Finding("votes", subject, f"the stored votes differ from the vote events for {', '.join(differing)}")
        )
    return findings
