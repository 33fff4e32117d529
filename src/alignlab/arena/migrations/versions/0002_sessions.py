"""Server-side sessions: revocable sign-ins, admin sessions bound to the admin token, invite tokens shown once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arena_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("arena_annotator.id"), nullable=True, index=True),
        sa.Column("admin_token_hash", sa.String(64), nullable=True),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("flash", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("arena_session")
