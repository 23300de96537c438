"""comment: whether a compiled-table import brought it

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 14:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Comments stored before this revision were the bodies' own or imported alike; they are taken
    # as the bodies' own, which an import may then not replace (the safe reading).
    with op.batch_alter_table("comment") as batch:
        batch.add_column(sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("comment") as batch:
        batch.drop_column("imported")
