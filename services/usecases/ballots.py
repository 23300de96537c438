"""Ballot life cycle: create, open, extend, close, re-open, cancel. One transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import BallotStatus, BallotType, Deliverable, Position, RulebookName
from schemas.events import (
    BallotCancelled,
    BallotClosed,
    BallotCreated,
    BallotExtended,
    BallotOpened,
    BallotReopened,
)
from schemas.tables import Ballot, Eligibility, MemberBody, Vote
from services.platform import events, idempotency
from services.rules import approval, ballot_types, stages
from services.rules import eligibility as eligibility_rules
from services.rules.actors import Duty, Principal, is_committee_officer, require_secretary
from services.rules.errors import Conflict, DeadlinePassed, InvalidInput
from services.rules.projection import Projection, decisive, project
from services.usecases import committees, ledger, projects
from services.usecases.lookups import get_or_404, latest_votes


def deadline_passed(ballot: Ballot, now: datetime) -> bool:
    """The one deadline rule: a ballot takes no writes from its closing instant on."""
    return now >= ballot.closes_at


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _weeks(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / (7 * 24 * 3600)


def _require_aware(value: datetime, field: str) -> None:
    if value.tzinfo is None:
        raise InvalidInput(f"{field} needs a time zone, e.g. 2026-12-01T12:00:00Z.", field=field)
    if not 2000 <= value.year <= 2100 or value.utcoffset() is None:
        raise InvalidInput(f"{field} must be a date between the years 2000 and 2100.", field=field)


async def get_ballot(session: AsyncSession, ballot_id: int, *, lock: str | None = None) -> Ballot:
    """Load a ballot; `lock="share"` for writes that must not race a close, `"update"` for a close."""
    return await get_or_404(session, Ballot, ballot_id, lock=lock)


async def list_ballots(
    session: AsyncSession, *, status: str | None = None, project_id: int | None = None, committee_id: int | None = None
) -> list[Ballot]:
    query = select(Ballot)
    if status:
        query = query.where(Ballot.status == status)
    if project_id is not None:
        query = query.where(Ballot.project_id == project_id)
    if committee_id is not None:
        query = query.where(Ballot.committee_id == committee_id)
    return list((await session.execute(query.order_by(col(Ballot.id)))).scalars())


async def create_ballot(
    session: AsyncSession,
    principal: Principal,
    data: api.BallotCreate,
    now: datetime,
    *,
    openable_now: bool = False,
) -> tuple[Ballot, str | None]:
    """A draft. With `openable_now` (the pages) only a type the stage table lets open on the
    project now; the API may still prepare a draft for a stage the project has not reached."""
    project = await projects.get_project(session, data.project_id)
    require_secretary(principal, await committees.chain(session, project.committee_id))
    assert project.id is not None
    project_id = project.id
    _require_aware(data.closes_at, "closes_at")
    start = data.opens_at or now
    if data.opens_at is not None:
        _require_aware(data.opens_at, "opens_at")
    if data.closes_at <= now:
        raise InvalidInput("The closing time must be in the future.", field="closes_at")
    if data.closes_at <= start:
        raise InvalidInput("The closing time must be after the opening time.", field="closes_at")
    if data.type is BallotType.CIB and not data.question.strip():
        raise InvalidInput("A committee internal ballot needs its question.", field="question")
    if openable_now and (why := stages.why_not_now(data.type, Deliverable(project.deliverable), project.stage)):
        raise InvalidInput(f"{why}.", field="type")
    warning = ballot_types.length_warning(data.type, _weeks(start, data.closes_at))
    ballot = Ballot(
        project_id=project_id,
        committee_id=project.committee_id,
        type=data.type.value,
        rulebook=data.rulebook.value,
        status=BallotStatus.DRAFT.value,
        question=data.question.strip(),
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        created_at=now,
    )
    session.add(ballot)
    await session.flush()
    assert ballot.id is not None and project.id is not None
    await events.on_ballot(
        session,
        ballot,
        BallotCreated(
            ballot_id=ballot.id,
            project_id=project.id,
            ballot_type=ballot.type,
            rulebook=ballot.rulebook,
            closes_at=data.closes_at.isoformat(),
            opens_at=_iso(data.opens_at),
            warning=warning,
        ),
        actor=principal,
        now=now,
    )
    return ballot, warning


@dataclass(frozen=True)
class Created:
    ballot: Ballot
    warning: str | None
    opened: bool
    again: bool  # the same form sent a second time: the ballot it made the first time


async def create_from_form(
    session: AsyncSession,
    principal: Principal,
    data: api.BallotCreate,
    now: datetime,
    *,
    open_now: bool,
    form_key: str = "",
) -> Created:
    """The page's "create (and open now)": one transaction, so a failed open leaves no draft, and
    the form's one-time key makes a second press return the first ballot instead of a duplicate."""
    key = f"page:new-ballot:{data.project_id}:{form_key}" if form_key else ""
    print_ = idempotency.fingerprint("POST", f"/projects/{data.project_id}/ballots", b"")
    earlier = await idempotency.previous(session, principal, key, print_) if key else None
    if earlier is not None:
        ballot = await get_ballot(session, int(earlier.response["ballot_id"]))
        return Created(ballot, None, ballot.status != BallotStatus.DRAFT.value, again=True)
    ballot, warning = await create_ballot(session, principal, data, now, openable_now=True)
    assert ballot.id is not None
    opened = open_now and data.opens_at is None
    if opened:
        await open_ballot(session, principal, ballot.id, now)
    if key:
        await idempotency.remember(session, principal, key, print_, 201, {"ballot_id": ballot.id}, now)
    return Created(ballot, warning, opened, again=False)


