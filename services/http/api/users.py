"""Users, roles and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, delete, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.http.api.deps import Idempotency
from services.rules.actors import Principal
from services.usecases import users
from services.views import presenters


class UserController(Controller):
    path = "/api/v1"
    tags = ["users"]

    @post("/users", operation_id="CreateUser")
    async def create(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.UserCreate
    ) -> Response[Any]:
        if replay := await idem.replay():
            return replay
        user = await users.create_user(session, principal, data, now)
        assert user.id is not None
        return await idem.respond(presenters.user_out(user, await users.grants_of(session, user.id)))

    @get("/me", operation_id="WhoAmI")
    async def me(self, principal: Principal) -> api.UserOut:
        roles = [
            api.RoleOut(role=g.role.value, committee_id=g.committee_id, member_body=g.member_body)
            for g in principal.grants
        ]
        return api.UserOut(id=principal.user_id or 0, name=principal.name, email=principal.email, roles=roles)

    @post("/users/{user_id:int}/tokens", operation_id="CreateToken")
    async def token(
        self,
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        user_id: int,
        data: api.TokenCreate | None = None,
    ) -> api.TokenOut:
        token, plain = await users.issue_token(session, principal, user_id, data.label if data else "", now)
        assert token.id is not None
        return api.TokenOut(id=token.id, token=plain, label=token.label)

    @delete("/tokens/{token_id:int}", operation_id="RevokeToken", status_code=204)
    async def revoke(self, session: AsyncSession, principal: Principal, now: datetime, token_id: int) -> None:
        await users.revoke_token(session, principal, token_id, now)
