"""Signing in to the web pages: password checks throttled across every process, sessions kept
in the database so that signing out, a password change or an administrator ends them at once.

argon2 runs in a thread and between transactions, never inside one: on SQLite a write
transaction holds the only write lock, and a guesser must not stall every vote behind it.
"""

from __future__ import annotations

import math
import secrets
import weakref
from datetime import datetime, timedelta

from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.tables import LoginAttempt, User, WebSession
from services.platform.db import Database
from services.platform.identity import hash_password, hash_token, new_session_id, principal_for_user, verify_password
from services.rules import login_throttle as throttle
from services.rules.actors import Principal, require_admin
from services.rules.errors import InvalidInput, NotAuthenticated, TooManyAttempts
from services.usecases import users

WRONG = "The e-mail address or the password is not right."
# last_seen_at is written at most this often per session: a page view is not a write.
TOUCH_EVERY = timedelta(minutes=1)
_ACCOUNT_LOCK, _ADDRESS_LOCK = 72_010, 72_011  # advisory lock classes (PostgreSQL)
_DUMMY_HASH: list[str] = []
# Refusals this process has already read from the table, until their wait ends: a flood of
# guesses for one account from one address is then refused without a query (the table stays the
# authority every process counts; forgetting this only costs a query).
_HELD: weakref.WeakKeyDictionary[Database, dict[tuple[str, str], datetime]] = weakref.WeakKeyDictionary()
_HELD_MAX = 10_000


async def _dummy_hash() -> str:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(await hash_password(secrets.token_urlsafe(16)))
    return _DUMMY_HASH[0]


def _address(address: str) -> str:
    return address[:64]


async def _failures(session: AsyncSession, where: list[object], since: datetime) -> throttle.Failures:
    query = select(func.count(), func.max(LoginAttempt.occurred_at)).where(
        *where,  # type: ignore[arg-type]
        col(LoginAttempt.succeeded).is_(False),
        col(LoginAttempt.occurred_at) > since,
    )
    count, last = (await session.execute(query)).one()
    return throttle.Failures(int(count), last)


async def _wait(session: AsyncSession, email: str, address: str, now: datetime) -> int:
    """Seconds before a password may be checked for `email` from `address`."""
    by_email = col(LoginAttempt.email) == email
    succeeded = col(LoginAttempt.succeeded).is_(True)
    last_success = (
        await session.execute(select(func.max(LoginAttempt.occurred_at)).where(by_email, succeeded))
    ).scalar()
    since = now - throttle.ACCOUNT_WINDOW
    account = await _failures(session, [by_email], max(since, last_success) if last_success else since)
    by_address = col(LoginAttempt.address) == address
    from_address = await _failures(session, [by_address], now - throttle.ADDRESS_WINDOW)
    known = (
        await session.execute(
            select(LoginAttempt.id)
            .where(by_email, by_address, succeeded, col(LoginAttempt.occurred_at) > now - throttle.KNOWN_ADDRESS)
            .limit(1)
        )
    ).first() is not None
    return throttle.retry_after(account, from_address, known_address=known, now=now)


def _refuse(seconds: int) -> TooManyAttempts:
    return TooManyAttempts(f"Too many wrong passwords. Wait {seconds} seconds, then try again.", retry_after=seconds)


async def _begin_attempt(db: Database, email: str, address: str, now: datetime) -> tuple[int, User | None]:
    """Throttle, then record the attempt as failed before the password is checked, so guesses
    sent at once all count. Returns the attempt's id and the account (None: no such person)."""
    known = _HELD.setdefault(db, {})
    held = known.get((email, address))
    if held is not None and held > now:
        raise _refuse(math.ceil((held - now).total_seconds()))
    async with db.read() as session:  # a flood is refused here, without a write
        if seconds := await _wait(session, email, address, now):
            if len(known) >= _HELD_MAX:
                known.clear()
            known[(email, address)] = now + timedelta(seconds=seconds)
            raise _refuse(seconds)
    async with db.transaction() as session:
        if not db.sql.writers_serialised:  # SQLite's write lock already serialises this
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:c, hashtext(:k))"), {"c": _ACCOUNT_LOCK, "k": email}
            )
            await session.execute(
                text("SELECT pg_advisory_xact_lock(:c, hashtext(:k))"), {"c": _ADDRESS_LOCK, "k": address}
            )
        if seconds := await _wait(session, email, address, now):
            raise _refuse(seconds)
        attempt = LoginAttempt(occurred_at=now, email=email, address=address, succeeded=False)
        session.add(attempt)
        user = (await session.execute(select(User).where(User.email == email))).scalar_one_or_none()
        await session.flush()
        assert attempt.id is not None
        return attempt.id, user


