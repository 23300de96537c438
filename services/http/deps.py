"""Request-scoped dependencies: the transaction, the clock and the acting principal."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from services import idempotency
from services.auth import Principal, authenticate_token, known_principal
from services.db import Database
from services.errors import NotAuthenticated
from services.settings import Settings


async def provide_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One request, one transaction: an exception in the handler rolls back everything it wrote."""
    db: Database = state.db
    async with db.transaction() as session:
        yield session


def provide_now(state: State) -> datetime:
    clock: Callable[[], datetime] = state.clock
    return clock()


async def provide_principal(request: Request[object, object, State]) -> Principal:
    """The bearer token's principal. Looked up in a short read of its own (not the request's
    transaction), so a route that finds it in the cache needs no database connection for it."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an API token: 'Authorization: Bearer <token>'.")
    state = request.app.state
    settings: Settings = state.settings
    token = token.strip()
    known = known_principal(token, settings.admin_token, settings.token_cache_seconds)
    if known is not None:
        return known
    db: Database = state.db
    async with db.reading() as connection:
        return await authenticate_token(connection, token, settings.admin_token, settings.token_cache_seconds)


class Idempotency:
    """Per-request helper for creating POSTs that honour an `Idempotency-Key` header."""

    def __init__(
        self, session: AsyncSession, principal: Principal, now: datetime, key: str | None, print_: str
    ) -> None:
        self.session, self.principal, self.now, self.key, self.print_ = session, principal, now, key, print_

    async def replay(self) -> Response[Any] | None:
        if self.key is None:
            return None
        row = await idempotency.previous(self.session, self.principal, self.key, self.print_)
        if row is None:
            return None
        return Response(row.response, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})

    async def respond(self, content: Any, status_code: int = 201) -> Response[Any]:
        if self.key is not None:
            body = msgspec.to_builtins(content)
            await idempotency.remember(self.session, self.principal, self.key, self.print_, status_code, body, self.now)
        return Response(content, status_code=status_code)


async def provide_idempotency(
    request: Request[object, object, State], session: AsyncSession, principal: Principal, now: datetime
) -> Idempotency:
    key = request.headers.get("idempotency-key")
    print_ = idempotency.fingerprint(request.method, request.url.path, await request.body()) if key is not None else ""
    return Idempotency(session, principal, now, key.strip() if key is not None else None, print_)