async def _snapshot(session: AsyncSession, ballot: Ballot) -> list[Eligibility]:
    assert ballot.id is not None
    spec = ballot_types.spec(BallotType(ballot.type))
    members = {m.body: m.status for m in await committees.current_members(session, ballot.committee_id)}
    every_body = (
        list((await session.execute(select(MemberBody.code))).scalars()) if spec.voters == "all_members" else []
    )
    liaisons = [liaison.code for liaison in await committees.current_liaisons(session, ballot.committee_id)]
    return [
        Eligibility(
            ballot_id=ballot.id,
            party=p.code,
            kind=p.kind,
            is_p_member=p.is_p_member,
            may_vote=p.may_vote,
            may_comment=p.may_comment,
        )
        for p in eligibility_rules.parties(spec, members, every_body, liaisons)
    ]


async def _iteration(session: AsyncSession, ballot: Ballot) -> int:
    """CD 2, CD 3 …: how many ballots of this type the project has had opened."""
    count = (
        await session.execute(
            select(func.count())
            .select_from(Ballot)
            .where(
                Ballot.project_id == ballot.project_id,
                Ballot.type == ballot.type,
                col(Ballot.opened_at).is_not(None),
                Ballot.id != ballot.id,
            )
        )
    ).scalar_one()
    return int(count) + 1


