"""Event types and their payloads: the contract between the API, the log readers and the workers.

Each payload is a msgspec Struct; the version is bumped when a payload changes shape, so readers
of old events know what they hold.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class Payload(msgspec.Struct, kw_only=True, omit_defaults=False):
    type: ClassVar[str]
    version: ClassVar[int] = 1


class BallotCreated(Payload):
    type = "ballot.created"
    ballot_id: int
    project_id: int
    ballot_type: str
    rulebook: str
    closes_at: str
    opens_at: str | None = None
    warning: str | None = None


class BallotOpened(Payload):
    type = "ballot.opened"
    ballot_id: int
    project_id: int
    closes_at: str
    p_members: list[str]
    voters: list[str]
    commenters: list[str]


class BallotExtended(Payload):
    type = "ballot.extended"
    ballot_id: int
    previous_closes_at: str
    closes_at: str
    warning: str | None = None


class BallotClosed(Payload):
    type = "ballot.closed"
    ballot_id: int
    project_id: int
    approved: bool
    result: dict[str, Any]
    by_deadline: bool = False


class BallotReopened(Payload):
    type = "ballot.reopened"
    ballot_id: int
    closes_at: str
    reason: str
    previous_result: dict[str, Any] | None = None


class BallotCancelled(Payload):
    type = "ballot.cancelled"
    ballot_id: int
    reason: str


class VoteCast(Payload):
    type = "vote.cast"
    version = 2  # 2: `digest`
    ballot_id: int
    vote_id: int
    body: str
    position: str
    reasons: bool
    participate: bool | None = None
    experts: int = 0
    # services.rules.digests.vote of the row: its reasons' text and experts, not only their presence.
    digest: str = ""


class VoteChanged(Payload):
    type = "vote.changed"
    version = 2  # 2: `digest`
    ballot_id: int
    vote_id: int
    body: str
    position: str
    previous_position: str
    reasons: bool
    participate: bool | None = None
    experts: int = 0
    # services.rules.digests.vote of the row: its reasons' text and experts, not only their presence.
    digest: str = ""


class CommentsSubmitted(Payload):
    type = "comments.submitted"
    version = 2  # 2: `digest`, `observations`
    ballot_id: int
    body: str
    count: int
    set_version: int
    references: list[str]
    digest: str = ""  # services.rules.digests.comment_set of the rows
    observations: dict[str, str] = {}  # reference -> digest of an observation the set came with


class CommentsReplaced(Payload):
    type = "comments.replaced"
    version = 2  # 2: `digest`, `observations`
    ballot_id: int
    body: str
    count: int
    previous_count: int
    set_version: int
    references: list[str]
    digest: str = ""
    observations: dict[str, str] = {}


class ObservationRecorded(Payload):
    type = "comment.observation_recorded"
    version = 2  # 2: `digest`
    ballot_id: int
    reference: str
    disposition: str | None
    observation_chars: int
    digest: str = ""  # services.rules.digests.observation


class StageChanged(Payload):
    type = "project.stage_changed"
    project_id: int
    from_stage: str | None
    to_stage: str
    cause: str
    ballot_id: int | None = None
    reason: str = ""


class BallotDecided(Payload):
    """The secretary's decision after a closed ballot, on the ballot's own stream (the stage moves
    it causes are on the project's)."""

    type = "ballot.decided"
    ballot_id: int
    project_id: int
    decision: str
    path: list[str]
    reason: str = ""


class ProjectCreated(Payload):
    type = "project.created"
    project_id: int
    committee_id: int
    reference: str
    deliverable: str
    stage: str


class MembershipChanged(Payload):
    type = "membership.changed"
    # 2: the secretary's reason, asked when a P-member loses its vote (issue #13).
    version = 2
    committee_id: int
    body: str
    status: str | None
    previous_status: str | None
    reason: str = ""


class LiaisonChanged(Payload):
    type = "liaison.changed"
    committee_id: int
    code: str
    category: str | None
    previous_category: str | None


class MemberBodyCreated(Payload):
    type = "member_body.created"
    code: str
    acronym: str
    name: str


class CommitteeCreated(Payload):
    type = "committee.created"
    committee_id: int
    reference: str
    parent_id: int | None


class UserCreated(Payload):
    type = "user.created"
    user_id: int
    email: str
    roles: list[dict[str, Any]]


class TokenIssued(Payload):
    type = "token.issued"
    user_id: int
    token_id: int
    label: str


class TokenRevoked(Payload):
    type = "token.revoked"
    user_id: int
    token_id: int


class PasswordSet(Payload):
    """A person's password was set or replaced (never the password or its hash)."""

    type = "user.password_set"
    user_id: int


class SessionsEnded(Payload):
    """A person's web sessions were ended at once (by an administrator, or a password change)."""

    type = "user.sessions_ended"
    user_id: int
    sessions: int


class CommentsImported(Payload):
    """A compiled table made elsewhere (e.g. ISO's collation tool) imported by the secretariat."""

    type = "comments.imported"
    version = 3  # 2: `replaced`; 3: `sets`
    ballot_id: int
    count: int
    bodies: list[str]
    filename: str
    replaced: list[str] = []  # bodies whose earlier imported set this import replaced
    # body -> the set it wrote: its version, digest and the observations it came with
    sets: dict[str, ImportedSet] = {}


class ObservationsImported(Payload):
    type = "comment.observations_imported"
    version = 2  # 2: `digests`
    ballot_id: int
    count: int
    references: list[str]
    filename: str
    digests: dict[str, str] = {}  # reference -> services.rules.digests.observation


class ImportedSet(msgspec.Struct, kw_only=True):
    set_version: int
    references: list[str]
    digest: str
    observations: dict[str, str] = {}


class DocumentRequested(Payload):
    type = "document.requested"
    ballot_id: int
    document_id: int
    kind: str
    variant: str
    source_event_id: int


class DocumentGenerated(Payload):
    type = "document.generated"
    ballot_id: int
    document_id: int
    kind: str
    variant: str
    checksum: str
    size: int
    rows: int
    seconds: float


class DocumentFailed(Payload):
    type = "document.failed"
    ballot_id: int
    document_id: int
    kind: str
    error: str


class ReminderDue(Payload):
    type = "ballot.reminder_due"
    ballot_id: int
    days_before: int
    closes_at: str


class NotificationSent(Payload):
    type = "notification.sent"
    cause_event_id: int
    subject: str
    recipients: int
    transport: str


class NotificationFailed(Payload):
    type = "notification.failed"
    cause_event_id: int
    subject: str
    recipients: int
    error: str
    attempt: int


class WebhookRegistered(Payload):
    type = "webhook.registered"
    webhook_id: int
    url: str
    events: list[str]
    committee_id: int | None = None


class WebhookDeleted(Payload):
    type = "webhook.deleted"
    webhook_id: int


class WebhookSecretRotated(Payload):
    type = "webhook.secret_rotated"
    webhook_id: int


class WebhookDisabled(Payload):
    type = "webhook.disabled"
    webhook_id: int
    url: str
    owner: str
    failing_since: str
    reason: str


EVENT_TYPES: dict[str, type[Payload]] = {
    cls.type: cls
    for cls in (
        BallotCreated,
        BallotOpened,
        BallotExtended,
        BallotClosed,
        BallotReopened,
        BallotCancelled,
        VoteCast,
        VoteChanged,
        CommentsSubmitted,
        CommentsReplaced,
        ObservationRecorded,
        StageChanged,
        ProjectCreated,
        MembershipChanged,
        LiaisonChanged,
        MemberBodyCreated,
        CommitteeCreated,
        UserCreated,
        TokenIssued,
        TokenRevoked,
        PasswordSet,
        SessionsEnded,
        CommentsImported,
        ObservationsImported,
        DocumentRequested,
        DocumentGenerated,
        DocumentFailed,
        ReminderDue,
        NotificationSent,
        NotificationFailed,
        WebhookRegistered,
        WebhookDeleted,
        WebhookSecretRotated,
        WebhookDisabled,
    )
}
