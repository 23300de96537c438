"""The database tables. Rows never leave the service layer: the API speaks `schemas.api`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, UniqueConstraint
from sqlmodel import Field, SQLModel

from schemas import comments as C
from schemas import event_guard
from schemas.types import JSONType, UTCDateTime, utcnow

# Stable constraint names on both databases (Alembic batch mode on SQLite needs them).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

# BIGINT on PostgreSQL, but SQLite only auto-increments a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class MemberBody(SQLModel, table=True):
    __tablename__ = "member_body"
    code: str = Field(primary_key=True, max_length=8)
    acronym: str = Field(max_length=32)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Committee(SQLModel, table=True):
    __tablename__ = "committee"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=300)
    parent_id: int | None = Field(default=None, foreign_key="committee.id", index=True)
    secretariat: str | None = Field(default=None, max_length=8, foreign_key="member_body.code")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    """One period of a body's P- or O-membership; the current one has `valid_to` NULL."""

    __tablename__ = "membership"
    __table_args__ = (Index("ix_membership_current", "committee_id", "body", "valid_to"),)
    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="committee.id")
    body: str = Field(max_length=8, foreign_key="member_body.code")
    status: str = Field(max_length=1)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Liaison(SQLModel, table=True):
    __tablename__ = "liaison"
    __table_args__ = (Index("ix_liaison_current", "committee_id", "code", "valid_to"),)
    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="committee.id")
    code: str = Field(max_length=40)  # what stands in the MB/NC column, e.g. "CEN/TC 465"
    name: str = Field(default="", max_length=300)
    category: str = Field(max_length=1)
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_to: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Project(SQLModel, table=True):
    __tablename__ = "project"
    id: int | None = Field(default=None, primary_key=True)
    committee_id: int = Field(foreign_key="committee.id", index=True)
    reference: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=500)
    deliverable: str = Field(max_length=8)
    stage: str = Field(max_length=5)
    published_year: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_change"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    from_stage: str | None = Field(default=None, max_length=5)
    to_stage: str = Field(max_length=5)
    cause: str = Field(max_length=40)
    ballot_id: int | None = Field(default=None, foreign_key="ballot.id")
    reason: str = Field(default="", max_length=4000)
    actor: str = Field(max_length=500)  # name <e-mail>
    occurred_at: datetime = Field(sa_type=UTCDateTime)


class Ballot(SQLModel, table=True):
    __tablename__ = "ballot"
    __table_args__ = (Index("ix_ballot_status_closes", "status", "closes_at"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    committee_id: int = Field(foreign_key="committee.id", index=True)
    type: str = Field(max_length=20)
    rulebook: str = Field(max_length=8)
    status: str = Field(max_length=10)
    question: str = Field(default="", max_length=4000)
    iteration: int = 1
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stage_before_open: str | None = Field(default=None, max_length=5)
    p_member_count: int | None = None
    approved: bool | None = None
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    decision: str | None = Field(default=None, max_length=5)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Eligibility(SQLModel, table=True):
    """Who could take part, frozen when the ballot opened."""

    __tablename__ = "eligibility"
    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    party: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=10)  # member | liaison
    is_p_member: bool = False
    may_vote: bool = False
    may_comment: bool = False


class Vote(SQLModel, table=True):
    """Append-only: every cast or change is a row, the latest one counts."""

    __tablename__ = "vote"
    __table_args__ = (Index("ix_vote_ballot_body", "ballot_id", "body", "id"),)
    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    ballot_id: int = Field(foreign_key="ballot.id")
    body: str = Field(max_length=8)
    position: str = Field(max_length=24)
    reasons: str = Field(default="", max_length=20000)
    participate: bool | None = None
    experts: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONType)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor: str = Field(max_length=500)  # name <e-mail>
    on_behalf_of: str = Field(max_length=8)
    cast_at: datetime = Field(sa_type=UTCDateTime)


class Comment(SQLModel, table=True):
    """A body's comment. A replaced set is kept (superseded) so the record stays complete."""

    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_ballot_current", "ballot_id", "superseded", "body"),)
    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    ballot_id: int = Field(foreign_key="ballot.id")
    body: str = Field(max_length=C.MAX_BODY)
    seq: int
    reference: str = Field(max_length=C.MAX_REFERENCE)
    original_reference: str = Field(default="", max_length=C.MAX_REFERENCE)
    set_version: int = 1
    superseded: bool = False
    # Brought by a compiled-table import, not submitted by the body: an import replaces only these.
    imported: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    line: str = Field(default="", max_length=C.MAX_LINE)
    clause: str = Field(default="", max_length=C.MAX_CLAUSE)
    element: str = Field(default="", max_length=C.MAX_ELEMENT)
    type: str = Field(default="", max_length=C.MAX_TYPE)
    type_as_written: str = Field(default="", max_length=C.MAX_TYPE_AS_WRITTEN)
    comment: str = Field(max_length=C.MAX_TEXT)
    proposed_change: str = Field(default="", max_length=C.MAX_TEXT)
    observation: str = Field(default="", max_length=C.MAX_TEXT)
    disposition: str | None = Field(default=None, max_length=C.MAX_DISPOSITION)
    actor: str = Field(max_length=500)  # name <e-mail>
    submitted_at: datetime = Field(sa_type=UTCDateTime)
    observed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, unique=True)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grant"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    role: str = Field(max_length=16)
    committee_id: int | None = Field(default=None, foreign_key="committee.id")
    member_body: str | None = Field(default=None, max_length=8, foreign_key="member_body.code")


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    label: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Tokens end: a token copied somewhere works until this moment at the latest.
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds the session's id; the table only its hash, so the
    database alone signs nobody in, and sign-out (or revocation) ends the session everywhere."""

    __tablename__ = "web_session"
    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    """Every password checked at sign-in, shared by all processes: the throttle counts these, and
    an administrator reads them."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "occurred_at"),
        Index("ix_login_attempt_address_at", "address", "occurred_at"),
    )
    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    email: str = Field(max_length=254)
    address: str = Field(max_length=64)
    # Written as a failure before the password is checked (concurrent guesses all count), turned
    # into a success after.
    succeeded: bool = False


