"""People, their roles and their API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import Role
from schemas.events import PasswordSet, SessionsEnded, TokenIssued, TokenRevoked, UserCreated
from schemas.tables import ApiToken, Committee, MemberBody, RoleGrant, User, WebSession
from services.platform import events
from services.platform.identity import forget_principals, hash_password, hash_token, new_token
from services.rules.actors import Principal, require_admin
from services.rules.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.usecases.lookups import get_or_404

# Which scope each role needs (SPEC §1): delegates and commenters act for a body, officers in a committee.
BODY_ROLES = frozenset({Role.DELEGATE, Role.COMMENTER})
COMMITTEE_ROLES = frozenset({Role.SECRETARY, Role.CONVENOR})


async def _check_role(session: AsyncSession, role: api.RoleIn) -> None:
    if role.role in BODY_ROLES:
        if not role.member_body:
            raise InvalidInput(f"The {role.role.value} role needs a member_body.", field="roles")
        if role.committee_id is not None:
            raise InvalidInput(f"The {role.role.value} role is for a member body, not a committee.", field="roles")
    elif role.role in COMMITTEE_ROLES:
        if role.committee_id is None:
            raise InvalidInput(f"The {role.role.value} role needs a committee_id.", field="roles")
        if role.member_body:
            raise InvalidInput(f"The {role.role.value} role is for a committee, not a member body.", field="roles")
    elif role.role is Role.ADMIN and (role.member_body or role.committee_id is not None):
        raise InvalidInput("The admin role has no scope.", field="roles")
    if role.member_body and await session.get(MemberBody, role.member_body) is None:
        raise NotFound(f"There is no member body {role.member_body!r}.")
    if role.committee_id is not None and await session.get(Committee, role.committee_id) is None:
        raise NotFound(f"There is no committee {role.committee_id}.")


async def new_password(password: str) -> str:
    """A password checked and hashed, before any transaction: argon2 takes tens of milliseconds of
    CPU, which must not hold the database's write lock (SQLite) or the event loop."""
    if not 10 <= len(password) <= 200:
        raise InvalidInput("A password has 10 to 200 characters.", field="password")
    return await hash_password(password)


