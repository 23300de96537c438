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
    parent_id: int | None = None
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


class MembershipPut(Request):
    status: MemberStatus


class LiaisonPut(Request):
    code: Annotated[str, one_line(40, 1)]
    category: LiaisonCategory
    name: Annotated[str, one_line(300)] = ""


class ProjectCreate(Request):
    committee_id: int
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
    ballot_id: int | None = None


class DecisionOption(msgspec.Struct):
    code: str
    label: str
    path: list[str]


class RoleIn(Request):
    role: Role
    committee_id: int | None = None
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


class TokenOut(msgspec.Struct):
    id: int
    token: str
    label: str


class BallotCreate(Request):
    project_id: int
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
