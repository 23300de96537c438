"""Projects, their stage history and the secretary's post-ballot decision."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import BallotStatus, BallotType, Deliverable
from schemas.events import BallotDecided, ProjectCreated, StageChanged
from schemas.tables import Ballot, Event, Project, StageChange
from services.platform import events
from services.rules import stage_codes, stage_decisions, stages
from services.rules.actors import Principal, require_secretary
from services.rules.errors import Conflict, InvalidInput
from services.usecases import committees
from services.usecases.lookups import get_or_404


async def get_project(session: AsyncSession, project_id: int, *, lock: bool = False) -> Project:
    return await get_or_404(session, Project, project_id, lock="update" if lock else None)


async def create_project(
    session: AsyncSession, principal: Principal, data: api.ProjectCreate, now: datetime
) -> Project:
    await committees.get_committee(session, data.committee_id)
    require_secretary(principal, await committees.chain(session, data.committee_id))
    if not stage_codes.is_valid_stage(data.stage):
        raise InvalidInput(f"{data.stage} is not a harmonized stage code.", field="stage")
    reference = data.reference.strip()
    if (await session.execute(select(Project).where(Project.reference == reference))).first():
        raise Conflict(f"Project {reference} already exists.")
    project = Project(
        committee_id=data.committee_id,
        reference=reference,
        title=data.title.strip(),
        deliverable=data.deliverable.value,
        stage=data.stage,
        published_year=data.published_year,
        created_at=now,
    )
    session.add(project)
    await session.flush()
    assert project.id is not None
    # A project may be registered at any stage (work that started before the installation).
    session.add(
        StageChange(
            project_id=project.id,
            from_stage=None,
            to_stage=project.stage,
            cause="registered",
            actor=principal.label,
            occurred_at=now,
        )
    )
    await events.on_project(
        session,
        project,
        ProjectCreated(
            project_id=project.id,
            committee_id=project.committee_id,
            reference=project.reference,
            deliverable=project.deliverable,
            stage=project.stage,
        ),
        actor=principal,
        now=now,
    )
    return project


async def move_stage(
    session: AsyncSession,
    project: Project,
    to_stage: str,
    *,
    cause: str,
    actor: Principal,
    now: datetime,
    ballot_id: int | None = None,
    reason: str = "",
) -> None:
    """The only way a project's stage changes: history row and event, in the caller's transaction."""
    assert project.id is not None
    from_stage = project.stage
    if from_stage == to_stage:
        return
    project.stage = to_stage
    session.add(project)
    label = actor.label
    session.add(
        StageChange(
            project_id=project.id,
            from_stage=from_stage,
            to_stage=to_stage,
            cause=cause,
            ballot_id=ballot_id,
            reason=reason,
            actor=label,
            occurred_at=now,
        )
    )
    await events.on_project(
        session,
        project,
        StageChanged(
            project_id=project.id,
            from_stage=from_stage,
            to_stage=to_stage,
            cause=cause,
            ballot_id=ballot_id,
            reason=reason,
        ),
        actor=actor,
        now=now,
    )


async def decidable_ballot(session: AsyncSession, project_id: int, ballot_id: int | None) -> Ballot:
    """The closed ballot a decision follows: the one named, or the project's latest closed one."""
    query = select(Ballot).where(Ballot.project_id == project_id, Ballot.status == BallotStatus.CLOSED.value)
    if ballot_id is not None:
        query = query.where(Ballot.id == ballot_id)
    query = query.order_by(col(Ballot.closed_at).desc(), col(Ballot.id).desc()).limit(1)
    ballot = (await session.execute(query)).scalar_one_or_none()
    if ballot is None:
        raise Conflict("There is no closed ballot on this project to decide on.")
    return ballot


def decisions_for(ballot: Ballot, deliverable: str) -> tuple[stages.Decision, ...]:
    if ballot.status != BallotStatus.CLOSED.value or ballot.decision is not None:
        return ()
    return stages.allowed_decisions(BallotType(ballot.type), Deliverable(deliverable), ballot.approved)


