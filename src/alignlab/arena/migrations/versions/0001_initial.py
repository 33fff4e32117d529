"""The arena's first schema: prompts, responses, annotators, votes, ratings, verdicts, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("arena_setting", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text(), nullable=False))
    op.create_table(
        "arena_prompt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(512), nullable=False, unique=True),
        sa.Column("suite", sa.String(256), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
    )
    op.create_table(
        "arena_response",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("arena_prompt.id"), nullable=False, index=True),
        sa.Column("model", sa.String(256), nullable=False, index=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("run", sa.String(1024), nullable=False),
        sa.UniqueConstraint("prompt_id", "model", name="uq_response_prompt_model"),
    )
    op.create_table(
        "arena_annotator",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "arena_vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("arena_annotator.id"), nullable=False, index=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("arena_prompt.id"), nullable=False, index=True),
        sa.Column("response_a_id", sa.Integer(), sa.ForeignKey("arena_response.id"), nullable=False),
        sa.Column("response_b_id", sa.Integer(), sa.ForeignKey("arena_response.id"), nullable=False),
        sa.Column("model_a", sa.String(256), nullable=False),
        sa.Column("model_b", sa.String(256), nullable=False),
        sa.Column("winner", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "arena_rating",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("annotator_id", sa.Integer(), sa.ForeignKey("arena_annotator.id"), nullable=False, index=True),
        sa.Column("response_id", sa.Integer(), sa.ForeignKey("arena_response.id"), nullable=False, index=True),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("principle", sa.String(512), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "arena_verdict",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(256), nullable=False, index=True),
        sa.Column("prompt_id", sa.Integer(), sa.ForeignKey("arena_prompt.id"), nullable=False, index=True),
        sa.Column("model_a", sa.String(256), nullable=False),
        sa.Column("model_b", sa.String(256), nullable=False),
        sa.Column("winner", sa.String(16), nullable=False),
        sa.UniqueConstraint("source", "prompt_id", "model_a", "model_b", name="uq_verdict_pair"),
    )


def downgrade() -> None:
    for table in ("arena_verdict", "arena_rating", "arena_vote", "arena_annotator", "arena_response", "arena_prompt",
                  "arena_setting"):
        op.drop_table(table)
