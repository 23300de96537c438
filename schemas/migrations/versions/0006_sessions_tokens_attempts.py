"""web_session, login_attempt; api_token.expires_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import schemas.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Tokens issued before this revision never ended; they get the default lifetime from the upgrade
# (a token in use keeps working for 90 days, then its owner makes a new one).
TOKEN_DAYS = 90


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", schemas.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_web_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("id_hash", name=op.f("uq_web_session_id_hash")),
    )
    with op.batch_alter_table("web_session") as batch:
        batch.create_index(batch.f("ix_web_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "login_attempt",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("occurred_at", schemas.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    with op.batch_alter_table("login_attempt") as batch:
        batch.create_index("ix_login_attempt_email_at", ["email", "occurred_at"], unique=False)
        batch.create_index("ix_login_attempt_address_at", ["address", "occurred_at"], unique=False)

    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", schemas.types.UTCDateTime(timezone=True), nullable=True))
    token = sa.table("api_token", sa.column("expires_at", schemas.types.UTCDateTime(timezone=True)))
    ends = datetime.now(UTC) + timedelta(days=TOKEN_DAYS)
    op.execute(token.update().where(token.c.expires_at.is_(None)).values(expires_at=ends))
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=schemas.types.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("login_attempt") as batch:
        batch.drop_index("ix_login_attempt_address_at")
        batch.drop_index("ix_login_attempt_email_at")
    op.drop_table("login_attempt")
    with op.batch_alter_table("web_session") as batch:
        batch.drop_index(batch.f("ix_web_session_user_id"))
    op.drop_table("web_session")
