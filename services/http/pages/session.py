"""Signed-in people: the session cookie, its key, password sign-in and the acting principal."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from litestar import Request
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.engine import make_url
from sqlmodel import select

from schemas.tables import User
from services.platform.db import Database
from services.platform.identity import hash_password, principal_for_user, verify_password
from services.platform.settings import Settings
from services.rules.actors import Principal
from services.rules.errors import NotAuthenticated

SESSION_COOKIE = "ballotdesk_session"
# A working day: a delegate signs in once in the morning, not once a fortnight.
SESSION_SECONDS = 12 * 3600
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
        max_age=SESSION_SECONDS,
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


def fingerprint(password_hash: str | None) -> str:
    """Changes when the password does, which ends every session signed in with the old one."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:24]


_DUMMY_HASH: list[str] = []


async def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(await hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


class Throttle:
    """A few wrong passwords for one address, then a pause: guessing stays slow (per process)."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}

    def blocked(self, email: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self._failures.get(email, []) if now - t < self.window]
        self._failures[email] = recent
        return len(recent) >= self.limit

    def failed(self, email: str) -> None:
        self._failures.setdefault(email, []).append(time.monotonic())
        if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
            self._failures.clear()

    def succeeded(self, email: str) -> None:
        self._failures.pop(email, None)


async def check_password(db: Database, email: str, password: str) -> User | None:
    """The user whose password this is; read in a read scope, checked after it (argon2 is slow)."""
    async with db.read() as session:
        user = (await session.execute(select(User).where(User.email == email.strip().lower()))).scalar_one_or_none()
    if user is None or not user.password_hash:
        # Same work as a real check, so the answer's timing does not say which addresses exist.
        await verify_password(await _dummy_hash(), password)
        return None
    if not await verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def sign_in(request: Request[object, object, State], user: User) -> None:
    # A new session (and CSRF token) at sign-in: nothing from before it carries over.
    request.set_session(
        {
            "uid": user.id,
            "pw": fingerprint(user.password_hash),
            "csrf": secrets.token_urlsafe(32),
            "at": int(time.time()),
        }
    )


def sign_out(request: Request[object, object, State]) -> None:
    request.set_session({"csrf": secrets.token_urlsafe(32)})


async def current_principal(request: Request[object, object, State]) -> Principal | None:
    data = request.session if request.scope.get("session") is not None else {}
    uid = data.get("uid")
    if not isinstance(uid, int):
        return None
    db: Database = request.app.state.db
    async with db.read() as session:
        user = await session.get(User, uid)
        if (
            user is None
            or not user.active
            or not hmac.compare_digest(fingerprint(user.password_hash), data.get("pw", ""))
        ):
            return None
        return await principal_for_user(session, user)


async def provide_viewer(request: Request[object, object, State]) -> Principal:
    """The signed-in person; pages that need one send everyone else to the sign-in page."""
    principal = await current_principal(request)
    if principal is None:
        raise NotAuthenticated("Sign in to continue.")
    request.state.viewer = principal  # for the error pages' header
    return principal
