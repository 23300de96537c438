"""The home page: what needs my action (delegates) and the ballots I run (secretaries, convenors)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from litestar import get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import BallotStatus, Role
from schemas.tables import Ballot, Project, Vote
from services import ballots, comments, committees, projects, votes
from services.auth import Principal, is_committee_officer
from services.visibility import readable_bodies
from services.web.pages import WebRequest, now, page, run


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


async def _body_ballots(session: AsyncSession, principal: Principal, at: datetime) -> list[BodyBallot]:
    mine = principal.bodies(Role.DELEGATE, Role.COMMENTER)
    found: list[BodyBallot] = []
    if not mine:
        return found
    for ballot in await ballots.list_ballots(session, status=BallotStatus.OPEN.value):
        assert ballot.id is not None
        project = await projects.get_project(session, ballot.project_id)
        for row in await ballots.eligibility(session, ballot.id):
            if row.party not in mine or not (row.may_vote or row.may_comment):
                continue
            voter = row.may_vote and row.party in principal.bodies(Role.DELEGATE)
            found.append(
                BodyBallot(
                    ballot=ballot,
                    project=project,
                    document=ballots.draft_name(ballot, project),
                    body=row.party,
                    may_vote=voter,
                    vote=await votes.latest_vote(session, ballot.id, row.party) if voter else None,
                    comment_count=len(await comments.current_set(session, ballot.id, row.party)),
                    deadline_passed=ballots.deadline_passed(ballot, at),
                )
            )
    # Not yet voted first, then the nearest deadline.
    found.sort(key=lambda b: (b.vote is not None or not b.may_vote, b.ballot.closes_at))
    return found


async def _officer_ballots(session: AsyncSession, principal: Principal) -> list[OfficerBallot]:
    found: list[OfficerBallot] = []
    names = {c.id: c.reference for c in await committees.list_committees(session)}
    for ballot in await ballots.list_ballots(session):
        if ballot.status == BallotStatus.CANCELLED.value:
            continue
        if not is_committee_officer(principal, await committees.chain(session, ballot.committee_id)):
            continue
        assert ballot.id is not None
        project = await projects.get_project(session, ballot.project_id)
        snapshot = await ballots.eligibility(session, ballot.id)
        voters = {e.party for e in snapshot if e.may_vote}
        voted = [v for v in await ballots.current_votes(session, ballot.id) if v.body in voters]
        found.append(
            OfficerBallot(
                ballot=ballot,
                project=project,
                document=ballots.draft_name(ballot, project),
                committee=names.get(ballot.committee_id, ""),
                voted=len(voted),
                voters=len(voters),
                needs_decision=bool(projects.decisions_for(ballot, project.deliverable)),
            )
        )
    order = {"open": 0, "draft": 1, "closed": 2}
    found.sort(key=lambda b: (not b.needs_decision, order.get(b.ballot.status, 3), b.ballot.closes_at))
    return found


async def _recent_results(session: AsyncSession, principal: Principal, limit: int = 10) -> list[OfficerBallot]:
    """Closed ballots whose results this reader may see (observers, members after close)."""
    found: list[OfficerBallot] = []
    for ballot in reversed(await ballots.list_ballots(session, status=BallotStatus.CLOSED.value)):
        assert ballot.id is not None
        chain = await committees.chain(session, ballot.committee_id)
        if is_committee_officer(principal, chain):
            continue  # already in the officer's list
        if readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot.id)) is not None:
            continue
        project = await projects.get_project(session, ballot.project_id)
        found.append(
            OfficerBallot(ballot, project, ballots.draft_name(ballot, project), "", 0, 0, needs_decision=False)
        )
        if len(found) >= limit:
            break
    return found


@get("/", name="dashboard")
async def dashboard(request: WebRequest, viewer: Principal) -> Template:
    at = now(request)

    async def read(session: AsyncSession) -> tuple[list[BodyBallot], list[OfficerBallot], list[OfficerBallot]]:
        return (
            await _body_ballots(session, viewer, at),
            await _officer_ballots(session, viewer),
            await _recent_results(session, viewer),
        )

    mine, officer, results = await run(request, read)
    return page(request, "dashboard.html", viewer, mine=mine, officer=officer, results=results)
