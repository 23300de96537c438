"""What an irreversible control will do, said before it is done (issue #13): closing a ballot
before its deadline, cancelling it, re-opening it, taking a body's P-membership away.

Each read model names the counts and the moves the use case would make, so the confirmation
page says them in words ("9 P-members, 7 have voted; closing now ends voting for 2")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import BallotStatus, BallotType, MemberStatus
from schemas.tables import Ballot
from services.rules import draft_names, stages
from services.rules.actors import Principal, require_secretary
from services.rules.stage_codes import STAGE_NAMES
from services.usecases import ballots, committees, projects
from services.usecases.lookups import latest_votes


@dataclass(frozen=True)
class Confirmation:
    """One confirmation page: what is asked, what will happen, where to go back to."""

    title: str
    facts: tuple[str, ...]
    back: str
    back_label: str


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _have(n: int) -> str:
    return f"{n} {'has' if n == 1 else 'have'}"


def _stage(code: str) -> str:
    name = STAGE_NAMES.get(code)
    return f"{code} ({name})" if name else code


def _left(ballot: Ballot, now: datetime) -> str:
    seconds = (ballot.closes_at - now).total_seconds()
    days = int(seconds // 86400)
    if days >= 2:
        return f"{days} days"
    hours = int(seconds // 3600)
    return _plural(hours, "hour") if hours >= 1 else "less than an hour"


@dataclass(frozen=True)
class Turnout:
    p_members: tuple[str, ...]
    p_voted: tuple[str, ...]
    voters: int
    voted: int

    @property
    def p_missing(self) -> tuple[str, ...]:
        return tuple(b for b in self.p_members if b not in self.p_voted)

    def sentence(self, ending: str) -> str:
        """`ending` says what the action does to the P-members that have not voted, with `{n}`
        and `{names}` for them ("closing now ends voting for {n} ({names})")."""
        missing = self.p_missing
        said = f"{_plural(len(self.p_members), 'P-member')}, {_have(len(self.p_voted))} voted"
        if missing:
            said += "; " + ending.format(n=len(missing), names=", ".join(missing))
        else:
            said += "; every P-member has voted"
        return said + "."

    def all_bodies(self) -> str | None:
        if self.voters == len(self.p_members):
            return None
        return f"Of the {self.voters} member bodies that may vote, {_have(self.voted)} voted."


async def _turnout(session: AsyncSession, ballot: Ballot) -> Turnout:
    assert ballot.id is not None
    snapshot = await ballots.eligibility(session, ballot.id)
    cast = {v.body for v in await latest_votes(session, [ballot.id])}
    p_members = tuple(e.party for e in snapshot if e.is_p_member and e.may_vote)
    voters = [e.party for e in snapshot if e.may_vote]
    return Turnout(
        p_members=p_members,
        p_voted=tuple(b for b in p_members if b in cast),
        voters=len(voters),
        voted=sum(1 for b in voters if b in cast),
    )


async def _secretary_ballot(session: AsyncSession, principal: Principal, ballot_id: int) -> tuple[Ballot, str, str]:
    ballot = await ballots.get_ballot(session, ballot_id)
    require_secretary(principal, await committees.chain(session, ballot.committee_id))
    project = await projects.get_project(session, ballot.project_id)
    return ballot, draft_names.of_ballot(ballot, project), project.stage


def closes_early(ballot: Ballot, now: datetime) -> bool:
    """Only a close before the deadline asks for a confirmation; at the deadline it is routine."""
    return ballot.status == BallotStatus.OPEN.value and now < ballot.closes_at


async def closing(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> Confirmation:
    ballot, document, _ = await _secretary_ballot(session, principal, ballot_id)
    turnout = await _turnout(session, ballot)
    facts = [
        f"The deadline is {ballot.closes_at:%Y-%m-%d %H:%M} UTC, {_left(ballot, now)} from now."
        if now < ballot.closes_at
        else f"The deadline passed on {ballot.closes_at:%Y-%m-%d %H:%M} UTC.",
        turnout.sentence("closing now ends voting for {n} ({names})"),
    ]
    if other := turnout.all_bodies():
        facts.append(other)
    closes = stages.stage_on_close(BallotType(ballot.type))
    facts.append(
        "The result is counted at once and published"
        + (f"; the project moves to stage {_stage(closes)}." if closes else ".")
    )
    facts.append("A closed ballot can be re-opened only with a reason, and not after the decision.")
    return Confirmation(
        title=f"Close {document} before its deadline?",
        facts=tuple(facts),
        back=f"/ballots/{ballot_id}",
        back_label="No, keep the ballot open",
    )


async def cancelling(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> Confirmation:
    ballot, document, stage = await _secretary_ballot(session, principal, ballot_id)
    facts: list[str] = []
    if ballot.status == BallotStatus.OPEN.value:
        turnout = await _turnout(session, ballot)
        facts.append(turnout.sentence("cancelling ends voting for {n} ({names})"))
        facts.append("The votes and comments made are kept in the record but never counted.")
        if ballot.stage_before_open and ballot.stage_before_open != stage:
            facts.append(f"The project goes back from stage {_stage(stage)} to {_stage(ballot.stage_before_open)}.")
    else:
        facts.append("The draft is never opened; no body is asked to vote.")
    facts.append("A cancelled ballot cannot be opened again; a new ballot would be needed.")
    return Confirmation(
        title=f"Cancel {document}?",
        facts=tuple(facts),
        back=f"/ballots/{ballot_id}",
        back_label="No, keep the ballot",
    )


async def reopening(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> Confirmation:
    ballot, document, stage = await _secretary_ballot(session, principal, ballot_id)
    turnout = await _turnout(session, ballot)
    outcome = "approved" if ballot.approved else "not approved"
    facts = [
        f"The result ({outcome}) is set aside; it is counted again when the ballot closes.",
        turnout.sentence("re-opening lets {n} more vote ({names})")
        + " Bodies that have voted may change their vote until the new deadline.",
    ]
    runs_at = stages.stage_on_open_code(BallotType(ballot.type))
    if runs_at and runs_at != stage:
        facts.append(f"The project goes back from stage {_stage(stage)} to {_stage(runs_at)}.")
    facts.append("The committee is told the reason you give.")
    return Confirmation(
        title=f"Re-open {document}?",
        facts=tuple(facts),
        back=f"/ballots/{ballot_id}",
        back_label="No, keep it closed",
    )


async def losing_p_membership(
    session: AsyncSession, principal: Principal, committee_id: int, code: str, status: str | None
) -> Confirmation | None:
    """The confirmation for taking `code`'s vote away (P to O, or ending a P-membership), or None
    when the change takes no vote away and needs none."""
    committee = await committees.get_committee(session, committee_id)
    require_secretary(principal, await committees.chain(session, committee_id))
    current = {m.body: m.status for m in await committees.current_members(session, committee_id)}
    if current.get(code) != MemberStatus.P.value or status == MemberStatus.P.value:
        return None
    open_here = await ballots.list_ballots(session, status=BallotStatus.OPEN.value, committee_id=committee_id)
    becomes = "an O-member: it may comment but no longer votes" if status else "no longer a member"
    if not open_here:
        running = "No ballot is open in the committee now."
    elif len(open_here) == 1:
        running = f"The ballot open now keeps the P-members it had at opening, so {code} can still vote on it."
    else:
        running = (
            f"The {len(open_here)} ballots open now keep the P-members they had at opening, "
            f"so {code} can still vote on them."
        )
    facts = [
        f"{code} becomes {becomes} in {committee.reference}'s ballots opened from now on.",
        running,
        "The change, with your reason, is in the committee's record.",
    ]
    return Confirmation(
        title=f"Change {code} from P-member to {'O-member' if status else 'no membership'}?",
        facts=tuple(facts),
        back=f"/committees/{committee_id}#members",
        back_label=f"No, {code} stays a P-member",
    )