async def _password_is(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash:
        # Same work as a real check, so the answer's timing does not say which addresses exist.
        await verify_password(await _dummy_hash(), password)
        return False
    return await verify_password(user.password_hash, password) and user.active


async def _succeeded(session: AsyncSession, attempt_id: int) -> None:
    await session.execute(update(LoginAttempt).where(col(LoginAttempt.id) == attempt_id).values(succeeded=True))


async def sign_in(
    db: Database, email: str, password: str, address: str, now: datetime, lifetime: timedelta
) -> tuple[User, str]:
    """The person and a new session's id (for the cookie), or NotAuthenticated / TooManyAttempts."""
    email, address = email.strip().lower(), _address(address)
    attempt_id, user = await _begin_attempt(db, email, address, now)
    if not await _password_is(user, password):
        raise NotAuthenticated(WRONG, field="form")
    assert user is not None and user.id is not None
    plain = new_session_id()
    async with db.transaction() as session:
        await _succeeded(session, attempt_id)
        session.add(
            WebSession(
                id_hash=hash_token(plain),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
            )
        )
    return user, plain


async def signed_in(db: Database, session_id: str, now: datetime, idle: timedelta) -> Principal | None:
    """The person of a live session: not signed out or revoked, before its absolute end, and used
    within `idle` (a request moves last_seen_at, never expires_at)."""
    key = hash_token(session_id)
    async with db.read() as session:
        row = (
            await session.execute(
                select(WebSession, User).join(User, col(User.id) == WebSession.user_id).where(WebSession.id_hash == key)
            )
        ).first()
        if row is None:
            return None
        web, user = row
        if web.revoked_at is not None or now >= web.expires_at or now - web.last_seen_at >= idle or not user.active:
            return None
        principal = await principal_for_user(session, user)
    if now - web.last_seen_at >= TOUCH_EVERY:
        async with db.transaction() as session:
            await session.execute(update(WebSession).where(col(WebSession.id) == web.id).values(last_seen_at=now))
    return principal


async def sign_out(db: Database, session_id: str, now: datetime) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(WebSession)
            .where(col(WebSession.id_hash) == hash_token(session_id), col(WebSession.revoked_at).is_(None))
            .values(revoked_at=now)
        )


async def change_password(
    db: Database, principal: Principal, session_id: str, current: str, new: str, address: str, now: datetime
) -> None:
    """The signed-in person's own password, the current one required (and throttled as a sign-in:
    a session left open must not become a way to guess it). Every other session of theirs ends."""
    if not current:
        raise InvalidInput("Enter your current password.", field="current_password")
    new_hash = await users.new_password(new)
    attempt_id, user = await _begin_attempt(db, principal.email, _address(address), now)
    if not await _password_is(user, current):
        raise InvalidInput("This is not your current password.", field="current_password")
    assert principal.user_id is not None
    async with db.transaction() as session:
        await _succeeded(session, attempt_id)
        await users.set_password(
            session, principal, principal.user_id, new_hash, now, keep_session=hash_token(session_id)
        )


async def attempts(
    session: AsyncSession,
    principal: Principal,
    *,
    email: str | None = None,
    address: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[LoginAttempt]:
    """Sign-in attempts, newest first, for an administrator (by account, by address, or all)."""
    require_admin(principal)
    query = select(LoginAttempt).order_by(col(LoginAttempt.id).desc()).limit(limit)
    if email:
        query = query.where(col(LoginAttempt.email) == email.strip().lower())
    if address:
        query = query.where(col(LoginAttempt.address) == address)
    if before is not None:
        query = query.where(col(LoginAttempt.id) < before)
    return list((await session.execute(query)).scalars())
