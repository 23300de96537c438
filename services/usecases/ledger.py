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
from schemas.tables import Ballot, Comment, Event, Vote
from services.platform import dialect
from services.platform.db import Database
from services.rules import authenticity, content, digests
from services.rules.chain import (
    GENESIS,
    VOTE_TYPES,
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


class _Authenticity:
    """Checks each event's authenticator, in chain order and then the unsealed ones. Events
    before the first authenticated one predate authenticators (migration 0005) and are counted,
    not reported; after it, an event without a valid one is a finding."""

    def __init__(self, key: bytes, report: Report) -> None:
        self.key, self.report, self.started = key, report, False

    def check(self, event: dict[str, Any]) -> None:
        if event.get("authenticator") is None and not self.started:
            self.report.legacy += 1
            return
        self.started = True
        problem = authenticity.problem(self.key, event)
        if problem:
            self.report.findings.append(Finding("authenticity", f"event {event['id']} ({event['type']})", problem))


async def verify(db: Database, *, page: int = 5000) -> Report:
    """Recompute the chain, check every event's authenticator, every ballot's votes, comments
    and observations against their events, and every closed ballot's result; read-only."""
    report = Report()
    authentic = _Authenticity(db.record_key, report)
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
            for row in rows:
                authentic.check(row)
            report.sealed += len(rows)
            last = rows[-1]
            seq, prev, after = int(last["chain_seq"]) + 1, str(last["hash"]), int(last["chain_seq"])
        after = 0
        while True:
            query = (
                select(Event)
                .where(col(Event.chain_seq).is_(None), col(Event.id) > after)
                .order_by(col(Event.id))
                .limit(page)
            )
            rows = [_row(e) for e in (await session.execute(query)).scalars()]
            session.expunge_all()
            if not rows:
                break
            for row in rows:
                authentic.check(row)
            after = int(rows[-1]["id"])
        # The unique constraint refuses a copied authenticator; this finds one if it was dropped.
        copied = await session.execute(
            sa_select(col(Event.authenticator), func.count())
            .where(col(Event.authenticator).is_not(None))
            .group_by(col(Event.authenticator))
            .having(func.count() > 1)
        )
        for authenticator, count in copied:
            report.findings.append(
                Finding("authenticity", f"{count} events", f"they carry one authenticator ({str(authenticator)[:24]}…)")
            )
        ballots = list((await session.execute(select(Ballot).order_by(col(Ballot.id)))).scalars())
        for ballot in ballots:
            report.findings.extend(await _check_ballot_rows(session, ballot))
            if ballot.status == BallotStatus.CLOSED.value:
                report.ballots_checked += 1
                report.findings.extend(await _check_ballot(session, ballot))
    return report


async def ballot_findings(session: AsyncSession, key: bytes, ballot: Ballot) -> list[Finding]:
    """What `verify` would find in one ballot: its events' authenticators, its rows, its result."""
    assert ballot.id is not None
    found = await _authenticity_of(session, key, await ballot_events(session, ballot.id))
    found.extend(await _check_ballot_rows(session, ballot))
    if ballot.status == BallotStatus.CLOSED.value:
        found.extend(await _check_ballot(session, ballot))
    return found


async def vote_findings(session: AsyncSession, key: bytes, ballot: Ballot) -> list[Finding]:
    """The ballot's vote events and vote rows, checked before a close counts them."""
    assert ballot.id is not None
    query = (
        select(Event)
        .where(Event.aggregate == f"ballot:{ballot.id}", col(Event.type).in_(VOTE_TYPES))
        .order_by(col(Event.id))
    )
    vote_events = list((await session.execute(query)).scalars())
    found = await _authenticity_of(session, key, vote_events)
    plain = [{"id": e.id, "type": e.type, "payload": e.payload} for e in vote_events]
    return found + content.check_votes(f"ballot {ballot.id}", plain, await _vote_rows(session, ballot.id))


async def _authenticity_of(session: AsyncSession, key: bytes, events: list[Event]) -> list[Finding]:
    # As in `verify`: events older than the log's first authenticated one predate authenticators.
    first = (
        await session.execute(sa_select(func.min(col(Event.id))).where(col(Event.authenticator).is_not(None)))
    ).scalar_one()
    found = []
    for e in events:
        if e.authenticator is None and (first is None or int(e.id or 0) < int(first)):
            continue
        problem = authenticity.problem(key, _row(e))
        if problem:
            found.append(Finding("authenticity", f"event {e.id} ({e.type})", problem))
    return found


async def _vote_rows(session: AsyncSession, ballot_id: int) -> list[dict[str, Any]]:
    # Core rows, not ORM objects: nothing lands in the session's identity map.
    columns = [col(getattr(Vote, c)) for c in ("id", "body", "position", "reasons", "participate", "experts")]
    query = sa_select(*columns).where(col(Vote.ballot_id) == ballot_id)
    return [dict(r._mapping) for r in await session.execute(query)]


async def _check_ballot_rows(session: AsyncSession, ballot: Ballot) -> list[Finding]:
    assert ballot.id is not None
    subject = f"ballot {ballot.id}"
    events = [{"id": e.id, "type": e.type, "payload": e.payload} for e in await ballot_events(session, ballot.id)]
    votes = await _vote_rows(session, ballot.id)
    names = (*digests.COMMENT_FIELDS, "body", "set_version", "superseded", "observation", "disposition")
    query = sa_select(*[col(getattr(Comment, c)) for c in names]).where(col(Comment.ballot_id) == ballot.id)
    stored = [dict(r._mapping) for r in await session.execute(query)]
    return content.check_votes(subject, events, votes) + content.check_comments(
        subject, events, stored, every_version=True
    )


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
