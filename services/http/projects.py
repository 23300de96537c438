"""Projects, their decisions and their history."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services import ballots, projects
from services.auth import Principal


class ProjectController(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]

    @post("/", operation_id="CreateProject")
    async def create(
        self, session: AsyncSession, principal: Principal, now: datetime, data: api.ProjectCreate
    ) -> api.ProjectOut:
        return projects.project_out(await projects.create_project(session, principal, data, now))

    @get("/{project_id:int}", operation_id="GetProject")
    async def read(self, session: AsyncSession, principal: Principal, project_id: int) -> api.ProjectOut:
        return projects.project_out(await projects.get_project(session, project_id))

    @get("/{project_id:int}/ballots", operation_id="ListProjectBallots")
    async def project_ballots(
        self, session: AsyncSession, principal: Principal, now: datetime, project_id: int
    ) -> list[api.BallotOut]:
        project = await projects.get_project(session, project_id)
        return [
            await ballots.ballot_out(session, b, now, project=project)
            for b in await ballots.list_ballots(session, project_id=project_id)
        ]

    @post("/{project_id:int}/decisions", operation_id="RecordDecision")
    async def decide(
        self, session: AsyncSession, principal: Principal, now: datetime, project_id: int, data: api.DecisionCreate
    ) -> api.ProjectOut:
        return projects.project_out(await projects.decide(session, principal, project_id, data, now))

    @get("/{project_id:int}/history", operation_id="GetProjectHistory")
    async def history(self, session: AsyncSession, principal: Principal, project_id: int) -> list[api.StageChangeOut]:
        return [
            api.StageChangeOut(
                from_stage=s.from_stage, to_stage=s.to_stage, cause=s.cause, ballot_id=s.ballot_id,
                reason=s.reason, actor=s.actor, occurred_at=s.occurred_at,
            )
            for s in await projects.history(session, project_id)
        ]
