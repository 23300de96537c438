"""Users, roles, API tokens, web sessions and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.http.api.deps import Idempotency
from services.platform.settings import Settings
from services.rules.actors import Principal
from services.usecases import sign_in, users
from services.views import presenters


class UserController(Controller):
    path = "/api/v1"
    tags = ["users"]

    @post("/users", operation_id="CreateUser")
    async def create(
        self, session: AsyncSession, principal: Principal, now: datetime, idem: Idempotency, data: api.UserCreate
    ) -> Response[Any]:
        # Hashed before the transaction's first statement (the replay's read): argon2 is slow.
        password_hash = await users.new_password(data.password) if data.password else None
        if replay := await idem.replay():
            return replay
        user = await users.create_user(session, principal, data, now, password_hash)
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
        request: Request[Any, Any, State],
        session: AsyncSession,
        principal: Principal,
        now: datetime,
        user_id: int,
        data: api.TokenCreate | None = None,
    ) -> api.TokenOut:
        settings: Settings = request.app.state.settings
        data = data or api.TokenCreate()
        token, plain = await users.issue_token(
            session,
            principal,
            user_id,
            data.label,
            now,
            days=data.days or settings.token_days,
            max_days=settings.token_max_days,
        )
        assert token.id is not None
        return api.TokenOut(id=token.id, token=plain, label=token.label, expires_at=token.expires_at)

    @get("/users/{user_id:int}/tokens", operation_id="ListTokens")
    async def tokens(
        self, session: AsyncSession, principal: Principal, now: datetime, user_id: int
    ) -> list[api.TokenInfo]:
        return [presenters.token_info(t, now) for t in await users.tokens_of(session, principal, user_id)]

    @post("/users/{user_id:int}/tokens/revoke", operation_id="RevokeUserTokens", status_code=200)
    async def revoke_all(self, session: AsyncSession, principal: Principal, now: datetime, user_id: int) -> api.Revoked:
        return api.Revoked(revoked=await users.revoke_tokens(session, principal, user_id, now))

    @post("/users/{user_id:int}/sessions/revoke", operation_id="RevokeUserSessions", status_code=200)
    async def revoke_sessions(
        self, session: AsyncSession, principal: Principal, now: datetime, user_id: int
    ) -> api.Revoked:
        return api.Revoked(revoked=await users.revoke_sessions(session, principal, user_id, now))

    @delete("/tokens/{token_id:int}", operation_id="RevokeToken", status_code=204)
    async def revoke(self, session: AsyncSession, principal: Principal, now: datetime, token_id: int) -> None:
        await users.revoke_token(session, principal, token_id, now)

    @get("/login-attempts", operation_id="ListLoginAttempts")
    async def login_attempts(
        self,
        session: AsyncSession,
        principal: Principal,
        email: Annotated[str | None, Parameter(max_length=254)] = None,
        address: Annotated[str | None, Parameter(max_length=64)] = None,
        before: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> list[api.LoginAttemptOut]:
        """Sign-in attempts, newest first (administrators): `before` pages back by id."""
        found = await sign_in.attempts(session, principal, email=email, address=address, before=before, limit=limit)
        return [presenters.login_attempt_out(a) for a in found]
