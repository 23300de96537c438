"""What a vote request comes to, decided before anything is written: refused, a repeat that
records nothing, or the vote row to write. Pure: the caller reads the context in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas import api
from schemas.enums import BallotStatus, BallotType, Position, Role
from schemas.events import VoteCast, VoteChanged
from services.rules import ballot_types, digests
from services.rules.actors import Principal, require_body
from services.rules.errors import Conflict, DeadlinePassed, Forbidden, InvalidInput, NotFound


@dataclass(frozen=True)
class PreviousVote:
    """The body's latest vote on the ballot."""

    id: int
    position: str
    reasons: str
    participate: bool | None
    experts: list[dict[str, str]] | None
    actor: str
    on_behalf_of: str
    cast_at: datetime


@dataclass(frozen=True)
class VoteContext:
    """Everything a vote is checked against: the ballot, the body's place in it, its latest vote."""

    status: str
    type: str
    closes_at: datetime
    closed_at: datetime | None
    committee_id: int
    party: str | None  # None: the body takes no part in this ballot
    may_vote: bool | None
    body_exists: bool
    previous: PreviousVote | None


@dataclass(frozen=True)
class RecordedVote:
    """A vote as recorded (or as found, for a repeat), with what the answer says about it."""

    ballot_id: int
    body: str
    position: str
    reasons: str
    participate: bool | None
    experts: list[dict[str, str]] | None
    actor: str
    on_behalf_of: str
    cast_at: datetime
    changed: bool = False
    warning: str | None = None


@dataclass(frozen=True)
class VoteDecision:
    values: dict[str, Any]  # the vote row to write, id aside
    committee_id: int
    previous_id: int | None
    previous_position: str | None
    experts: int
    warning: str | None
    same: PreviousVote | None  # an identical repeat: this is the vote, nothing is written

    def payload(self, vote_id: int) -> VoteCast | VoteChanged:
        v = self.values
        common = {
            "ballot_id": v["ballot_id"],
            "vote_id": vote_id,
            "body": v["body"],
            "position": v["position"],
            "reasons": bool(v["reasons"]),
            "participate": v["participate"],
            "experts": self.experts,
            "digest": digests.vote(v["position"], v["reasons"], v["participate"], v["experts"]),
        }
        if self.previous_position is None:
            return VoteCast(**common)
        return VoteChanged(**common, previous_position=self.previous_position)

    def recorded(self) -> RecordedVote:
        """The answer: the repeat found, or the values written."""
        if self.same is not None:
            s, v = self.same, self.values
            return RecordedVote(
                v["ballot_id"], v["body"], s.position, s.reasons, s.participate, s.experts, s.actor,
                s.on_behalf_of, s.cast_at, changed=True, warning=self.warning,
            )  # fmt: skip
        v = self.values
        return RecordedVote(
            v["ballot_id"], v["body"], v["position"], v["reasons"], v["participate"], v["experts"], v["actor"],
            v["on_behalf_of"], v["cast_at"], changed=self.previous_id is not None, warning=self.warning,
        )  # fmt: skip


def check_writable(status: str, closes_at: datetime, closed_at: datetime | None, now: datetime) -> None:
    """Votes and comments are taken only while the ballot is open and before its deadline."""
    if status == BallotStatus.DRAFT.value:
        raise Conflict("This ballot is not open yet.")
    if status == BallotStatus.CANCELLED.value:
        raise DeadlinePassed("This ballot was cancelled; votes and comments are no longer accepted.")
    if status == BallotStatus.CLOSED.value:
        when = closed_at or closes_at
        raise DeadlinePassed(
            f"This ballot was closed at {when:%Y-%m-%d %H:%M} UTC; votes and comments are no longer accepted."
        )
    if now >= closes_at:  # the one deadline rule: no writes from the closing instant on
        raise DeadlinePassed(
            f"The deadline of this ballot passed at {closes_at:%Y-%m-%d %H:%M} UTC; "
            "votes and comments are no longer accepted."
        )


def decide(
    context: VoteContext | None, principal: Principal, ballot_id: int, body: str, data: api.VotePut, now: datetime
) -> VoteDecision:
    if context is None:
        raise NotFound(f"There is no ballot {ballot_id}.")
    check_writable(context.status, context.closes_at, context.closed_at, now)
    on_behalf = require_body(principal, body, Role.DELEGATE)
    if context.party is None:
        if not context.body_exists:
            raise NotFound(f"There is no member body {body!r}.")
        raise Forbidden(f"{body} is not a participant in this ballot.")
    if not context.may_vote:
        raise Forbidden(f"{body} may comment on this ballot but not vote.")
    ballot_type = BallotType(context.type)
    spec = ballot_types.spec(ballot_type)
    if not ballot_types.position_allowed(ballot_type, data.position):
        allowed = ", ".join(p.value for p in spec.positions) or "none (comment-only)"
        raise InvalidInput(
            f"'{data.position.value}' is not a position on a {context.type} ballot. Allowed: {allowed}.",
            field="position",
        )
    if not spec.np_participation and (data.participate is not None or data.experts):
        raise InvalidInput("Participation and experts are asked only on NP ballots.", field="participate")
    reasons = (data.reasons or "").strip()
    participate = data.participate if spec.np_participation else None
    if spec.np_participation and participate is None:
        participate = False
    experts = [{"name": e.name.strip(), "email": e.email} for e in data.experts or []]
    warning = None
    if data.position is Position.DISAPPROVE and not reasons:
        warning = "A disapproval without technical reasons is recorded but not counted at DIS and FDIS."
    previous = context.previous
    same = None
    if (
        previous is not None
        and previous.position == data.position.value
        and previous.reasons == reasons
        and previous.participate == participate
        and (previous.experts or []) == experts
    ):
        same = previous
    values: dict[str, Any] = {
        "ballot_id": ballot_id,
        "body": body,
        "position": data.position.value,
        "reasons": reasons,
        "participate": participate,
        "experts": experts or None,
        "actor_id": principal.user_id,
        "actor": principal.label,
        "on_behalf_of": on_behalf or body,
        "cast_at": now,
    }
    return VoteDecision(
        values,
        context.committee_id,
        previous.id if previous else None,
        previous.position if previous else None,
        len(experts),
        warning,
        same,
    )
