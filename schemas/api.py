"""Request and response bodies of the JSON API (`/api/v1`).

Requests refuse unknown fields so a typo in a client is an error, not a silently ignored value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from schemas import comments as comment_fields
from schemas.enums import (
    BallotType,
    CommentType,
    Deliverable,
    Disposition,
    LiaisonCategory,
    MemberStatus,
    Position,
    Role,
    RulebookName,
)

# Titles, names, references, clause and line: one line of text. A CR/LF in a title once went into
# e-mail subjects and text logs; no control character is taken where one line is meant.
ONE_LINE = r"^[^\x00-\x1f\x7f\u2028\u2029]*$"


def one_line(max_length: int, min_length: int = 0) -> Meta:
    return Meta(min_length=min_length, max_length=max_length, pattern=ONE_LINE)


def breaks_one_line(validation_message: str) -> bool:
    """Whether msgspec's message is about ONE_LINE (it quotes the pattern as Python would)."""
    return repr(ONE_LINE) in validation_message


Short = Annotated[str, one_line(200, 1)]
Code = Annotated[str, Meta(min_length=2, max_length=8, pattern=r"^([A-Z]{2,8}|\*\*)$")]
Stage = Annotated[str, Meta(pattern=r"^\d{2}\.\d{2}$")]
Text = Annotated[str, Meta(max_length=comment_fields.MAX_TEXT)]
Reason = Annotated[str, Meta(max_length=4000)]
Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
# A row's id: the id columns are PostgreSQL integers.
Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class MemberBodyCreate(Request):
    code: Code
    acronym: Annotated[str, one_line(32, 1)]
    name: Short


class MemberBodyOut(msgspec.Struct):
    code: str
    acronym: str
    name: str


class CommitteeCreate(Request):
    reference: Annotated[str, one_line(100, 3)]
    title: Annotated[str, one_line(300, 1)]
    parent_id: Id | None = None
    secretariat: Code | None = None


class MemberOut(msgspec.Struct):
    code: str
    acronym: str
    status: str
    since: datetime


class LiaisonOut(msgspec.Struct):
    code: str
    name: str
    category: str
    since: datetime


class CommitteeOut(msgspec.Struct):
    id: int
    reference: str
    title: str
    parent_id: int | None
    secretariat: str | None
    members: list[MemberOut] = []
    liaisons: list[LiaisonOut] = []


class LedgerBallotOut(msgspec.Struct):
    """One opened ballot of the participation ledger; `closed_early`: closed before its deadline,
    so it does not count against the P-members that had not voted."""

    id: int
    document: str
    type: str
    status: str
    closes_at: datetime
    closed_at: datetime | None
    closed_early: bool
    p_members: list[str]
    voted: list[str]
    not_voted: list[str]


class LedgerMemberOut(msgspec.Struct):
    body: str
    counted: int
    voted: int
    missed: int
    closed_early: int


class CandidateOut(msgspec.Struct):
    body: str
    reason: str
    reasons: list[str]
    ballots_missed: list[int]


class ParticipationOut(msgspec.Struct):
    ballots: list[LedgerBallotOut]
    members: list[LedgerMemberOut]
    candidates: list[CandidateOut]


class MembershipPut(Request):
    status: MemberStatus


class LiaisonPut(Request):
    code: Annotated[str, one_line(40, 1)]
    category: LiaisonCategory
    name: Annotated[str, one_line(300)] = ""


class ProjectCreate(Request):
    committee_id: Id
    reference: Annotated[str, one_line(100, 3)]
    title: Annotated[str, one_line(500, 1)]
    deliverable: Deliverable
    stage: Stage
    published_year: Annotated[int, Meta(ge=1947, le=2100)] | None = None


class StageChangeOut(msgspec.Struct):
    from_stage: str | None
    to_stage: str
    cause: str
    ballot_id: int | None
    reason: str
    actor: str
    occurred_at: datetime


class ProjectOut(msgspec.Struct):
    id: int
    committee_id: int
    reference: str
    title: str
    deliverable: str
    stage: str
    stage_name: str
    document: str


class ProjectHistory(msgspec.Struct):
    project: ProjectOut
    stages: list[StageChangeOut]
    events: list[EventOut]


class DecisionCreate(Request):
    decision: Stage
    reason: Annotated[str, Meta(min_length=1, max_length=4000)]
    ballot_id: Id | None = None


class DecisionOption(msgspec.Struct):
    code: str
    label: str
    path: list[str]


class RoleIn(Request):
    role: Role
    committee_id: Id | None = None
    member_body: Code | None = None


class UserCreate(Request):
    name: Short
    email: Email
    roles: Annotated[list[RoleIn], Meta(max_length=50)] = []
    password: Annotated[str, Meta(min_length=10, max_length=200)] | None = None


class RoleOut(msgspec.Struct):
    role: str
    committee_id: int | None
    member_body: str | None


class UserOut(msgspec.Struct):
    id: int
    name: str
    email: str
    roles: list[RoleOut]


class TokenCreate(Request):
    label: Annotated[str, one_line(100)] = ""
    # Lifetime; the server's default when absent, never more than its maximum (BALLOTDESK_TOKEN_MAX_DAYS).
    days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class TokenOut(msgspec.Struct):
    id: int
    token: str
    label: str
    expires_at: datetime


class TokenInfo(msgspec.Struct):
    """A token without its secret (which the server never kept)."""

    id: int
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class Revoked(msgspec.Struct):
    revoked: int


class LoginAttemptOut(msgspec.Struct):
    id: int
    occurred_at: datetime
    email: str
    address: str
    succeeded: bool


class BallotCreate(Request):
    project_id: Id
    type: BallotType
    closes_at: datetime
    opens_at: datetime | None = None
    rulebook: RulebookName = RulebookName.ISO
    question: Reason = ""


