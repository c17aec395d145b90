"""Analysis tables: runs, respondents, answers, excerpts, themes, machine codings.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_fk() -> sa.ForeignKey:
    return sa.ForeignKey("runs.run_id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("survey_file", sa.Text(), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("encoder", sa.String(200), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
    )
    op.create_table(
        "respondents",
        sa.Column("run_id", sa.String(64), _run_fk(), primary_key=True),
        sa.Column("respondent_id", sa.String(200), primary_key=True),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
    )
    op.create_table(
        "answers",
        sa.Column("run_id", sa.String(64), _run_fk(), primary_key=True),
        sa.Column("question", sa.String(500), primary_key=True),
        sa.Column("respondent_id", sa.String(200), primary_key=True),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("original_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("n_excerpts", sa.Integer(), nullable=False),
    )
    op.create_table(
        "excerpts",
        sa.Column("run_id", sa.String(64), _run_fk(), primary_key=True),
        sa.Column("excerpt_id", sa.String(300), primary_key=True),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("respondent_id", sa.String(200), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lemmas", sa.Text(), nullable=False),
    )
    op.create_index("ix_excerpts_question", "excerpts", ["question"])
    op.create_table(
        "themes",
        sa.Column("run_id", sa.String(64), _run_fk(), primary_key=True),
        sa.Column("question", sa.String(500), primary_key=True),
        sa.Column("theme_id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("n_excerpts", sa.Integer(), nullable=False),
        sa.Column("n_respondents", sa.Integer(), nullable=False),
        sa.Column("representative_excerpt_ids", sa.JSON(), nullable=False),
    )
    op.create_table(
        "codings",
        sa.Column("run_id", sa.String(64), _run_fk(), primary_key=True),
        sa.Column("excerpt_id", sa.String(300), primary_key=True),
        sa.Column("coder", sa.String(200), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("theme_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("runner_up_theme_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("codings", "themes", "excerpts", "answers", "respondents", "runs"):
        op.drop_table(table)
