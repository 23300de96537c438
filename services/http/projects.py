"""Projects, their decisions and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.enums import Role
from services import ballots, committees, projects
from services.auth import Principal, is_committee_officer
from services.http.deps import Idempotency
from services.http.log import event_out


class ProjectController(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]

    @post("/", operation_id="CreateProject")
    async def create(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.ProjectCreate
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        return await idem.respond(projects.project_out(await projects.create_project(session, principal, data, now)))

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
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        idem: Idempotency,
        project_id: int,
        data: api.DecisionCreate,
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        return await idem.respond(
            projects.project_out(await projects.decide(session, principal, project_id, data, now))
        )

    @get("/", operation_id="ListProjects")
    async def list_projects(
        self, session: AsyncSession, principal: Principal, committee_id: int | None = None
    ) -> list[api.ProjectOut]:
        return [projects.project_out(p) for p in await projects.list_projects(session, committee_id)]

    @get("/{project_id:int}/history", operation_id="GetProjectHistory")
    async def history(self, session: AsyncSession, principal: Principal, project_id: int) -> api.ProjectHistory:
        """The stage history and the events of the project and its ballots, oldest first."""
        project = await projects.get_project(session, project_id)
        officer = is_committee_officer(principal, await committees.chain(session, project.committee_id))
        own = principal.bodies(Role.DELEGATE, Role.COMMENTER)
        stages = [
            api.StageChangeOut(
                from_stage=s.from_stage,
                to_stage=s.to_stage,
                cause=s.cause,
                ballot_id=s.ballot_id,
                reason=s.reason,
                actor=s.actor,
                occurred_at=s.occurred_at,
            )
            for s in await projects.history(session, project_id)
        ]
        log = await projects.history_events(session, project_id, officer=officer, own_bodies=own)
        return api.ProjectHistory(
            project=projects.project_out(project), stages=stages, events=[event_out(e) for e in log]
        )
