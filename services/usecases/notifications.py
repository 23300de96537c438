"""Who is told what, by e-mail, when something happens to a ballot (SPEC §6).

Composes messages from an event and the current data; sending is the workers' business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import Role
from schemas.tables import Ballot, Committee, Event, Project, RoleGrant, User
from services.rules import draft_names
from services.usecases import ballots, committees


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


async def _emails(session: AsyncSession, *, bodies: Iterable[str] = (), committees: Iterable[int] = ()) -> list[str]:
    """Active users who act for these bodies, or hold an office in these committees."""
    bodies, committees = sorted(set(bodies)), sorted(set(committees))
    conditions = []
    if bodies:
        conditions.append(
            col(RoleGrant.member_body).in_(bodies)
            & col(RoleGrant.role).in_([Role.DELEGATE.value, Role.COMMENTER.value])
        )
    if committees:
        conditions.append(
            col(RoleGrant.committee_id).in_(committees)
            & col(RoleGrant.role).in_([Role.SECRETARY.value, Role.CONVENOR.value])
        )
    if not conditions:
        return []
    where = conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1]
    query = (
        select(User.email)
        .join(RoleGrant, col(RoleGrant.user_id) == col(User.id))
        .where(where, col(User.active).is_(True))
        .distinct()
    )
    return sorted((await session.execute(query)).scalars())


async def _describe(session: AsyncSession, ballot: Ballot) -> tuple[str, str]:
    project = await session.get(Project, ballot.project_id)
    committee = await session.get(Committee, ballot.committee_id)
    assert project is not None and committee is not None
    document = draft_names.of_ballot(ballot, project)
    return committee.reference, f"{document} ({ballot.type}) — {project.title}"


DECISIVE = (
    "Your vote can decide this ballot: as the votes stand, it would be approved with your approval and "
    "not approved with your disapproval.\n"
)


async def mails_for(session: AsyncSession, event: Event, public_url: str, *, say_decisive: bool = False) -> list[Mail]:
    """`say_decisive`: a reminder tells a body whose vote alone would decide the ballot so (an
    installation setting: it tells that body something about the others' votes)."""
    ballot_id = event.payload.get("ballot_id")
    if not isinstance(ballot_id, int):
        return []
    ballot = await session.get(Ballot, ballot_id)
    if ballot is None:
        return []
    committee, what = await _describe(session, ballot)
    link = f"{public_url}/ballots/{ballot_id}"
    deadline = f"{ballot.closes_at:%Y-%m-%d %H:%M} UTC"
    snapshot = await ballots.eligibility(session, ballot_id)
    participants = [e.party for e in snapshot if e.may_vote or e.may_comment]
    officers = await committees.chain(session, ballot.committee_id)

    if event.type == "ballot.opened":
        to = await _emails(session, bodies=participants)
        subject = f"[{committee}] Ballot open until {deadline}: {what}"
        body = f"A ballot has opened on {what}.\nIt closes at {deadline}.\n\nVote and comment: {link}\n"
    elif event.type == "ballot.extended":
        to = await _emails(session, bodies=participants)
        subject = f"[{committee}] Deadline changed to {deadline}: {what}"
        body = f"The closing time of the ballot on {what} is now {deadline}.\n\n{link}\n"
    elif event.type == "ballot.reopened":
        to = await _emails(session, bodies=participants, committees=officers)
        subject = f"[{committee}] Ballot re-opened until {deadline}: {what}"
        reason = event.payload.get("reason", "")
        body = f"The ballot on {what} has been re-opened until {deadline}.\nReason: {reason}\n\n{link}\n"
    elif event.type == "ballot.reminder_due":
        voted = {v.body for v in await ballots.current_votes(session, ballot_id)}
        missing = [e.party for e in snapshot if e.may_vote and e.party not in voted]
        days = event.payload.get("days_before")
        subject = f"[{committee}] Reminder: your vote is due by {deadline}: {what}"
        body = f"Your body has not voted yet on {what}.\nThe ballot closes at {deadline} ({days} days).\n\n{link}\n"
        decides = await ballots.decisive_bodies(session, ballot) if say_decisive else frozenset()
        told = await _emails(session, bodies=[b for b in missing if b in decides]) if decides else []
        told_body = body.replace("\n\n", f"\n{DECISIVE}\n", 1)
        others = [a for a in await _emails(session, bodies=[b for b in missing if b not in decides]) if a not in told]
        return [Mail(a, subject, told_body) for a in told] + [Mail(a, subject, body) for a in others]
    elif event.type == "ballot.closed":
        to = await _emails(session, bodies=participants, committees=officers)
        result = event.payload.get("result", {})
        outcome = "approved" if event.payload.get("approved") else "not approved"
        subject = f"[{committee}] Ballot closed, {outcome}: {what}"
        body = f"The ballot on {what} has closed: {outcome}.\n\n{result.get('arithmetic', '')}\n\n{link}\n"
    elif event.type == "document.generated":
        to = await _emails(session, committees=officers)
        kind = "compiled comment table" if event.payload.get("kind") == "comment_table" else "results report"
        subject = f"[{committee}] The {kind} is ready: {what}"
        body = f"The {kind} for {what} is ready to download.\n\n{link}\n"
    else:
        return []
    return [Mail(to=address, subject=subject, body=body) for address in to]
