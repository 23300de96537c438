"""The event log, read with a cursor."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.enums import Role
from services.platform import events
from services.rules.actors import Principal
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
        # Officers read their committees' log; the full log is the administrator's.
        scope = None if principal.is_admin else sorted(principal.committees(Role.SECRETARY, Role.CONVENOR))
        rows = await events.page(
            session, after=after, limit=limit, types=[type] if type else [], aggregate=aggregate, committee_ids=scope
        )
        items = [presenters.event_out(e) for e in rows]
        return api.EventPage(items=items, next_after=items[-1].id if items else after)
