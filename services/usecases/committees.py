"""Member bodies, committees, memberships (with history) and liaisons."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, or_, select

from schemas import api
from schemas.events import CommitteeCreated, LiaisonChanged, MemberBodyCreated, MembershipChanged
from schemas.tables import Committee, Liaison, MemberBody, Membership
from services.platform import events
from services.rules import hierarchy
from services.rules.actors import Principal, require_admin, require_secretary
from services.rules.eligibility import RESERVED_CODES
from services.rules.errors import Conflict, InvalidInput, NotFound
from services.usecases.lookups import get_or_404


async def get_body(session: AsyncSession, code: str) -> MemberBody:
    return await get_or_404(session, MemberBody, code)


async def list_bodies(session: AsyncSession) -> list[MemberBody]:
    return list((await session.execute(select(MemberBody).order_by(MemberBody.code))).scalars())


async def create_body(
    session: AsyncSession, principal: Principal, data: api.MemberBodyCreate, now: datetime
) -> MemberBody:
    require_admin(principal)
    if await session.get(MemberBody, data.code) is not None:
        raise Conflict(f"Member body {data.code} already exists.")
    body = MemberBody(code=data.code, acronym=data.acronym.strip(), name=data.name.strip(), created_at=now)
    session.add(body)
    await events.record(
        session,
        MemberBodyCreated(code=body.code, acronym=body.acronym, name=body.name),
        aggregate=f"member_body:{body.code}",
        actor=principal,
        now=now,
    )
    return body


async def get_committee(session: AsyncSession, committee_id: int) -> Committee:
    return await get_or_404(session, Committee, committee_id)


async def chain(session: AsyncSession, committee_id: int) -> list[int]:
    """The committee and its parents, nearest first: a TC secretary also manages its WGs."""
    return hierarchy.chain(committee_id, await parents(session))


async def parents(session: AsyncSession) -> dict[int, int | None]:
    """Every committee's parent, in one query (committees are few; chains are asked often)."""
    rows = (await session.execute(select(Committee.id, Committee.parent_id))).all()
    return {int(i): p for i, p in rows}


async def list_committees(session: AsyncSession) -> list[Committee]:
    return list((await session.execute(select(Committee).order_by(Committee.reference))).scalars())


async def create_committee(
    session: AsyncSession, principal: Principal, data: api.CommitteeCreate, now: datetime
) -> Committee:
    if data.parent_id is not None:
        await get_committee(session, data.parent_id)
        require_secretary(principal, await chain(session, data.parent_id))
    else:
        require_admin(principal)
    if data.secretariat is not None:
        await get_body(session, data.secretariat)
    existing = (await session.execute(select(Committee).where(Committee.reference == data.reference.strip()))).first()
    if existing is not None:
        raise Conflict(f"Committee {data.reference} already exists.")
    committee = Committee(
        reference=data.reference.strip(),
        title=data.title.strip(),
        parent_id=data.parent_id,
        secretariat=data.secretariat,
        created_at=now,
    )
    session.add(committee)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"Committee {data.reference} already exists.") from exc
    assert committee.id is not None
    await events.record(
        session,
        CommitteeCreated(committee_id=committee.id, reference=committee.reference, parent_id=committee.parent_id),
        aggregate=f"committee:{committee.id}",
        actor=principal,
        now=now,
        committee_id=committee.id,
    )
    return committee


async def current_members(session: AsyncSession, committee_id: int) -> list[Membership]:
    query = (
        select(Membership)
        .where(Membership.committee_id == committee_id, col(Membership.valid_to).is_(None))
        .order_by(Membership.body)
    )
    return list((await session.execute(query)).scalars())


async def members_at(session: AsyncSession, committee_id: int, when: datetime) -> dict[str, str]:
    """Each member body's status ("P", "O") in the committee at ``when``."""
    query = select(Membership).where(
        Membership.committee_id == committee_id,
        col(Membership.valid_from) <= when,
        or_(col(Membership.valid_to).is_(None), col(Membership.valid_to) > when),
    )
    return {m.body: m.status for m in (await session.execute(query)).scalars()}


async def current_liaisons(session: AsyncSession, committee_id: int) -> list[Liaison]:
    query = (
        select(Liaison)
        .where(Liaison.committee_id == committee_id, col(Liaison.valid_to).is_(None))
        .order_by(Liaison.code)
    )
    return list((await session.execute(query)).scalars())


async def set_membership(
    session: AsyncSession,
    principal: Principal,
    committee_id: int,
    code: str,
    status: str | None,
    now: datetime,
    *,
    reason: str = "",
) -> Membership | None:
    """Make `code` a P- or O-member (or end its membership with status None), keeping history;
    `reason` goes into the record (the pages ask for it when a P-member loses its vote)."""
    await get_committee(session, committee_id)
    require_secretary(principal, await chain(session, committee_id))
    await get_body(session, code)
    if code in RESERVED_CODES:
        raise InvalidInput(f"{code} is not a national body and cannot be a committee member.")
    current = (
        await session.execute(
            select(Membership).where(
                Membership.committee_id == committee_id,
                Membership.body == code,
                col(Membership.valid_to).is_(None),
            )
        )
    ).scalar_one_or_none()
    previous = current.status if current else None
    if previous == status:
        return current
    if current is None and status is None:
        raise NotFound(f"{code} is not a member of this committee.")
    if current is not None:
        current.valid_to = now
        session.add(current)
    membership = None
    if status is not None:
        membership = Membership(committee_id=committee_id, body=code, status=status, valid_from=now)
        session.add(membership)
    await events.record(
        session,
        MembershipChanged(
            committee_id=committee_id, body=code, status=status, previous_status=previous, reason=reason.strip()
        ),
        aggregate=f"committee:{committee_id}",
        actor=principal,
        now=now,
        committee_id=committee_id,
    )
    return membership


async def set_liaison(
    session: AsyncSession,
    principal: Principal,
    committee_id: int,
    code: str,
    data: api.LiaisonPut | None,
    now: datetime,
) -> Liaison | None:
    """Add, change or (with data None) end a liaison; like memberships, periods are kept."""
    await get_committee(session, committee_id)
    require_secretary(principal, await chain(session, committee_id))
    code = code.strip()
    if not code or len(code) > 40:
        raise InvalidInput("A liaison code has 1 to 40 characters, e.g. 'CEN/TC 465'.")
    current = (
        await session.execute(
            select(Liaison).where(
                Liaison.committee_id == committee_id,
                Liaison.code == code,
                col(Liaison.valid_to).is_(None),
            )
        )
    ).scalar_one_or_none()
    previous = current.category if current else None
    if data is None and current is None:
        raise NotFound(f"{code} is not a liaison of this committee.")
    if current is not None and data is not None and current.category == data.category.value:
        if data.name and data.name != current.name:
            current.name = data.name
            session.add(current)
        return current
    if current is not None:
        current.valid_to = now
        session.add(current)
    liaison = None
    if data is not None:
        liaison = Liaison(
            committee_id=committee_id,
            code=code,
            name=data.name or (current.name if current else ""),
            category=data.category.value,
            valid_from=now,
        )
        session.add(liaison)
    await events.record(
        session,
        LiaisonChanged(
            committee_id=committee_id,
            code=code,
            category=data.category.value if data else None,
            previous_category=previous,
        ),
        aggregate=f"committee:{committee_id}",
        actor=principal,
        now=now,
        committee_id=committee_id,
    )
    return liaison
