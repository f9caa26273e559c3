"""Certification sessions: candidates' dossiers reviewed in a batch, assessors assigned (one or two
per dossier, each with a run of their own), moderation decisions on double-marking disagreements.

New tables only (plain create_table): nothing existing is copied, so no ON DELETE CASCADE child
is lost on SQLite.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "exam_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("module", sa.String(8), nullable=False),
        sa.Column("referentiel", sa.String(64), nullable=False),
        sa.Column("double_marking", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "session_members",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "session_id",
            sa.String(32),
            sa.ForeignKey("exam_sessions.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("candidate", sa.String(200), nullable=False),
        sa.Column("group_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_path", sa.Text, nullable=False, server_default=""),
        sa.Column("sha256", sa.String(64), nullable=True, index=True),
        sa.Column("settings_key", sa.String(64), nullable=True),
        sa.Column("dossier_id", sa.String(32), sa.ForeignKey("dossiers.id", ondelete="SET NULL"), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("added_at", TZ, nullable=False),
    )
    op.create_table(
        "session_assignments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "member_id",
            sa.String(32),
            sa.ForeignKey("session_members.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("assessor", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=True),
        sa.Column("dossier_id", sa.String(32), sa.ForeignKey("dossiers.id", ondelete="SET NULL"), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("assigned_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("assigned_at", TZ, nullable=False),
        sa.UniqueConstraint("member_id", "rank", name="uq_session_assignment_rank"),
    )
    op.create_table(
        "session_moderations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "member_id",
            sa.String(32),
            sa.ForeignKey("session_members.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("criterion_id", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("levels", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("moderator", sa.String(200), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for table in ("session_moderations", "session_assignments", "session_members", "exam_sessions"):
        op.drop_table(table)
