"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 06:14:16.717673
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

import schemas.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("email", name=op.f("uq_app_user_email")),
    )
    op.create_table(
        "delivery",
        sa.Column(
            "event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("consumer", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("event_id", "consumer", name=op.f("pk_delivery")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_pending", ["done_at", "dispatched_at"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("occurred_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("aggregate", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("on_behalf_of", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_aggregate_id", ["aggregate", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_committee_id"), ["committee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_type"), ["type"], unique=False)

    op.create_table(
        "idempotent_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("principal", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "response", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_request")),
        sa.UniqueConstraint("principal", "key", name=op.f("uq_idempotent_request_principal")),
    )
    op.create_table(
        "member_body",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("acronym", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_member_body")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_api_token_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "committee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("secretariat", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["committee.id"], name=op.f("fk_committee_parent_id_committee")),
        sa.ForeignKeyConstraint(
            ["secretariat"], ["member_body.code"], name=op.f("fk_committee_secretariat_member_body")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee")),
        sa.UniqueConstraint("reference", name=op.f("uq_committee_reference")),
    )
    with op.batch_alter_table("committee", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_committee_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "liaison",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("valid_from", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["committee_id"], ["committee.id"], name=op.f("fk_liaison_committee_id_committee")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liaison")),
    )
    with op.batch_alter_table("liaison", schema=None) as batch_op:
        batch_op.create_index("ix_liaison_current", ["committee_id", "code", "valid_to"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=False),
        sa.Column("valid_from", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_to", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["body"], ["member_body.code"], name=op.f("fk_membership_body_member_body")),
        sa.ForeignKeyConstraint(["committee_id"], ["committee.id"], name=op.f("fk_membership_committee_id_committee")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index("ix_membership_current", ["committee_id", "body", "valid_to"], unique=False)

    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("deliverable", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("published_year", sa.Integer(), nullable=True),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["committee_id"], ["committee.id"], name=op.f("fk_project_committee_id_committee")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("reference", name=op.f("uq_project_reference")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_committee_id"), ["committee_id"], unique=False)

    op.create_table(
        "role_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=True),
        sa.Column("member_body", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.ForeignKeyConstraint(["committee_id"], ["committee.id"], name=op.f("fk_role_grant_committee_id_committee")),
        sa.ForeignKeyConstraint(
            ["member_body"], ["member_body.code"], name=op.f("fk_role_grant_member_body_member_body")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_role_grant_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grant")),
    )
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grant_user_id"), ["user_id"], unique=False)

    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("rulebook", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("iteration", sa.Integer(), nullable=False),
        sa.Column("opens_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closes_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stage_before_open", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("p_member_count", sa.Integer(), nullable=True),
        sa.Column("approved", sa.Boolean(), nullable=True),
        sa.Column(
            "result", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("decided_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["committee_id"], ["committee.id"], name=op.f("fk_ballot_committee_id_committee")),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_ballot_project_id_project")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot")),
    )
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_committee_id"), ["committee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ballot_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_ballot_status_closes", ["status", "closes_at"], unique=False)

    op.create_table(
        "comment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("original_reference", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("set_version", sa.Integer(), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("line", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("clause", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("element", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("type_as_written", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.Column("proposed_change", sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.Column("observation", sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.Column("disposition", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("submitted_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("observed_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"], name=op.f("fk_comment_ballot_id_ballot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index("ix_comment_ballot_current", ["ballot_id", "superseded", "body"], unique=False)

    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("variant", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("source_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("checksum", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("requested_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("built_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("build_seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"], name=op.f("fk_document_ballot_id_ballot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint("ballot_id", "kind", "variant", "source_event_id", name=op.f("uq_document_ballot_id")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index("ix_document_lookup", ["ballot_id", "kind", "variant", "id"], unique=False)

    op.create_table(
        "eligibility",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("party", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("is_p_member", sa.Boolean(), nullable=False),
        sa.Column("may_vote", sa.Boolean(), nullable=False),
        sa.Column("may_comment", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"], name=op.f("fk_eligibility_ballot_id_ballot")),
        sa.PrimaryKeyConstraint("ballot_id", "party", name=op.f("pk_eligibility")),
    )
    op.create_table(
        "reminder",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("closes_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"], name=op.f("fk_reminder_ballot_id_ballot")),
        sa.PrimaryKeyConstraint("ballot_id", "closes_at", "days_before", name=op.f("pk_reminder")),
    )
    op.create_table(
        "stage_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("to_stage", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("cause", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("occurred_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"], name=op.f("fk_stage_change_ballot_id_ballot")),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_stage_change_project_id_project")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_change")),
    )
    with op.batch_alter_table("stage_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_change_project_id"), ["project_id"], unique=False)

    op.create_table(
        "vote",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("position", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("reasons", sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=False),
        sa.Column("participate", sa.Boolean(), nullable=True),
        sa.Column(
            "experts", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("on_behalf_of", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("cast_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"], name=op.f("fk_vote_actor_id_app_user")),
        sa.ForeignKeyConstraint(["ballot_id"], ["ballot.id"], name=op.f("fk_vote_ballot_id_ballot")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote")),
    )
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.create_index("ix_vote_ballot_body", ["ballot_id", "body", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_index("ix_vote_ballot_body")

    op.drop_table("vote")
    with op.batch_alter_table("stage_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_change_project_id"))

    op.drop_table("stage_change")
    op.drop_table("reminder")
    op.drop_table("eligibility")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_lookup")

    op.drop_table("document")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_ballot_current")

    op.drop_table("comment")
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_index("ix_ballot_status_closes")
        batch_op.drop_index(batch_op.f("ix_ballot_project_id"))
        batch_op.drop_index(batch_op.f("ix_ballot_committee_id"))

    op.drop_table("ballot")
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_grant_user_id"))

    op.drop_table("role_grant")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_committee_id"))

    op.drop_table("project")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index("ix_membership_current")

    op.drop_table("membership")
    with op.batch_alter_table("liaison", schema=None) as batch_op:
        batch_op.drop_index("ix_liaison_current")

    op.drop_table("liaison")
    with op.batch_alter_table("committee", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_parent_id"))

    op.drop_table("committee")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("member_body")
    op.drop_table("idempotent_request")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_type"))
        batch_op.drop_index(batch_op.f("ix_event_committee_id"))
        batch_op.drop_index("ix_event_aggregate_id")

    op.drop_table("event")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_pending")

    op.drop_table("delivery")
    op.drop_table("app_user")
