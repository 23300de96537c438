"""A project's history: its stage changes and the events of the project and its ballots that the
reader may see (a ballot's votes and comments only once it has closed, unless an officer reads)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import Role
from schemas.tables import Ballot, Event, Project, StageChange
from services.rules.actors import Principal, is_committee_officer
from services.usecases import ballots, committees, projects


@dataclass
class ProjectHistory:
    project: Project
    stages: list[StageChange]
    events: list[Event]
    ballots: list[Ballot]


async def read_history(session: AsyncSession, principal: Principal, project_id: int) -> ProjectHistory:
    project = await projects.get_project(session, project_id)
    officer = is_committee_officer(principal, await committees.chain(session, project.committee_id))
    own = principal.bodies(Role.DELEGATE, Role.COMMENTER)
    return ProjectHistory(
        project=project,
        stages=await projects.history(session, project_id),
        events=await projects.history_events(session, project_id, officer=officer, own_bodies=own),
        ballots=await ballots.list_ballots(session, project_id=project_id),
    )