async def open_ballot(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> Ballot:
    """Open now (the secretary) or at the opening time set (the scheduler)."""
    ballot = await get_ballot(session, ballot_id, lock="update")
    project = await projects.get_project(session, ballot.project_id, lock=True)
    require_secretary(principal, await committees.chain(session, ballot.committee_id), duty=Duty.OPEN_ON_TIME)
    if ballot.status != BallotStatus.DRAFT.value:
        raise Conflict(f"Only a draft ballot can be opened; this one is {ballot.status}.")
    if deadline_passed(ballot, now):
        raise Conflict("The closing time has already passed; extend it before opening.", field="closes_at")
    try:
        new_stage = stages.stage_on_open(BallotType(ballot.type), Deliverable(project.deliverable), project.stage)
    except stages.StageError as exc:
        raise Conflict(str(exc)) from exc
    rows = await _snapshot(session, ballot)
    session.add_all(rows)
    ballot.status = BallotStatus.OPEN.value
    ballot.opened_at = now
    ballot.stage_before_open = project.stage
    ballot.iteration = await _iteration(session, ballot)
    ballot.p_member_count = sum(1 for r in rows if r.is_p_member)
    session.add(ballot)
    assert ballot.id is not None and project.id is not None
    await events.on_ballot(
        session,
        ballot,
        BallotOpened(
            ballot_id=ballot.id,
            project_id=project.id,
            closes_at=ballot.closes_at.isoformat(),
            p_members=sorted(r.party for r in rows if r.is_p_member),
            voters=sorted(r.party for r in rows if r.may_vote),
            commenters=sorted(r.party for r in rows if r.may_comment),
        ),
        actor=principal,
        now=now,
    )
    if new_stage is not None:
        await projects.move_stage(
            session, project, new_stage, cause="ballot opened", actor=principal, now=now, ballot_id=ballot.id
        )
    return ballot


async def extend_ballot(
    session: AsyncSession, principal: Principal, ballot_id: int, closes_at: datetime, now: datetime
) -> tuple[Ballot, str | None]:
    ballot = await get_ballot(session, ballot_id, lock="update")
    require_secretary(principal, await committees.chain(session, ballot.committee_id))
    _require_aware(closes_at, "closes_at")
    if ballot.status not in (BallotStatus.DRAFT.value, BallotStatus.OPEN.value):
        raise Conflict(f"A {ballot.status} ballot's deadline cannot be changed; re-open it instead.")
    if ballot.status == BallotStatus.OPEN.value and deadline_passed(ballot, now):
        raise DeadlinePassed("The deadline has passed; close the ballot, then re-open it if needed.")
    if closes_at <= now:
        raise InvalidInput("The new closing time must be in the future.", field="closes_at")
    start = ballot.opened_at or ballot.opens_at or now
    warning = ballot_types.length_warning(BallotType(ballot.type), _weeks(start, closes_at))
    previous = ballot.closes_at
    ballot.closes_at = closes_at
    session.add(ballot)
    assert ballot.id is not None
    await events.on_ballot(
        session,
        ballot,
        BallotExtended(
            ballot_id=ballot.id,
            previous_closes_at=previous.isoformat(),
            closes_at=closes_at.isoformat(),
            warning=warning,
        ),
        actor=principal,
        now=now,
    )
    return ballot, warning


async def current_votes(session: AsyncSession, ballot_id: int) -> list[Vote]:
    """The latest vote of each body (votes are append-only)."""
    return await latest_votes(session, [ballot_id])


async def eligibility(session: AsyncSession, ballot_id: int) -> list[Eligibility]:
    query = select(Eligibility).where(Eligibility.ballot_id == ballot_id).order_by(Eligibility.party)
    return list((await session.execute(query)).scalars())


async def _counted(session: AsyncSession, ballot: Ballot) -> tuple[list[str], list[approval.CastVote]]:
    """The P-member snapshot and the votes that count, as the close reads them."""
    assert ballot.id is not None
    snapshot = {e.party: e for e in await eligibility(session, ballot.id)}
    cast = [
        approval.CastVote(
            body=v.body,
            position=Position(v.position),
            is_p_member=snapshot[v.body].is_p_member,
            reasons=bool(v.reasons.strip()),
            participate=v.participate,
        )
        for v in await current_votes(session, ballot.id)
        if v.body in snapshot and snapshot[v.body].may_vote
    ]
    return [e.party for e in snapshot.values() if e.is_p_member], cast


async def tally(session: AsyncSession, ballot: Ballot) -> approval.BallotResult:
    p_members, cast = await _counted(session, ballot)
    return approval.tally(BallotType(ballot.type), approval.rulebook(RulebookName(ballot.rulebook)), p_members, cast)


async def decisive_bodies(session: AsyncSession, ballot: Ballot) -> frozenset[str]:
    """The P-members that have not voted whose vote alone would decide the ballot now."""
    p_members, cast = await _counted(session, ballot)
    return decisive(BallotType(ballot.type), approval.rulebook(RulebookName(ballot.rulebook)), p_members, cast)


async def projection_for(session: AsyncSession, principal: Principal, ballot: Ballot) -> Projection | None:
    """Where an open ballot stands, for those who may see every vote (never a delegate: it would
    tell other bodies' votes); None otherwise and once the ballot is not open."""
    if ballot.status != BallotStatus.OPEN.value:
        return None
    if not is_committee_officer(principal, await committees.chain(session, ballot.committee_id)):
        return None
    p_members, cast = await _counted(session, ballot)
    return project(BallotType(ballot.type), approval.rulebook(RulebookName(ballot.rulebook)), p_members, cast)


async def close_ballot(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> Ballot:
    """Close now (the secretary) or at the deadline (the scheduler)."""
    ballot = await get_ballot(session, ballot_id, lock="update")
    require_secretary(principal, await committees.chain(session, ballot.committee_id), duty=Duty.CLOSE_AT_DEADLINE)
    if ballot.status != BallotStatus.OPEN.value:
        raise Conflict(f"Only an open ballot can be closed; this one is {ballot.status}.")
    # A vote written around the application (into the database directly) must not be counted.
    forged = await ledger.vote_findings(session, events.key_of(session), ballot)
    if forged:
        raise Conflict(
            "The ballot's votes do not match the record, so it is not closed; an administrator finds out "
            f"with `ballotdesk verify-log`: {'; '.join(str(f) for f in forged[:5])}"
        )
    result = await tally(session, ballot)
    project = await projects.get_project(session, ballot.project_id, lock=True)
    ballot.status = BallotStatus.CLOSED.value
    ballot.closed_at = now
    ballot.approved = result.approved
    ballot.result = result.to_dict()
    session.add(ballot)
    assert ballot.id is not None and project.id is not None
    await events.on_ballot(
        session,
        ballot,
        BallotClosed(
            ballot_id=ballot.id,
            project_id=project.id,
            approved=result.approved,
            result=ballot.result,
            by_deadline=principal.performs(Duty.CLOSE_AT_DEADLINE),
        ),
        actor=principal,
        now=now,
    )
    new_stage = stages.stage_on_close(BallotType(ballot.type))
    if new_stage is not None:
        await projects.move_stage(
            session, project, new_stage, cause="ballot closed", actor=principal, now=now, ballot_id=ballot.id
        )
    return ballot


async def due_ballots(session: AsyncSession, now: datetime, limit: int = 50) -> list[int]:
    """Open ballots whose deadline has passed; several schedulers may run this at once."""
    query = (
        select(Ballot.id)
        .where(Ballot.status == BallotStatus.OPEN.value, col(Ballot.closes_at) <= now)
        .order_by(col(Ballot.closes_at))
        .limit(limit)
    )
    return [int(i) for i in (await session.execute(query)).scalars()]


async def reopen_ballot(
    session: AsyncSession, principal: Principal, ballot_id: int, data: api.BallotReopen, now: datetime
) -> Ballot:
    ballot = await get_ballot(session, ballot_id, lock="update")
    require_secretary(principal, await committees.chain(session, ballot.committee_id))
    _require_aware(data.closes_at, "closes_at")
    if ballot.status != BallotStatus.CLOSED.value:
        raise Conflict(f"Only a closed ballot can be re-opened; this one is {ballot.status}.")
    if ballot.decision is not None:
        raise Conflict(f"The decision {ballot.decision} has been taken on this ballot; it cannot be re-opened.")
    if data.closes_at <= now:
        raise InvalidInput("The new closing time must be in the future.", field="closes_at")
    project = await projects.get_project(session, ballot.project_id, lock=True)
    previous = ballot.result
    ballot.status = BallotStatus.OPEN.value
    ballot.closes_at = data.closes_at
    ballot.closed_at = None
    ballot.approved = None
    ballot.result = None
    session.add(ballot)
    assert ballot.id is not None
    await events.on_ballot(
        session,
        ballot,
        BallotReopened(
            ballot_id=ballot.id,
            closes_at=data.closes_at.isoformat(),
            reason=data.reason.strip(),
            previous_result=previous,
        ),
        actor=principal,
        now=now,
    )
    open_stage = stages.stage_on_open_code(BallotType(ballot.type))
    if open_stage is not None:
        await projects.move_stage(
            session,
            project,
            open_stage,
            cause="ballot re-opened",
            actor=principal,
            now=now,
            ballot_id=ballot.id,
            reason=data.reason.strip(),
        )
    return ballot


async def cancel_ballot(
    session: AsyncSession, principal: Principal, ballot_id: int, reason: str, now: datetime
) -> Ballot:
    ballot = await get_ballot(session, ballot_id, lock="update")
    require_secretary(principal, await committees.chain(session, ballot.committee_id))
    if ballot.status not in (BallotStatus.DRAFT.value, BallotStatus.OPEN.value):
        raise Conflict(f"Only a draft or open ballot can be cancelled; this one is {ballot.status}.")
    was_open = ballot.status == BallotStatus.OPEN.value
    ballot.status = BallotStatus.CANCELLED.value
    ballot.cancelled_at = now
    session.add(ballot)
    assert ballot.id is not None
    await events.on_ballot(
        session, ballot, BallotCancelled(ballot_id=ballot.id, reason=reason.strip()), actor=principal, now=now
    )
    if was_open and ballot.stage_before_open:
        project = await projects.get_project(session, ballot.project_id, lock=True)
        await projects.move_stage(
            session,
            project,
            ballot.stage_before_open,
            cause="ballot cancelled",
            actor=principal,
            now=now,
            ballot_id=ballot.id,
            reason=reason.strip(),
        )
    return ballot
