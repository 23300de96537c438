"""Signed-in people: the session cookie (which holds a server-side session's id), its key, and
the acting principal."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from litestar import Request
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine import make_url

from services.platform.db import Database
from services.platform.settings import Settings
from services.rules.actors import Principal
from services.rules.errors import NotAuthenticated
from services.usecases import sign_in as sign_in_case

SESSION_COOKIE = "ballotdesk_session"
KEY_FILE = "web-session.key"
_PROCESS_KEY = secrets.token_bytes(32)


def _persisted_key(settings: Settings) -> bytes:
    """Embedded mode without a configured key: one random key kept beside the SQLite file, so
    sessions survive a restart; without a file database, a key for this process only."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return _PROCESS_KEY
    path = Path(url.database).parent / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def session_key(settings: Settings) -> bytes:
    """32 bytes for the cookie's AES-GCM, derived from the secret so it is never used for two things."""
    if settings.secret_key:
        return hmac.new(settings.secret_key.encode(), b"ballotdesk web session v1", hashlib.sha256).digest()
    return _persisted_key(settings)


def cookie_is_secure(settings: Settings) -> bool:
    return settings.environment == "production" or settings.public_url.startswith("https://")


def session_config(settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=session_key(settings),
        key=SESSION_COOKIE,
        # The browser may forget it then; the server ends the session by its own record.
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(settings),
        exclude=["^/static/"],
    )


class _Sessions:
    """litestar's cookie-session middleware, its cipher built when the router is, not before
    (a router is deep-copied when registered, and a cipher object cannot be)."""

    def __init__(self, app: ASGIApp, config: CookieBackendConfig) -> None:
        self._inner = SessionMiddleware(app=app, backend=ClientSideSessionBackend(config=config))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._inner(scope, receive, send)


def session_middleware(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(_Sessions, config=session_config(settings))


def _clock_now(request: Request[object, object, State]) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def _settings(request: Request[object, object, State]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request[object, object, State]) -> str:
    return request.client.host if request.client else ""


def session_id(request: Request[object, object, State]) -> str | None:
    data = request.session if request.scope.get("session") is not None else {}
    sid = data.get("sid")
    return sid if isinstance(sid, str) and sid else None


async def sign_in(request: Request[object, object, State], email: str, password: str) -> None:
    """Check the password (throttled) and open a server-side session; the cookie keeps only its id.
    A new cookie (and CSRF token) at sign-in: nothing from before it carries over."""
    settings = _settings(request)
    _, sid = await sign_in_case.sign_in(
        database(request),
        email,
        password,
        client_address(request),
        _clock_now(request),
        timedelta(hours=settings.session_hours),
    )
    request.set_session({"sid": sid, "csrf": secrets.token_urlsafe(32)})


async def sign_out(request: Request[object, object, State]) -> None:
    sid = session_id(request)
    if sid is not None:
        await sign_in_case.sign_out(database(request), sid, _clock_now(request))
    request.set_session({"csrf": secrets.token_urlsafe(32)})


def database(request: Request[object, object, State]) -> Database:
    db: Database = request.app.state.db
    return db


async def current_principal(request: Request[object, object, State]) -> Principal | None:
    sid = session_id(request)
    if sid is None:
        return None
    idle = timedelta(minutes=_settings(request).session_idle_minutes)
    return await sign_in_case.signed_in(database(request), sid, _clock_now(request), idle)


async def provide_viewer(request: Request[object, object, State]) -> Principal:
    """The signed-in person; pages that need one send everyone else to the sign-in page."""
    principal = await current_principal(request)
    if principal is None:
        raise NotAuthenticated("Sign in to continue.")
    request.state.viewer = principal  # for the error pages' header
    return principal