async def create_user(
    session: AsyncSession, principal: Principal, data: api.UserCreate, now: datetime, password_hash: str | None = None
) -> User:
    """`password_hash` from `new_password(data.password)`, made before the transaction began."""
    require_admin(principal)
    if data.password and password_hash is None:
        raise InvalidInput("The password was not prepared.", field="password")
    email = data.email.strip().lower()
    if (await session.execute(select(User).where(User.email == email))).first():
        raise Conflict(f"A user with e-mail {email} already exists.")
    for role in data.roles:
        await _check_role(session, role)
    user = User(
        name=data.name.strip(),
        email=email,
        password_hash=password_hash,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    assert user.id is not None
    grants = [
        RoleGrant(user_id=user.id, role=r.role.value, committee_id=r.committee_id, member_body=r.member_body)
        for r in data.roles
    ]
    session.add_all(grants)
    await events.on_user(
        session,
        user.id,
        UserCreated(
            user_id=user.id,
            email=email,
            roles=[{"role": g.role, "committee_id": g.committee_id, "member_body": g.member_body} for g in grants],
        ),
        actor=principal,
        now=now,
    )
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    return await get_or_404(session, User, user_id)


async def grants_of(session: AsyncSession, user_id: int) -> list[RoleGrant]:
    query = select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(col(RoleGrant.id))
    return list((await session.execute(query)).scalars())


async def issue_token(
    session: AsyncSession,
    principal: Principal,
    user_id: int,
    label: str,
    now: datetime,
    *,
    days: int,
    max_days: int,
) -> tuple[ApiToken, str]:
    """A new token for the user, ending after `days`; the plain token is returned once and stored
    only hashed. A token may not mint tokens (they would outlive it): a page session, the admin
    token or the service itself may."""
    if principal.bearer:
        raise Forbidden("An API token cannot create tokens: sign in and use the Tokens page, or use the admin token.")
    if not 1 <= days <= max_days:
        raise InvalidInput(f"A token lasts 1 to {max_days} days.", field="days")
    user = await get_user(session, user_id)
    if not (principal.is_admin or principal.user_id == user.id):
        raise Forbidden("Only an administrator or the user may create tokens for this user.")
    plain = new_token()
    token = ApiToken(
        user_id=user_id,
        token_hash=hash_token(plain),
        label=label.strip(),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    await session.flush()
    assert token.id is not None
    await events.on_user(
        session, user_id, TokenIssued(user_id=user_id, token_id=token.id, label=token.label), actor=principal, now=now
    )
    return token, plain


def _may_manage(principal: Principal, user_id: int) -> None:
    if not (principal.is_admin or principal.user_id == user_id):
        raise Forbidden("Only an administrator or the user may see or revoke this user's tokens.")


async def tokens_of(session: AsyncSession, principal: Principal, user_id: int) -> list[ApiToken]:
    """The user's tokens, newest first (their hashes stay here: the API shows none)."""
    _may_manage(principal, user_id)
    await get_user(session, user_id)
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(col(ApiToken.id).desc())
    return list((await session.execute(query)).scalars())


async def _revoke(session: AsyncSession, principal: Principal, token: ApiToken, now: datetime) -> None:
    assert token.id is not None
    token.revoked_at = now
    session.add(token)
    forget_principals()
    await events.on_user(
        session, token.user_id, TokenRevoked(user_id=token.user_id, token_id=token.id), actor=principal, now=now
    )


async def revoke_token(session: AsyncSession, principal: Principal, token_id: int, now: datetime) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"There is no token {token_id}.")
    if not (principal.is_admin or principal.user_id == token.user_id):
        raise Forbidden("Only an administrator or the token's owner may revoke it.")
    if token.revoked_at is None:
        await _revoke(session, principal, token, now)
    return token


async def revoke_tokens(session: AsyncSession, principal: Principal, user_id: int, now: datetime) -> int:
    """Every token of the user that still works, revoked at once; how many."""
    _may_manage(principal, user_id)
    await get_user(session, user_id)
    live = select(ApiToken).where(ApiToken.user_id == user_id, col(ApiToken.revoked_at).is_(None))
    tokens = list((await session.execute(live)).scalars())
    for token in tokens:
        await _revoke(session, principal, token, now)
    return len(tokens)


async def end_sessions(session: AsyncSession, user_id: int, now: datetime, *, except_hash: str | None = None) -> int:
    """End the user's web sessions at once (all but `except_hash`, the one asking); how many."""
    query = update(WebSession).where(col(WebSession.user_id) == user_id, col(WebSession.revoked_at).is_(None))
    if except_hash is not None:
        query = query.where(col(WebSession.id_hash) != except_hash)
    result = await session.execute(query.values(revoked_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def revoke_sessions(session: AsyncSession, principal: Principal, user_id: int, now: datetime) -> int:
    """An administrator signs a person out everywhere (a lost laptop, a person leaving)."""
    require_admin(principal)
    await get_user(session, user_id)
    ended = await end_sessions(session, user_id, now)
    await events.on_user(session, user_id, SessionsEnded(user_id=user_id, sessions=ended), actor=principal, now=now)
    return ended


async def set_password(
    session: AsyncSession,
    principal: Principal,
    user_id: int,
    password_hash: str,
    now: datetime,
    *,
    keep_session: str | None = None,
) -> User:
    """Replace a password with one from `new_password` (hashed before the transaction). Every web
    session of the user ends, except `keep_session` (the hash of the session changing its own)."""
    user = await get_user(session, user_id)
    if not (principal.is_admin or principal.user_id == user.id):
        raise Forbidden("Only an administrator or the user may set this user's password.")
    user.password_hash = password_hash
    session.add(user)
    await events.on_user(session, user_id, PasswordSet(user_id=user_id), actor=principal, now=now)
    ended = await end_sessions(session, user_id, now, except_hash=keep_session)
    if ended:
        await events.on_user(session, user_id, SessionsEnded(user_id=user_id, sessions=ended), actor=principal, now=now)
    return user
