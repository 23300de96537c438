"""The API's answers built from the tables: one presenter per resource, for both faces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import BallotType
from schemas.tables import (
    ApiToken,
    Ballot,
    Comment,
    Committee,
    Event,
    LoginAttempt,
    Project,
    RoleGrant,
    StageChange,
    User,
    Vote,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from services.rules import ballot_types, draft_names, stage_codes
from services.rules.actors import Principal
from services.rules.projection import Projection
from services.rules.vote_decision import RecordedVote
from services.usecases import committees, projects
from services.usecases.ballots import deadline_passed, projection_for
from services.usecases.similar import Earlier


def projection_out(projection: Projection | None) -> api.BallotProjection | None:
    if projection is None:
        return None
    return api.BallotProjection(
        approved_if_closed_now=projection.approved_if_closed_now,
        criteria=[api.ProjectedCriterion(c.name, c.passed, c.arithmetic) for c in projection.criteria],
        not_voted=list(projection.not_voted),
        can_still_pass=projection.can_still_pass,
        can_still_fail=projection.can_still_fail,
        needs=projection.needs,
    )


async def ballot_out(
    session: AsyncSession,
    ballot: Ballot,
    now: datetime,
    *,
    project: Project | None = None,
    warning: str | None = None,
    viewer: Principal | None = None,
) -> api.BallotOut:
    """`viewer`: who reads one ballot; an officer of its committee also gets the projection."""
    assert ballot.id is not None
    project = project or await projects.get_project(session, ballot.project_id)
    spec = ballot_types.spec(BallotType(ballot.type))
    decisions = projects.decisions_for(ballot, project.deliverable)
    document = draft_names.of_ballot(ballot, project)
    return api.BallotOut(
        id=ballot.id,
        project_id=ballot.project_id,
        committee_id=ballot.committee_id,
        type=ballot.type,
        rulebook=ballot.rulebook,
        status=ballot.status,
        document=document,
        question=ballot.question,
        opens_at=ballot.opens_at,
        closes_at=ballot.closes_at,
        opened_at=ballot.opened_at,
        closed_at=ballot.closed_at,
        deadline_passed=deadline_passed(ballot, now),
        positions=[p.value for p in spec.positions],
        p_member_count=ballot.p_member_count,
        result=ballot.result,
        decision=ballot.decision,
        decisions_allowed=[api.DecisionOption(code=d.code, label=d.label, path=list(d.path)) for d in decisions],
        warning=warning,
        projection=projection_out(await projection_for(session, viewer, ballot)) if viewer else None,
    )


async def ballot_outs(session: AsyncSession, rows: Sequence[Ballot], now: datetime) -> list[api.BallotOut]:
    """Many ballots, their projects read in one query."""
    ids = {b.project_id for b in rows}
    found = list((await session.execute(select(Project).where(col(Project.id).in_(ids)))).scalars()) if ids else []
    by_id = {p.id: p for p in found}
    return [await ballot_out(session, b, now, project=by_id[b.project_id]) for b in rows]


def vote_out(vote: Vote | RecordedVote) -> api.VoteOut:
    """A stored vote, or one just taken (which knows whether it changed one, and its warning)."""
    changed, warning = (vote.changed, vote.warning) if isinstance(vote, RecordedVote) else (False, None)
    return api.VoteOut(
        ballot_id=vote.ballot_id,
        body=vote.body,
        position=vote.position,
        reasons=vote.reasons,
        reasons_given=bool(vote.reasons),
        participate=vote.participate,
        experts=vote.experts or [],
        actor=vote.actor,
        on_behalf_of=vote.on_behalf_of,
        cast_at=vote.cast_at,
        changed=changed,
        warning=warning,
    )


def comment_out(c: Comment, earlier: Sequence[api.EarlierOut] = ()) -> api.CommentOut:
    return api.CommentOut(
        reference=c.reference,
        body=c.body,
        line=c.line,
        clause=c.clause,
        element=c.element,
        type=c.type,
        comment=c.comment,
        proposed_change=c.proposed_change,
        observation=c.observation,
        disposition=c.disposition,
        original_reference=c.original_reference,
        submitted_at=c.submitted_at,
        earlier=list(earlier),
    )


def earlier_out(e: Earlier) -> api.EarlierOut:
    return api.EarlierOut(
        ballot_id=e.ballot_id,
        ballot_type=e.ballot_type,
        reference=e.reference,
        observation=e.observation,
        disposition=e.disposition,
    )


def project_out(project: Project, iteration: int = 1) -> api.ProjectOut:
    assert project.id is not None
    return api.ProjectOut(
        id=project.id,
        committee_id=project.committee_id,
        reference=project.reference,
        title=project.title,
        deliverable=project.deliverable,
        stage=project.stage,
        stage_name=stage_codes.STAGE_NAMES.get(project.stage, ""),
        document=draft_names.of_project(project, iteration),
    )


def user_out(user: User, grants: list[RoleGrant]) -> api.UserOut:
    assert user.id is not None
    return api.UserOut(
        id=user.id,
        name=user.name,
        email=user.email,
        roles=[api.RoleOut(role=g.role, committee_id=g.committee_id, member_body=g.member_body) for g in grants],
    )


def token_info(t: ApiToken, now: datetime) -> api.TokenInfo:
    assert t.id is not None
    return api.TokenInfo(
        id=t.id,
        label=t.label,
        created_at=t.created_at,
        expires_at=t.expires_at,
        revoked_at=t.revoked_at,
        active=t.revoked_at is None and t.expires_at > now,
    )


def login_attempt_out(a: LoginAttempt) -> api.LoginAttemptOut:
    assert a.id is not None
    return api.LoginAttemptOut(
        id=a.id, occurred_at=a.occurred_at, email=a.email, address=a.address, succeeded=a.succeeded
    )


def event_out(e: Event) -> api.EventOut:
    assert e.id is not None
    return api.EventOut(
        id=e.id,
        occurred_at=e.occurred_at,
        type=e.type,
        aggregate=e.aggregate,
        actor=e.actor,
        on_behalf_of=e.on_behalf_of,
        payload=e.payload,
        version=e.version,
    )


def stage_change_out(s: StageChange) -> api.StageChangeOut:
    return api.StageChangeOut(
        from_stage=s.from_stage,
        to_stage=s.to_stage,
        cause=s.cause,
        ballot_id=s.ballot_id,
        reason=s.reason,
        actor=s.actor,
        occurred_at=s.occurred_at,
    )


async def committee_out(session: AsyncSession, committee: Committee) -> api.CommitteeOut:
    assert committee.id is not None
    bodies = {b.code: b for b in await committees.list_bodies(session)}
    members = [
        api.MemberOut(code=m.body, acronym=bodies[m.body].acronym, status=m.status, since=m.valid_from)
        for m in await committees.current_members(session, committee.id)
    ]
    liaisons = [
        api.LiaisonOut(code=li.code, name=li.name, category=li.category, since=li.valid_from)
        for li in await committees.current_liaisons(session, committee.id)
    ]
    return api.CommitteeOut(
        id=committee.id,
        reference=committee.reference,
        title=committee.title,
        parent_id=committee.parent_id,
        secretariat=committee.secretariat,
        members=members,
        liaisons=liaisons,
    )


def webhook_out(hook: Webhook) -> api.WebhookOut:
    """A webhook as listed: never its secret."""
    assert hook.id is not None
    return api.WebhookOut(
        id=hook.id,
        url=hook.url,
        events=hook.events,
        committee_id=hook.committee_id,
        description=hook.description,
        active=hook.active,
        created_at=hook.created_at,
        disabled_at=hook.disabled_at,
        failing_since=hook.failing_since,
    )


def webhook_created(hook: Webhook, secret: str) -> api.WebhookCreated:
    """A webhook just registered or given a new secret: the one answer that shows the secret."""
    assert hook.id is not None
    return api.WebhookCreated(
        id=hook.id,
        url=hook.url,
        events=hook.events,
        committee_id=hook.committee_id,
        description=hook.description,
        secret=secret,
    )


def webhook_attempt_out(attempt: WebhookAttempt, delivery: WebhookDelivery, event_type: str) -> api.WebhookAttemptOut:
    return api.WebhookAttemptOut(
        delivery_id=int(delivery.id or 0),
        event_id=delivery.event_id,
        event_type=event_type,
        attempted_at=attempt.attempted_at,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
        next_attempt_at=attempt.next_attempt_at,
        delivery_status=delivery.status,
    )
