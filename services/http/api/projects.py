"""Projects, their decisions and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.http.api.deps import Idempotency
from services.rules.actors import Principal
from services.usecases import ballots, projects, similar
from services.views import history, presenters


class ProjectController(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]

    @post("/", operation_id="CreateProject")
    async def create(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.ProjectCreate
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        return await idem.respond(presenters.project_out(await projects.create_project(session, principal, data, now)))

    @get("/{project_id:int}", operation_id="GetProject")
    async def read(self, session: AsyncSession, principal: Principal, project_id: int) -> api.ProjectOut:
        return presenters.project_out(await projects.get_project(session, project_id))

    @get("/{project_id:int}/ballots", operation_id="ListProjectBallots")
    async def project_ballots(
        self, session: AsyncSession, principal: Principal, now: datetime, project_id: int
    ) -> list[api.BallotOut]:
        project = await projects.get_project(session, project_id)
        return [
            await presenters.ballot_out(session, b, now, project=project)
            for b in await ballots.list_ballots(session, project_id=project_id)
        ]

    @get("/{project_id:int}/comments", operation_id="ListProjectComments")
    async def project_comments(
        self, session: AsyncSession, principal: Principal, project_id: int
    ) -> list[api.ProjectCommentOut]:
        return [
            api.ProjectCommentOut(
                ballot_id=b.id or 0, ballot_type=b.type, ballot_status=b.status, comment=presenters.comment_out(c)
            )
            for b, c in await similar.project_comments(session, principal, project_id)
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
            presenters.project_out(await projects.decide(session, principal, project_id, data, now))
        )

    @get("/", operation_id="ListProjects")
    async def list_projects(
        self, session: AsyncSession, principal: Principal, committee_id: int | None = None
    ) -> list[api.ProjectOut]:
        return [presenters.project_out(p) for p in await projects.list_projects(session, committee_id)]

    @get("/{project_id:int}/history", operation_id="GetProjectHistory")
    async def history(self, session: AsyncSession, principal: Principal, project_id: int) -> api.ProjectHistory:
        """The stage history and the events of the project and its ballots, oldest first."""
        found = await history.read_history(session, principal, project_id)
        return api.ProjectHistory(
            project=presenters.project_out(found.project),
            stages=[presenters.stage_change_out(s) for s in found.stages],
            events=[presenters.event_out(e) for e in found.events],
        )
