"""The committee pages' read models: the list, a committee, a project, the participation ledger."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.tables import Ballot, Committee, MemberBody, Project
from services.rules import draft_names
from services.rules.actors import Principal, is_committee_officer, is_secretary
from services.usecases import ballots, committees, projects
from services.views import participation, presenters


async def committee_list(session: AsyncSession) -> tuple[list[Committee], dict[int, int]]:
    """Every committee, and how many projects each has."""
    counts = Counter(p.committee_id for p in await projects.list_projects(session))
    return await committees.list_committees(session), dict(counts)


@dataclass
class CommitteeView:
    committee: Committee
    out: api.CommitteeOut
    parent: Committee | None
    children: list[Committee]
    projects: list[api.ProjectOut]
    bodies: list[MemberBody]
    secretary: bool
    officer: bool


async def read_committee(session: AsyncSession, principal: Principal, committee_id: int) -> CommitteeView:
    committee = await committees.get_committee(session, committee_id)
    chain = await committees.chain(session, committee_id)
    everything = await committees.list_committees(session)
    return CommitteeView(
        committee=committee,
        out=await presenters.committee_out(session, committee),
        parent=next((c for c in everything if c.id == committee.parent_id), None),
        children=[c for c in everything if c.parent_id == committee_id],
        projects=[presenters.project_out(p) for p in await projects.list_projects(session, committee_id)],
        bodies=await committees.list_bodies(session),
        secretary=is_secretary(principal, chain),
        officer=is_committee_officer(principal, chain),
    )


@dataclass
class ProjectView:
    project: Project
    out: api.ProjectOut
    committee: Committee
    ballots: list[tuple[Ballot, str]]
    secretary: bool


async def read_project(session: AsyncSession, principal: Principal, project_id: int) -> ProjectView:
    project = await projects.get_project(session, project_id)
    chain = await committees.chain(session, project.committee_id)
    return ProjectView(
        project=project,
        out=presenters.project_out(project),
        committee=await committees.get_committee(session, project.committee_id),
        ballots=[
            (b, draft_names.of_ballot(b, project)) for b in await ballots.list_ballots(session, project_id=project_id)
        ],
        secretary=is_secretary(principal, chain),
    )


async def read_participation(
    session: AsyncSession, principal: Principal, committee_id: int, at: datetime
) -> tuple[participation.Ledger, Committee, bool]:
    committee = await committees.get_committee(session, committee_id)
    result = await participation.ledger(session, principal, committee_id, at)
    return result, committee, is_secretary(principal, await committees.chain(session, committee_id))
