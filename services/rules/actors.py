"""Who is acting: principals, the system's own actors, and the role checks of SPEC §1. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from schemas.enums import Role
from services.rules.errors import Forbidden


@dataclass(frozen=True)
class Grant:
    role: Role
    committee_id: int | None = None
    member_body: str | None = None


class Duty(StrEnum):
    """What the service does on its own, each by a system actor that holds that duty alone."""

    OPEN_ON_TIME = "open ballots at their opening time"
    CLOSE_AT_DEADLINE = "close ballots at their deadline"
    REMIND = "remind bodies that have not voted"
    COLLATE = "build comment tables and reports"
    NOTIFY = "send notifications"


@dataclass(frozen=True)
class Principal:
    """Who acts: a person (by token or session), the admin token, or a `SystemActor`."""

    user_id: int | None
    name: str
    email: str
    grants: tuple[Grant, ...]
    duties: frozenset[Duty] = frozenset()
    # Authenticated by an API token (not a page session, the admin token or the service itself):
    # such a principal may not mint tokens, which would outlive the one it holds.
    bearer: bool = False

    def performs(self, duty: Duty) -> bool:
        """Whether this is the system acting on `duty`; a person never is."""
        return duty in self.duties

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


@dataclass(frozen=True)
class SystemActor(Principal):
    """The service itself, named in the record as `ballotdesk (name)`. It is authorised by its
    duties (and grants, for the demo loader), never by being something other than a person."""

    @property
    def label(self) -> str:
        return f"ballotdesk ({self.name})"


def system_actor(name: str, *duties: Duty, grants: tuple[Grant, ...] = ()) -> SystemActor:
    return SystemActor(user_id=None, name=name, email="", grants=grants, duties=frozenset(duties))


ENV_ADMIN = Principal(user_id=None, name="admin token", email="", grants=(Grant(Role.ADMIN),))
SCHEDULED_OPENING = system_actor("scheduled opening", Duty.OPEN_ON_TIME)
DEADLINE = system_actor("deadline", Duty.CLOSE_AT_DEADLINE)
REMINDERS = system_actor("reminders", Duty.REMIND)
COLLATION = system_actor("collation", Duty.COLLATE)
MAILER = system_actor("mailer", Duty.NOTIFY)
# The demo sets up its committee as an administrator would, and its past ballots close as at
# their deadline.
DEMO = system_actor("demo", Duty.CLOSE_AT_DEADLINE, grants=(Grant(Role.ADMIN),))


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only an administrator may do this.")


def require_secretary(principal: Principal, committee_chain: Iterable[int], *, duty: Duty | None = None) -> None:
    """The committee's secretary (or an administrator); or the system on `duty`, where the
    secretary's action is one the system also takes on time (opening, closing at the deadline)."""
    if principal.is_admin or principal.holds(Role.SECRETARY, committee_chain):
        return
    if duty is not None and principal.performs(duty):
        return
    raise Forbidden("Only the committee's secretary may do this.")


def require_committee_officer(principal: Principal, committee_chain: Iterable[int]) -> None:
    """Secretary or convenor: the people who read every comment and record observations."""
    chain = list(committee_chain)
    if principal.is_admin or principal.holds(Role.SECRETARY, chain) or principal.holds(Role.CONVENOR, chain):
        return
    raise Forbidden("Only the committee's secretary or convenor may do this.")


def is_secretary(principal: Principal, committee_chain: Iterable[int]) -> bool:
    try:
        require_secretary(principal, committee_chain)
    except Forbidden:
        return False
    return True


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
