"""The reads every use case and view shares: one get-or-404, one "latest vote of each body"."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col, select

from schemas.tables import Ballot, Committee, Eligibility, MemberBody, Project, User, Vote
from services.rules.errors import NotFound

T = TypeVar("T", bound=SQLModel)

_NAMES: dict[type[SQLModel], str] = {
    Ballot: "ballot",
    Committee: "committee",
    MemberBody: "member body",
    Project: "project",
    User: "user",
}


async def get_or_404(session: AsyncSession, table: type[T], key: Any, *, lock: str | None = None) -> T:
    """The row with primary key `key`, or NotFound in words ("There is no ballot 7.").
    `lock="share"` for writes that must not race a change of the row, `"update"` to change it."""
    if lock is None:
        row = await session.get(table, key)
    else:
        row = await session.get(table, key, with_for_update={"read": lock == "share"}, populate_existing=True)
    if row is None:
        name = _NAMES.get(table, table.__name__.lower())
        raise NotFound(f"There is no {name} {key!r}." if isinstance(key, str) else f"There is no {name} {key}.")
    return row


async def latest_votes(
    session: AsyncSession, ballot_ids: Iterable[int], bodies: Iterable[str] | None = None
) -> list[Vote]:
    """The latest vote of each body (votes are append-only) on each ballot, in one query; only
    those of `bodies` when given. Ordered by ballot, then body."""
    ids = list(ballot_ids)
    if not ids:
        return []
    latest: Any = select(func.max(Vote.id).label("id")).where(col(Vote.ballot_id).in_(ids))
    if bodies is not None:
        latest = latest.where(col(Vote.body).in_(list(bodies)))
    latest = latest.group_by(col(Vote.ballot_id), col(Vote.body)).subquery()
    query = select(Vote).join(latest, col(Vote.id) == latest.c.id).order_by(col(Vote.ballot_id), col(Vote.body))
    return list((await session.execute(query)).scalars())


async def ballots_with_projects(
    session: AsyncSession, *, status: str | None = None, committee_id: int | None = None
) -> list[tuple[Ballot, Project]]:
    """Ballots with their projects, in one query, oldest first."""
    query = select(Ballot, Project).join(Project, col(Project.id) == col(Ballot.project_id)).order_by(col(Ballot.id))
    if status is not None:
        query = query.where(Ballot.status == status)
    if committee_id is not None:
        query = query.where(Ballot.committee_id == committee_id)
    return [(b, p) for b, p in (await session.execute(query)).all()]


async def eligibility_of(session: AsyncSession, ballot_ids: Iterable[int]) -> dict[int, list[Eligibility]]:
    """Each ballot's parties, in one query, by party."""
    ids = list(ballot_ids)
    found: dict[int, list[Eligibility]] = {i: [] for i in ids}
    if ids:
        query = select(Eligibility).where(col(Eligibility.ballot_id).in_(ids)).order_by(col(Eligibility.party))
        for row in (await session.execute(query)).scalars():
            found[row.ballot_id].append(row)
    return found
