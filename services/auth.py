"""Who is acting: tokens, passwords, principals and the role checks of SPEC §1."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import Role
from schemas.tables import ApiToken, RoleGrant, User
from services.errors import Forbidden, NotAuthenticated

TOKEN_PREFIX = "bd_"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Grant:
    role: Role
    committee_id: int | None = None
    member_body: str | None = None


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    name: str
    email: str
    grants: tuple[Grant, ...]

    @property
    def label(self) -> str:
        """Who acted, as recorded on votes, comments and events (bounded by those columns)."""
        label = f"{self.name} <{self.email}>" if self.email else self.name
        return label if len(label) <= 500 else label[:497] + "..."

    @property
    def is_admin(self) -> bool:
        return any(g.role is Role.ADMIN for g in self.grants)

    def bodies(self, *roles: Role) -> set[str]:
        return {g.member_body for g in self.grants if g.role in roles and g.member_body}

    def committees(self, *roles: Role) -> set[int]:
        return {g.committee_id for g in self.grants if g.role in roles and g.committee_id is not None}

    def holds(self, role: Role, committee_chain: Iterable[int]) -> bool:
        """Whether the person holds `role` in the committee or in one of its parents."""
        return bool(self.committees(role) & set(committee_chain))


ENV_ADMIN = Principal(user_id=None, name="admin token", email="", grants=(Grant(Role.ADMIN),))


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # API tokens are 256 random bits, so a fast hash is enough (a password needs argon2).
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


async def principal_for_user(session: AsyncSession, user: User) -> Principal:
    rows = (await session.execute(select(RoleGrant).where(RoleGrant.user_id == user.id))).scalars()
    grants = tuple(Grant(Role(r.role), r.committee_id, r.member_body) for r in rows)
    assert user.id is not None
    return Principal(user_id=user.id, name=user.name, email=user.email, grants=grants)


async def authenticate_token(session: AsyncSession, token: str, admin_token: str = "") -> Principal:
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return ENV_ADMIN
    # One round trip: the token, its user and every role grant (every request pays for this).
    rows = (
        await session.execute(
            sa_select(
                col(User.id),
                col(User.name),
                col(User.email),
                col(User.active),
                col(ApiToken.revoked_at),
                col(RoleGrant.role),
                col(RoleGrant.committee_id),
                col(RoleGrant.member_body),
            )
            .select_from(ApiToken)
            .join(User, col(User.id) == col(ApiToken.user_id))
            .outerjoin(RoleGrant, col(RoleGrant.user_id) == col(User.id))
            .where(col(ApiToken.token_hash) == hash_token(token))
        )
    ).all()
    if not rows:
        raise NotAuthenticated("The bearer token is unknown.")
    user_id, name, email, active, revoked_at = rows[0][:5]
    if revoked_at is not None or not active:
        raise NotAuthenticated("The bearer token has been revoked.")
    grants = tuple(Grant(Role(r[5]), r[6], r[7]) for r in rows if r[5] is not None)
    return Principal(user_id=user_id, name=name, email=email, grants=grants)


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only an administrator may do this.")


def require_secretary(principal: Principal, committee_chain: Iterable[int]) -> None:
    if principal.is_admin or principal.holds(Role.SECRETARY, committee_chain):
        return
    raise Forbidden("Only the committee's secretary may do this.")


def require_committee_officer(principal: Principal, committee_chain: Iterable[int]) -> None:
    """Secretary or convenor: the people who read every comment and record observations."""
    chain = list(committee_chain)
    if principal.is_admin or principal.holds(Role.SECRETARY, chain) or principal.holds(Role.CONVENOR, chain):
        return
    raise Forbidden("Only the committee's secretary or convenor may do this.")


def is_committee_officer(principal: Principal, committee_chain: Iterable[int]) -> bool:
    try:
        require_committee_officer(principal, committee_chain)
    except Forbidden:
        return False
    return True


def require_body(principal: Principal, body: str, *roles: Role) -> str | None:
    """Check the person may act for `body`; returns the body acted on behalf of (for the record).

    An administrator may act for any body; it is recorded as acting on its behalf.
    """
    if body in principal.bodies(*roles):
        return body
    if principal.is_admin:
        return body
    wanted = " or ".join(r.value for r in roles)
    raise Forbidden(f"You are not a {wanted} for {body}.")
