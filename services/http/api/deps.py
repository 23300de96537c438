"""Request-scoped dependencies: the database scope, the clock and the acting principal."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from services.http.scopes import only_reads
from services.platform import idempotency
from services.platform.conversion import Converter
from services.platform.db import Database
from services.platform.identity import authenticate_token, known_principal
from services.platform.settings import Settings
from services.rules.actors import Principal
from services.rules.errors import NotAuthenticated


async def provide_session(request: Request[Any, Any, State]) -> AsyncGenerator[AsyncSession, None]:
    """One request, one scope: a read for what only reads, else one transaction, which an
    exception in the handler rolls back whole."""
    db: Database = request.app.state.db
    async with db.read() if only_reads(request) else db.transaction() as session:
        yield session


def provide_converter(state: State) -> Converter:
    converter: Converter = state.converter
    return converter


def provide_now(state: State) -> datetime:
    clock: Callable[[], datetime] = state.clock
    return clock()


async def provide_principal(request: Request[object, object, State]) -> Principal:
    """The bearer token's principal. Looked up in a short read of its own (not the request's
    scope), so a route that finds it in the cache needs no database connection for it."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an API token: 'Authorization: Bearer <token>'.")
    state = request.app.state
    settings: Settings = state.settings
    token = token.strip()
    clock: Callable[[], datetime] = state.clock
    now = clock()
    known = known_principal(token, now, settings.admin_token, settings.token_cache_seconds)
    if known is not None:
        return known
    db: Database = state.db
    async with db.read() as session:
        return await authenticate_token(session, token, now, settings.admin_token, settings.token_cache_seconds)


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
