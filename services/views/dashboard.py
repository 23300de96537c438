"""The home page's read model: what needs my action (delegates) and the ballots I run
(secretaries, convenors). A fixed number of queries, however many ballots there are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import BallotStatus, Role
from schemas.tables import Ballot, Comment, Committee, Project, Vote
from services.rules import draft_names, hierarchy
from services.rules.actors import Principal, is_committee_officer
from services.rules.visibility import readable_bodies
from services.usecases import ballots, projects
from services.usecases.lookups import ballots_with_projects, eligibility_of, latest_votes


@dataclass
class BodyBallot:
    """One open ballot as one of my bodies sees it."""

    ballot: Ballot
    project: Project
    document: str
    body: str
    may_vote: bool
    vote: Vote | None
    comment_count: int
    deadline_passed: bool


@dataclass
class OfficerBallot:
    ballot: Ballot
    project: Project
    document: str
    committee: str
    voted: int
    voters: int
    needs_decision: bool


@dataclass
class Dashboard:
    mine: list[BodyBallot]
    officer: list[OfficerBallot]
    results: list[OfficerBallot]


async def _comment_counts(session: AsyncSession, ballot_ids: list[int], bodies: set[str]) -> dict[tuple[int, str], int]:
    if not ballot_ids or not bodies:
        return {}
    query = (
        select(Comment.ballot_id, Comment.body, func.count())
        .where(
            col(Comment.ballot_id).in_(ballot_ids), col(Comment.body).in_(bodies), col(Comment.superseded).is_(False)
        )
        .group_by(col(Comment.ballot_id), col(Comment.body))
    )
    return {(b, body): int(n) for b, body, n in (await session.execute(query)).all()}


async def _body_ballots(
    session: AsyncSession, principal: Principal, at: datetime, open_ballots: list[tuple[Ballot, Project]]
) -> list[BodyBallot]:
    mine = principal.bodies(Role.DELEGATE, Role.COMMENTER)
    if not mine or not open_ballots:
        return []
    delegate_of = principal.bodies(Role.DELEGATE)
    ids = [b.id for b, _ in open_ballots if b.id is not None]
    rows = await eligibility_of(session, ids)
    votes = {(v.ballot_id, v.body): v for v in await latest_votes(session, ids, mine)}
    counts = await _comment_counts(session, ids, mine)
    found: list[BodyBallot] = []
    for ballot, project in open_ballots:
        assert ballot.id is not None
        for row in rows[ballot.id]:
            if row.party not in mine or not (row.may_vote or row.may_comment):
                continue
            voter = row.may_vote and row.party in delegate_of
            found.append(
                BodyBallot(
                    ballot=ballot,
                    project=project,
                    document=draft_names.of_ballot(ballot, project),
                    body=row.party,
                    may_vote=voter,
                    vote=votes.get((ballot.id, row.party)) if voter else None,
                    comment_count=counts.get((ballot.id, row.party), 0),
                    deadline_passed=ballots.deadline_passed(ballot, at),
                )
            )
    # Not yet voted first, then the nearest deadline.
    found.sort(key=lambda b: (b.vote is not None or not b.may_vote, b.ballot.closes_at))
    return found


async def _officer_ballots(
    session: AsyncSession,
    principal: Principal,
    every: list[tuple[Ballot, Project]],
    committees: Mapping[int, Committee],
    chains: Mapping[int, list[int]],
) -> list[OfficerBallot]:
    run = [
        (b, p)
        for b, p in every
        if b.status != BallotStatus.CANCELLED.value and is_committee_officer(principal, chains[b.committee_id])
    ]
    ids = [b.id for b, _ in run if b.id is not None]
    rows = await eligibility_of(session, ids)
    cast = {(v.ballot_id, v.body) for v in await latest_votes(session, ids)}
    found: list[OfficerBallot] = []
    for ballot, project in run:
        assert ballot.id is not None
        voters = {e.party for e in rows[ballot.id] if e.may_vote}
        found.append(
            OfficerBallot(
                ballot=ballot,
                project=project,
                document=draft_names.of_ballot(ballot, project),
                committee=committees[ballot.committee_id].reference if ballot.committee_id in committees else "",
                voted=sum(1 for body in voters if (ballot.id, body) in cast),
                voters=len(voters),
                needs_decision=bool(projects.decisions_for(ballot, project.deliverable)),
            )
        )
    order = {"open": 0, "draft": 1, "closed": 2}
    found.sort(key=lambda b: (not b.needs_decision, order.get(b.ballot.status, 3), b.ballot.closes_at))
    return found


async def _recent_results(
    session: AsyncSession,
    principal: Principal,
    every: list[tuple[Ballot, Project]],
    chains: Mapping[int, list[int]],
    limit: int = 10,
) -> list[OfficerBallot]:
    """Closed ballots whose results this reader may see (observers, members after close)."""
    closed = [
        (b, p)
        for b, p in reversed(every)
        if b.status == BallotStatus.CLOSED.value and not is_committee_officer(principal, chains[b.committee_id])
    ]  # an officer's closed ballots are in the officer's list already
    rows = await eligibility_of(session, [b.id for b, _ in closed if b.id is not None])
    found: list[OfficerBallot] = []
    for ballot, project in closed:
        assert ballot.id is not None
        if readable_bodies(principal, ballot, chains[ballot.committee_id], rows[ballot.id]) is not None:
            continue
        found.append(
            OfficerBallot(ballot, project, draft_names.of_ballot(ballot, project), "", 0, 0, needs_decision=False)
        )
        if len(found) >= limit:
            break
    return found


async def dashboard(session: AsyncSession, principal: Principal, at: datetime) -> Dashboard:
    every = await ballots_with_projects(session)
    committees = {c.id: c for c in (await session.execute(select(Committee))).scalars() if c.id is not None}
    parent_of = {i: c.parent_id for i, c in committees.items()}
    chains = {i: hierarchy.chain(i, parent_of) for i in committees}
    open_ballots = [(b, p) for b, p in every if b.status == BallotStatus.OPEN.value]
    return Dashboard(
        mine=await _body_ballots(session, principal, at, open_ballots),
        officer=await _officer_ballots(session, principal, every, committees, chains),
        results=await _recent_results(session, principal, every, chains),
    )
