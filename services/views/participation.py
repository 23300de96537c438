"""The participation ledger of a committee (SPEC §3.5): ballots, P-members at opening, who voted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.enums import BallotStatus, BallotType, MemberStatus
from schemas.tables import Ballot
from services.rules import ballot_types, draft_names
from services.rules.actors import Principal, require_committee_officer
from services.rules.participation import DEFAULT_RULE, Candidate, LedgerEntry, ParticipationRule, candidates
from services.usecases import committees
from services.usecases.lookups import ballots_with_projects, eligibility_of, latest_votes

# The committee's own ballots in which its P-members vote; DIS/FDIS/SR have their own rule.
INTERNAL = frozenset(
    t for t in BallotType if ballot_types.spec(t).voters == "committee_p" and t not in DEFAULT_RULE.must_vote
)


def closed_early(ballot: Ballot) -> bool:
    """Closed by hand before its deadline (a close at the deadline is the scheduler's, at or after it)."""
    return (
        ballot.status == BallotStatus.CLOSED.value
        and ballot.closed_at is not None
        and ballot.closed_at < ballot.closes_at
    )


@dataclass(frozen=True)
class LedgerBallot:
    ballot: Ballot
    document: str
    p_members: tuple[str, ...]
    voted: frozenset[str]

    @property
    def closed_early(self) -> bool:
        return closed_early(self.ballot)

    @property
    def not_voted(self) -> tuple[str, ...]:
        return tuple(b for b in self.p_members if b not in self.voted)


@dataclass(frozen=True)
class LedgerMember:
    """A current P-member's closed ballots: counted, voted on, missed, and not counted because
    they closed early before it had voted."""

    body: str
    counted: int
    voted: int
    missed: int
    closed_early: int


@dataclass(frozen=True)
class Ledger:
    ballots: list[LedgerBallot]
    p_members: list[str]
    candidates: list[Candidate]
    members: list[LedgerMember]


async def ledger(
    session: AsyncSession,
    principal: Principal,
    committee_id: int,
    now: datetime,
    rule: ParticipationRule = DEFAULT_RULE,
) -> Ledger:
    await committees.get_committee(session, committee_id)
    require_committee_officer(principal, await committees.chain(session, committee_id))
    rows: list[LedgerBallot] = []
    entries: list[LedgerEntry] = []
    taken = [
        (b, p)
        for b, p in await ballots_with_projects(session, committee_id=committee_id)
        if b.status in (BallotStatus.OPEN.value, BallotStatus.CLOSED.value) and b.id is not None
    ]
    ids = [b.id for b, _ in taken if b.id is not None]
    snapshots = await eligibility_of(session, ids)
    cast: dict[int, set[str]] = {i: set() for i in ids}
    for vote in await latest_votes(session, ids):
        cast[vote.ballot_id].add(vote.body)
    for ballot, project in taken:
        assert ballot.id is not None
        p_members = tuple(sorted(e.party for e in snapshots[ballot.id] if e.is_p_member and e.may_vote))
        voted = frozenset(cast[ballot.id])
        rows.append(LedgerBallot(ballot, draft_names.of_ballot(ballot, project), p_members, voted))
        if ballot.status == BallotStatus.CLOSED.value and ballot.closed_at is not None:
            early = closed_early(ballot)
            entries += [
                LedgerEntry(ballot.id, BallotType(ballot.type), ballot.closed_at, body, body in voted, early)
                for body in p_members
            ]
    current = [m.body for m in await committees.current_members(session, committee_id) if m.status == MemberStatus.P]
    # Newest first by when voting ended: an early close ends it before the deadline.
    rows.sort(key=lambda r: (r.ballot.closed_at or r.ballot.closes_at, r.ballot.id or 0), reverse=True)
    members = [
        LedgerMember(
            body=body,
            counted=sum(1 for e in entries if e.body == body and e.counted),
            voted=sum(1 for e in entries if e.body == body and e.voted),
            missed=sum(1 for e in entries if e.body == body and not e.voted and e.counted),
            closed_early=sum(1 for e in entries if e.body == body and not e.counted),
        )
        for body in current
    ]
    return Ledger(rows, current, candidates(entries, current, now, INTERNAL, rule), members)


def participation_out(found: Ledger) -> api.ParticipationOut:
    """The ledger for API clients: the same rows and candidates as the page."""
    return api.ParticipationOut(
        ballots=[
            api.LedgerBallotOut(
                id=row.ballot.id or 0,
                document=row.document,
                type=row.ballot.type,
                status=row.ballot.status,
                closes_at=row.ballot.closes_at,
                closed_at=row.ballot.closed_at,
                closed_early=row.closed_early,
                p_members=list(row.p_members),
                voted=sorted(b for b in row.p_members if b in row.voted),
                not_voted=list(row.not_voted),
            )
            for row in found.ballots
        ],
        members=[
            api.LedgerMemberOut(
                body=m.body, counted=m.counted, voted=m.voted, missed=m.missed, closed_early=m.closed_early
            )
            for m in found.members
        ],
        candidates=[
            api.CandidateOut(
                body=c.body, reason="; ".join(c.reasons), reasons=list(c.reasons), ballots_missed=list(c.missed)
            )
            for c in found.candidates
        ],
    )
