"""Request-scoped dependencies: the transaction, the clock and the acting principal."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import datetime

from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import Principal, authenticate_token
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


async def provide_principal(request: Request[object, object, State], session: AsyncSession) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an API token: 'Authorization: Bearer <token>'.")
    settings: Settings = request.app.state.settings
    return await authenticate_token(session, token.strip(), settings.admin_token)