class Event(SQLModel, table=True):
    """The append-only log. A mistake is corrected by a compensating event, never by an update."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_aggregate_id", "aggregate", "id"),)
    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    type: str = Field(max_length=60, index=True)
    aggregate: str = Field(max_length=60)
    committee_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=500)  # name <e-mail>
    on_behalf_of: str | None = Field(default=None, max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    version: int = 1
    # The request that caused the event; workers log it so one id follows a vote into its effects.
    request_id: str | None = Field(default=None, max_length=64)
    # The hash chain, filled once by the sealer in commit order (never on the write path, so votes
    # do not queue behind one another): position, the predecessor's hash, and this event's hash.
    chain_seq: int | None = Field(default=None, sa_column=Column(BigId, nullable=True, unique=True))
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    # The application's HMAC over the event (services.rules.authenticity): an event inserted by
    # someone with database access only has none that checks; unique, so none is replayed.
    authenticator: str | None = Field(default=None, sa_column=Column(sa.String(128), nullable=True, unique=True))


event_guard.attach(Event.__table__)  # type: ignore[attr-defined]
for _guarded in (Event.__table__, Vote.__table__, Comment.__table__):  # type: ignore[attr-defined]
    event_guard.attach_truncate_guard(_guarded)


class Delivery(SQLModel, table=True):
    """The transactional outbox: one row per event and consumer, written with the event.

    The relay hands pending rows to the broker; the consumer marks its row done in the same
    transaction as its effects, which makes redelivery (a crash, a lost message) harmless.
    """

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_pending", "done_at", "dispatched_at"),)
    event_id: int = Field(sa_column=Column(BigId, primary_key=True, autoincrement=False))
    consumer: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Document(SQLModel, table=True):
    """A generated Word file. `source_event_id` is the last event its content reflects."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("ballot_id", "kind", "variant", "source_event_id"),
        Index("ix_document_lookup", "ballot_id", "kind", "variant", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ballot_id: int = Field(foreign_key="ballot.id")
    kind: str = Field(max_length=20)  # comment_table | report
    variant: str = Field(default="", max_length=20)  # clause | member for comment tables
    source_event_id: int = Field(sa_column=Column(BigId, nullable=False))
    status: str = Field(max_length=10)  # requested | ready | failed
    filename: str = Field(default="", max_length=200)
    checksum: str = Field(default="", max_length=64)
    size: int = 0
    rows: int = 0
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    error: str = Field(default="", max_length=2000)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    built_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    build_seconds: float | None = None


class Reminder(SQLModel, table=True):
    """A deadline reminder that has been scheduled: one per ballot, deadline and lead time."""

    __tablename__ = "reminder"
    ballot_id: int = Field(foreign_key="ballot.id", primary_key=True)
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    days_before: int = Field(primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)


class IdempotentRequest(SQLModel, table=True):
    """The first response to a creating POST sent with an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("principal", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    principal: str = Field(max_length=200)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status_code: int
    response: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Webhook(SQLModel, table=True):
    """A subscription: events its owner may see, POSTed to `url` signed with its secret."""

    __tablename__ = "webhook"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    # Event type prefixes ("ballot.", "vote.cast"); empty: every event.
    events: list[str] = Field(default_factory=list, sa_type=JSONType)
    committee_id: int | None = Field(default=None, foreign_key="committee.id")
    description: str = Field(default="", max_length=500)
    # The signing secret, encrypted with a key derived from the record key (never stored plain).
    secret: str = Field(max_length=400)
    owner_id: int | None = Field(default=None, foreign_key="app_user.id")
    # Who registered it, as events record actors; an admin token has no user row.
    owner: str = Field(max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # Events after this one are sent: nothing from before registration.
    start_event_id: int = Field(default=0, sa_column=Column(BigId, nullable=False, server_default="0"))
    active: bool = True
    failing_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Deleted webhooks stay (their deliveries and the events name them) but send nothing.
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: written when the event is chained, attempted until it succeeds."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_delivery_due", "done_at", "next_attempt_at"),
    )
    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    webhook_id: int = Field(foreign_key="webhook.id", index=True)
    event_id: int = Field(sa_column=Column(BigId, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # "pending", "succeeded", "failed" (retries exhausted) or "dropped" (the webhook was disabled or deleted).
    status: str = Field(default="pending", max_length=20)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery, with what came back."""

    __tablename__ = "webhook_attempt"
    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    delivery_id: int = Field(sa_column=Column(BigId, nullable=False, index=True))
    attempted_at: datetime = Field(sa_type=UTCDateTime)
    status_code: int | None = None
    error: str = Field(default="", max_length=500)
    duration_ms: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookCursor(SQLModel, table=True):
    """How far along the chain webhook deliveries have been written (one row)."""

    __tablename__ = "webhook_cursor"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigId, nullable=False))


__all__ = [
    "ApiToken",
    "Ballot",
    "Comment",
    "Committee",
    "Delivery",
    "Document",
    "Eligibility",
    "Event",
    "IdempotentRequest",
    "Liaison",
    "MemberBody",
    "Membership",
    "Project",
    "Reminder",
    "RoleGrant",
    "StageChange",
    "User",
    "Vote",
    "Webhook",
    "WebhookAttempt",
    "WebhookCursor",
    "WebhookDelivery",
    "metadata",
]
