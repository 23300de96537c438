"""Member bodies, committees, memberships and liaisons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, delete, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.http.api.deps import Idempotency
from services.rules.actors import Principal
from services.usecases import committees
from services.views import participation, presenters


class DirectoryController(Controller):
    path = "/api/v1"
    tags = ["directory"]

    @post("/member-bodies", operation_id="CreateMemberBody")
    async def create_body(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.MemberBodyCreate
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        body = await committees.create_body(session, principal, data, now)
        return await idem.respond(api.MemberBodyOut(code=body.code, acronym=body.acronym, name=body.name))

    @get("/member-bodies", operation_id="ListMemberBodies")
    async def list_bodies(self, session: AsyncSession, principal: Principal) -> list[api.MemberBodyOut]:
        return [
            api.MemberBodyOut(code=b.code, acronym=b.acronym, name=b.name)
            for b in await committees.list_bodies(session)
        ]

    @post("/committees", operation_id="CreateCommittee")
    async def create_committee(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.CommitteeCreate
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        committee = await committees.create_committee(session, principal, data, now)
        return await idem.respond(await presenters.committee_out(session, committee))

    @get("/committees", operation_id="ListCommittees")
    async def list_committees(self, session: AsyncSession, principal: Principal) -> list[api.CommitteeOut]:
        return [
            api.CommitteeOut(
                id=c.id or 0, reference=c.reference, title=c.title, parent_id=c.parent_id, secretariat=c.secretariat
            )
            for c in await committees.list_committees(session)
        ]

    @get("/committees/{committee_id:int}", operation_id="GetCommittee")
    async def get_committee(self, session: AsyncSession, principal: Principal, committee_id: int) -> api.CommitteeOut:
        return await presenters.committee_out(session, await committees.get_committee(session, committee_id))

    @get("/committees/{committee_id:int}/participation", operation_id="GetParticipation")
    async def get_participation(
        self, session: AsyncSession, principal: Principal, now: datetime, committee_id: int
    ) -> api.ParticipationOut:
        """The participation ledger (SPEC §3.5): ballots, P-members' counts, candidates for O-membership."""
        return participation.participation_out(await participation.ledger(session, principal, committee_id, now))

    @put("/committees/{committee_id:int}/members/{code:str}", operation_id="SetMembership")
    async def set_member(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        committee_id: int,
        code: str,
        data: api.MembershipPut,
    ) -> api.CommitteeOut:
        await committees.set_membership(session, principal, committee_id, code, data.status.value, now)
        return await presenters.committee_out(session, await committees.get_committee(session, committee_id))

    @delete("/committees/{committee_id:int}/members/{code:str}", operation_id="EndMembership", status_code=200)
    async def end_member(
        self, session: AsyncSession, principal: Principal, now: datetime, committee_id: int, code: str
    ) -> api.CommitteeOut:
        await committees.set_membership(session, principal, committee_id, code, None, now)
        return await presenters.committee_out(session, await committees.get_committee(session, committee_id))

    @post("/committees/{committee_id:int}/liaisons", operation_id="SetLiaison", status_code=200)
    async def set_liaison(
        self, session: AsyncSession, principal: Principal, now: datetime, committee_id: int, data: api.LiaisonPut
    ) -> api.CommitteeOut:
        await committees.set_liaison(session, principal, committee_id, data.code, data, now)
        return await presenters.committee_out(session, await committees.get_committee(session, committee_id))

    @delete("/committees/{committee_id:int}/liaisons", operation_id="EndLiaison", status_code=200)
    async def end_liaison(
        self, session: AsyncSession, principal: Principal, now: datetime, committee_id: int, code: str
    ) -> api.CommitteeOut:
        await committees.set_liaison(session, principal, committee_id, code, None, now)
        return await presenters.committee_out(session, await committees.get_committee(session, committee_id))