class BallotExtend(Request):
    closes_at: datetime


class BallotReopen(Request):
    closes_at: datetime
    reason: Annotated[str, Meta(min_length=1, max_length=4000)]


class BallotCancel(Request):
    reason: Reason = ""


class EligibleOut(msgspec.Struct):
    party: str
    kind: str
    is_p_member: bool
    may_vote: bool
    may_comment: bool


class ProjectedCriterion(msgspec.Struct):
    name: str
    met: bool
    arithmetic: str


class BallotProjection(msgspec.Struct):
    approved_if_closed_now: bool
    criteria: list[ProjectedCriterion]
    not_voted: list[str]
    can_still_pass: bool
    can_still_fail: bool
    needs: str


class BallotOut(msgspec.Struct):
    id: int
    project_id: int
    committee_id: int
    type: str
    rulebook: str
    status: str
    document: str
    question: str
    opens_at: datetime | None
    closes_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    deadline_passed: bool
    positions: list[str]
    p_member_count: int | None
    result: dict[str, Any] | None
    decision: str | None
    decisions_allowed: list[DecisionOption]
    warning: str | None = None
    # While open, for the secretary, convenor and admin only: what closing now would decide,
    # whether the P-members that have not voted can still change it, and what it needs
    # (services.rules.projection: the close's own rule).
    projection: BallotProjection | None = None


class Expert(Request):
    name: Annotated[str, one_line(200, 1)]
    email: Email | None = None


class VotePut(Request):
    position: Position
    reasons: Text | None = None
    participate: bool | None = None
    experts: Annotated[list[Expert], Meta(max_length=100)] | None = None


class VoteOut(msgspec.Struct):
    ballot_id: int
    body: str
    position: str
    reasons: str
    reasons_given: bool
    participate: bool | None
    experts: list[dict[str, Any]]
    actor: str
    on_behalf_of: str
    cast_at: datetime
    changed: bool
    warning: str | None = None


class CommentIn(Request):
    comment: Annotated[str, Meta(min_length=1, max_length=comment_fields.MAX_TEXT)]
    line: Annotated[str, one_line(comment_fields.MAX_LINE)] = ""
    clause: Annotated[str, one_line(comment_fields.MAX_CLAUSE)] = ""
    element: Annotated[str, one_line(comment_fields.MAX_ELEMENT)] = ""
    type: CommentType | None = None
    proposed_change: Text = ""


class CommentsPut(Request):
    comments: Annotated[list[CommentIn], Meta(max_length=comment_fields.MAX_PER_SET)]


class EarlierOut(msgspec.Struct):
    """The same body's comment on an earlier ballot of the project that says the same."""

    ballot_id: int
    ballot_type: str
    reference: str
    observation: str
    disposition: str | None


class CommentOut(msgspec.Struct):
    reference: str
    body: str
    line: str
    clause: str
    element: str
    type: str
    comment: str
    proposed_change: str
    observation: str
    disposition: str | None
    original_reference: str
    submitted_at: datetime
    earlier: list[EarlierOut] = msgspec.field(default_factory=list)  # filled by ListComments only


class ProjectCommentOut(msgspec.Struct):
    ballot_id: int
    ballot_type: str  # the stage the comment was made at
    ballot_status: str
    comment: CommentOut


class CommentSetOut(msgspec.Struct, omit_defaults=True):
    ballot_id: int
    body: str
    set_version: int
    comments: list[CommentOut]
    # ".doc" or ".odt" when the uploaded file was converted to .docx before it was read.
    converted_from: str | None = None


class ObservationPut(Request):
    observation: Text
    disposition: Disposition | None = None


class ObservationsPut(Request):
    """One observation and disposition for several comments (a group of similar ones)."""

    references: Annotated[
        list[Annotated[str, one_line(comment_fields.MAX_REFERENCE, 1)]], Meta(min_length=1, max_length=500)
    ]
    observation: Text
    disposition: Disposition | None = None


class SimilarGroupOut(msgspec.Struct):
    references: list[str]  # one comment per body, in the compiled table's order
    clause: str  # the clause most of them name
    score: float  # 0..1: the weakest similarity that holds the group together


class SimilarOut(msgspec.Struct):
    groups: list[SimilarGroupOut]


class EventOut(msgspec.Struct):
    id: int
    occurred_at: datetime
    type: str
    aggregate: str
    actor: str
    on_behalf_of: str | None
    payload: dict[str, Any]
    version: int


class EventPage(msgspec.Struct):
    items: list[EventOut]
    next_after: int | None


class Page(msgspec.Struct):
    items: list[Any]
    next_after: int | None = None


EventPrefix = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"^[a-z_.]+$")]


class WebhookIn(Request):
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)]
    # Event type prefixes ("ballot.", "vote.cast"); empty: every event the owner may see.
    events: Annotated[list[EventPrefix], msgspec.Meta(max_length=50)] = []
    committee_id: Annotated[int, msgspec.Meta(ge=1, le=2147483647)] | None = None
    description: Annotated[str, one_line(500)] = ""


class WebhookOut(msgspec.Struct):
    id: int
    url: str
    events: list[str]
    committee_id: int | None
    description: str
    active: bool
    created_at: datetime
    disabled_at: datetime | None
    failing_since: datetime | None


class WebhookCreated(msgspec.Struct):
    id: int
    url: str
    events: list[str]
    committee_id: int | None
    description: str
    # Shown once: verify each request's `webhook-signature` with it (Standard Webhooks).
    secret: str


class WebhookAttemptOut(msgspec.Struct):
    delivery_id: int
    event_id: int
    event_type: str
    attempted_at: datetime
    status_code: int | None
    error: str
    duration_ms: int
    next_attempt_at: datetime | None
    delivery_status: str
