"""The participation ledger of a committee (SPEC §3.5): ballots, P-members at opening, who voted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

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


@dataclass(frozen=True)
class LedgerBallot:
    ballot: Ballot
    document: str
    p_members: tuple[str, ...]
    voted: frozenset[str]


@dataclass(frozen=True)
class Ledger:
    ballots: list[LedgerBallot]
    p_members: list[str]
    candidates: list[Candidate]


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
            entries += [
                LedgerEntry(ballot.id, BallotType(ballot.type), ballot.closed_at, body, body in voted)
                for body in p_members
            ]
    current = [m.body for m in await committees.current_members(session, committee_id) if m.status == MemberStatus.P]
    rows.sort(key=lambda r: r.ballot.closes_at, reverse=True)
    return Ledger(rows, current, candidates(entries, current, now, INTERNAL, rule))
