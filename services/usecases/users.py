"""People, their roles and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import Role
from schemas.events import PasswordSet, TokenIssued, TokenRevoked, UserCreated
from schemas.tables import ApiToken, Committee, MemberBody, RoleGrant, User
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


async def create_user(session: AsyncSession, principal: Principal, data: api.UserCreate, now: datetime) -> User:
    require_admin(principal)
    password_hash = await hash_password(data.password) if data.password else None
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
    session: AsyncSession, principal: Principal, user_id: int, label: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for the user; the plain token is returned once and stored only hashed."""
    user = await get_user(session, user_id)
    if not (principal.is_admin or principal.user_id == user.id):
        raise Forbidden("Only an administrator or the user may create tokens for this user.")
    plain = new_token()
    token = ApiToken(user_id=user_id, token_hash=hash_token(plain), label=label.strip(), created_at=now)
    session.add(token)
    await session.flush()
    assert token.id is not None
    await events.on_user(
        session, user_id, TokenIssued(user_id=user_id, token_id=token.id, label=token.label), actor=principal, now=now
    )
    return token, plain


async def revoke_token(session: AsyncSession, principal: Principal, token_id: int, now: datetime) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"There is no token {token_id}.")
    if not (principal.is_admin or principal.user_id == token.user_id):
        raise Forbidden("Only an administrator or the token's owner may revoke it.")
    if token.revoked_at is None:
        token.revoked_at = now
        session.add(token)
        forget_principals()
        await events.on_user(
            session, token.user_id, TokenRevoked(user_id=token.user_id, token_id=token_id), actor=principal, now=now
        )
    return token


async def set_password(session: AsyncSession, principal: Principal, user_id: int, password: str, now: datetime) -> User:
    """Set or replace a password (argon2); sessions signed in with the old one end."""
    if not 10 <= len(password) <= 200:
        raise InvalidInput("A password has 10 to 200 characters.", field="password")
    password_hash = await hash_password(password)
    user = await get_user(session, user_id)
    if not (principal.is_admin or principal.user_id == user.id):
        raise Forbidden("Only an administrator or the user may set this user's password.")
    user.password_hash = password_hash
    session.add(user)
    await events.on_user(session, user_id, PasswordSet(user_id=user_id), actor=principal, now=now)
    return user
