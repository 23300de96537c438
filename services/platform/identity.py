"""Proving who is acting: API tokens, passwords, and the principal of a token (cached per process)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
import secrets
import time
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import Table, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import select

from schemas.enums import Role
from schemas.tables import ApiToken, RoleGrant, User
from services.rules.actors import ENV_ADMIN, Grant, Principal
from services.rules.errors import NotAuthenticated

TOKEN_PREFIX = "bd_"
_hasher = PasswordHasher()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # API tokens are 256 random bits, so a fast hash is enough (a password needs argon2).
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


# argon2 is meant to be slow (tens of ms of CPU): in a thread, never on the event loop, and
# called before a use case's first statement, never inside its write transaction.
async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


async def principal_for_user(session: AsyncSession, user: User) -> Principal:
    rows = (await session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id))).scalars()
    grants = tuple(Grant(Role(r.role), r.committee_id, r.member_body) for r in rows)
    assert user.id is not None
    return Principal(user_id=user.id, name=user.name, email=user.email, grants=grants)


_TOKEN: Table = ApiToken.__table__  # type: ignore[attr-defined]
_USER: Table = User.__table__  # type: ignore[attr-defined]
_GRANT: Table = RoleGrant.__table__  # type: ignore[attr-defined]
# One round trip, built once: the token, its user and every role grant (each request needs them).
_PRINCIPAL_ROWS = (
    sa_select(
        _USER.c.id,
        _USER.c.name,
        _USER.c.email,
        _USER.c.active,
        _TOKEN.c.revoked_at,
        _TOKEN.c.expires_at,
        _GRANT.c.role,
        _GRANT.c.committee_id,
        _GRANT.c.member_body,
    )
    .select_from(_TOKEN.join(_USER, _USER.c.id == _TOKEN.c.user_id).outerjoin(_GRANT, _GRANT.c.user_id == _USER.c.id))
    .where(_TOKEN.c.token_hash == bindparam("token_hash"))
)


class PrincipalCache:
    """Principals by token hash, kept for `ttl` seconds in this process.

    Every API request authenticates, and the lookup is a round trip plus row handling, so a vote
    paid for it on each request. The price is staleness: a token revoked (or a person's grants
    changed) in *another* process is still honoured here for up to `ttl` seconds. Changes made in
    this process call `forget()`, which empties the cache at once. `ttl <= 0` turns caching off.
    Unknown and revoked tokens are never cached, so a new token works immediately.
    """

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        # key → (entry's end, principal, the token's own end)
        self._entries: dict[str, tuple[float, Principal, datetime]] = {}

    def get(self, key: str, ttl: float, now: datetime) -> Principal | None:
        if ttl <= 0:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry[0] or now >= entry[2]:
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: str, principal: Principal, ttl: float, token_ends: datetime) -> None:
        if ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()  # bounded memory; refilling costs one lookup per token
        # Each entry lives between half the TTL and all of it, so the tokens cached in a burst
        # (a process starting under load) are not all looked up again in the same instant.
        self._entries[key] = (time.monotonic() + ttl * random.uniform(0.5, 1.0), principal, token_ends)

    def forget(self) -> None:
        self._entries.clear()


principals = PrincipalCache()


def known_principal(token: str, now: datetime, admin_token: str = "", cache_seconds: float = 0.0) -> Principal | None:
    """The principal when it takes no database lookup: the environment's admin token, or cached."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return ENV_ADMIN
    return principals.get(hash_token(token), cache_seconds, now)


def forget_principals() -> None:
    """Call when a token is revoked or a person's grants or status change (takes effect at once here)."""
    principals.forget()


async def authenticate_token(
    session: AsyncSession | AsyncConnection,
    token: str,
    now: datetime,
    admin_token: str = "",
    cache_seconds: float = 0.0,
) -> Principal:
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return ENV_ADMIN
    key = hash_token(token)
    cached = principals.get(key, cache_seconds, now)
    if cached is not None:
        return cached
    # One round trip: the token, its user and every role grant (every request pays for this).
    rows = (await session.execute(_PRINCIPAL_ROWS, {"token_hash": key})).all()
    if not rows:
        raise NotAuthenticated("The bearer token is unknown.")
    user_id, name, email, active, revoked_at, expires_at = rows[0][:6]
    if revoked_at is not None or not active:
        raise NotAuthenticated("The bearer token has been revoked.")
    if expires_at <= now:
        raise NotAuthenticated("The bearer token has expired; create a new one on your account's tokens page.")
    grants = tuple(Grant(Role(r[6]), r[7], r[8]) for r in rows if r[6] is not None)
    principal = Principal(user_id=user_id, name=name, email=email, grants=grants, bearer=True)
    principals.put(key, principal, cache_seconds, expires_at)
    return principal
