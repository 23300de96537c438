"""The event log, read with a cursor."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.rules.actors import Principal
from services.usecases import event_access
from services.views import presenters


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]

    @get("/", operation_id="ListEvents")
    async def list_events(
        self,
        session: AsyncSession,
        principal: Principal,
        after: Annotated[int, Parameter(ge=0)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        type: Annotated[str | None, Parameter(max_length=60)] = None,
        aggregate: Annotated[str | None, Parameter(max_length=60)] = None,
    ) -> api.EventPage:
        # What each reader may see: services.rules.event_visibility (the same rule as webhooks').
        rows, cursor = await event_access.readable_page(
            session, principal, after=after, limit=limit, types=[type] if type else [], aggregate=aggregate
        )
        return api.EventPage(items=[presenters.event_out(e) for e in rows], next_after=cursor)
