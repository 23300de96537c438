"""The ballot page's read model: the ballot, the reader's bodies and their vote and comments,
and (for those who may see them) every body's vote and comment count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.enums import BallotStatus, BallotType, Role
from schemas.tables import Ballot, Comment, Eligibility, Project, Vote
from services.rules import ballot_types
from services.rules.actors import Principal, is_committee_officer, is_secretary
from services.rules.visibility import readable_bodies
from services.usecases import ballots, comments, committees, projects
from services.usecases.lookups import latest_votes
from services.views import presenters


async def _latest_vote(session: AsyncSession, ballot_id: int, body: str) -> Vote | None:
    found = await latest_votes(session, [ballot_id], [body])
    return found[0] if found else None


@dataclass
class BallotView:
    """Everything the ballot page shows, read in one transaction."""

    ballot: Ballot
    out: api.BallotOut
    project: Project
    committee: str
    officer: bool
    secretary: bool
    np: bool
    writable: bool
    my_rows: list[Eligibility]
    body: str | None
    may_vote: bool
    may_comment: bool
    body_votes: bool
    my_vote: Vote | None
    my_comments: list[Comment]
    snapshot: list[Eligibility]
    all_votes: dict[str, Vote] | None  # every body's vote, when this reader may see them
    comment_counts: dict[str, int] = field(default_factory=dict)
    o_members: set[str] = field(default_factory=set)


async def read_ballot(
    session: AsyncSession, principal: Principal, ballot_id: int, wanted_body: str | None, at: datetime
) -> BallotView:
    ballot = await ballots.get_ballot(session, ballot_id)
    project = await projects.get_project(session, ballot.project_id)
    out = await presenters.ballot_out(session, ballot, at, project=project, viewer=principal)
    chain = await committees.chain(session, ballot.committee_id)
    committee = await committees.get_committee(session, ballot.committee_id)
    snapshot = await ballots.eligibility(session, ballot_id)
    mine = principal.bodies(Role.DELEGATE, Role.COMMENTER)
    my_rows = [e for e in snapshot if e.party in mine and (e.may_vote or e.may_comment)]
    chosen = next((e for e in my_rows if e.party == wanted_body), my_rows[0] if my_rows else None)
    body = chosen.party if chosen else None
    readable = readable_bodies(principal, ballot, chain, snapshot)
    all_votes = None
    counts: dict[str, int] = {}
    if readable is None:
        all_votes = {v.body: v for v in await latest_votes(session, [ballot_id])}
        for c in await comments.list_comments(session, principal, ballot_id, "member"):
            counts[c.body] = counts.get(c.body, 0) + 1
    return BallotView(
        ballot=ballot,
        out=out,
        project=project,
        committee=committee.reference,
        officer=is_committee_officer(principal, chain),
        secretary=is_secretary(principal, chain),
        np=ballot_types.spec(BallotType(ballot.type)).np_participation,
        writable=ballot.status == BallotStatus.OPEN.value and not out.deadline_passed,
        my_rows=my_rows,
        body=body,
        may_vote=bool(chosen and chosen.may_vote and body in principal.bodies(Role.DELEGATE)),
        may_comment=bool(chosen and chosen.may_comment),
        body_votes=bool(chosen and chosen.may_vote),
        my_vote=await _latest_vote(session, ballot_id, chosen.party) if chosen and chosen.may_vote else None,
        my_comments=await comments.list_comments(session, principal, ballot_id, "member", body) if body else [],
        snapshot=snapshot,
        all_votes=all_votes,
        comment_counts=counts,
        o_members={m.body for m in await committees.current_members(session, ballot.committee_id) if m.status == "O"},
    )