async def decide(
    session: AsyncSession, principal: Principal, project_id: int, data: api.DecisionCreate, now: datetime
) -> Project:
    project = await get_project(session, project_id, lock=True)
    require_secretary(principal, await committees.chain(session, project.committee_id))
    ballot = await decidable_ballot(session, project_id, data.ballot_id)
    if ballot.decision is not None:
        raise Conflict(f"Ballot {ballot.id} already has its decision ({ballot.decision}).")
    try:
        chosen = stages.decision(
            BallotType(ballot.type), Deliverable(project.deliverable), ballot.approved, data.decision
        )
    except stages.StageError as exc:
        raise Conflict(str(exc), field="decision") from exc
    ballot.decision = chosen.code
    ballot.decided_at = now
    session.add(ballot)
    assert ballot.id is not None and project.id is not None
    await events.on_ballot(
        session,
        ballot,
        BallotDecided(
            ballot_id=ballot.id,
            project_id=project.id,
            decision=chosen.code,
            path=list(chosen.path),
            reason=data.reason.strip(),
        ),
        actor=principal,
        now=now,
    )
    for step in chosen.path:
        await move_stage(
            session,
            project,
            step,
            cause="decision",
            actor=principal,
            now=now,
            ballot_id=ballot.id,
            reason=data.reason.strip(),
        )
    return project


async def decide_stage(
    session: AsyncSession, principal: Principal, project_id: int, code: str, reason: str, now: datetime
) -> stage_decisions.Move:
    """A committee's stage decision without a ballot (e.g. an AWI's WD approved, 20.99 → 30.00):
    only a move the table allows from the project's stage, with its reason, in the stage history
    and the record."""
    project = await get_project(session, project_id, lock=True)
    require_secretary(principal, await committees.chain(session, project.committee_id))
    if not reason.strip():
        raise InvalidInput("Give the reason for the decision (e.g. the resolution it follows).", field="reason")
    running = (
        await session.execute(
            select(Ballot.id).where(Ballot.project_id == project_id, Ballot.status == BallotStatus.OPEN.value)
        )
    ).first()
    if running is not None:
        raise Conflict(f"Ballot {running[0]} is open on this project; its result decides the next stage.")
    chosen = stage_decisions.move(Deliverable(project.deliverable), project.stage, code)
    if chosen is None:
        offered = ", ".join(
            m.code for m in stage_decisions.allowed_moves(Deliverable(project.deliverable), project.stage)
        )
        raise InvalidInput(
            f"{code or 'This'} is not a decision that can be recorded at stage {project.stage}"
            + (f"; the choices are {offered}." if offered else "; a ballot decides the next stage."),
            field="decision",
        )
    for step in chosen.path:
        await move_stage(
            session, project, step, cause="stage decision", actor=principal, now=now, reason=reason.strip()
        )
    return chosen


async def history(session: AsyncSession, project_id: int) -> list[StageChange]:
    await get_project(session, project_id)
    query = select(StageChange).where(StageChange.project_id == project_id).order_by(col(StageChange.id))
    return list((await session.execute(query)).scalars())


# Events that reveal a body's vote or comments: shown in a project's history only once the
# ballot has closed, unless the reader may see them anyway (SPEC §3.4).
_BALLOT_PRIVATE = ("vote.", "comments.", "comment.")


async def history_events(session: AsyncSession, project_id: int, *, officer: bool, own_bodies: set[str]) -> list[Event]:
    ballot_rows = (await session.execute(select(Ballot.id, Ballot.status).where(Ballot.project_id == project_id))).all()
    status = {f"ballot:{bid}": st for bid, st in ballot_rows}
    aggregates = [f"project:{project_id}", *status]
    query = select(Event).where(col(Event.aggregate).in_(aggregates)).order_by(col(Event.id))
    visible = []
    for e in (await session.execute(query)).scalars():
        private = e.type.startswith(_BALLOT_PRIVATE) and status.get(e.aggregate) != BallotStatus.CLOSED.value
        if private and not officer and e.on_behalf_of not in own_bodies:
            continue
        visible.append(e)
    return visible


async def list_projects(session: AsyncSession, committee_id: int | None = None) -> list[Project]:
    query = select(Project).order_by(Project.reference)
    if committee_id is not None:
        query = query.where(Project.committee_id == committee_id)
    return list((await session.execute(query)).scalars())
