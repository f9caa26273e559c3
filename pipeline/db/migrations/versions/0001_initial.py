"""Initial schema: dossiers, runs, suggestions, decisions (history), grids, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dossiers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("file_format", sa.String(8), nullable=False),
        sa.Column("module", sa.String(8), nullable=False),
        sa.Column("candidate_ref", sa.String(200), nullable=False, server_default=""),
        sa.Column("uploaded_at", TZ, nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("stored_path", sa.Text, nullable=True),
        sa.Column("parsed", sa.JSON, nullable=True),
        sa.Column("owner_id", sa.String(32), nullable=True, index=True),
        sa.Column("group_id", sa.String(32), nullable=True, index=True),
        sa.Column("assessor_id", sa.String(32), nullable=True, index=True),
        sa.Column("kind", sa.String(16), nullable=False, server_default="assessment"),
        sa.Column("erased_at", TZ, nullable=True),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "dossier_id", sa.String(32), sa.ForeignKey("dossiers.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("module", sa.String(8), nullable=False),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("referentiel", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("prompt_hashes", sa.JSON, nullable=False),
        sa.Column("timings", sa.JSON, nullable=False),
        sa.Column("tokens_in", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tokens_out", sa.Integer, nullable=False, server_default="0"),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("review", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="done"),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("criterion_id", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rationale", sa.Text, nullable=False),
        sa.Column("missing", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "criterion_id"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("criterion_id", sa.String(16), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("suggested_level", sa.Integer, nullable=True),
        sa.Column("agreed", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("assessor", sa.String(200), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
    )
    op.create_table(
        "grids",
        sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("locked", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("finalized_by", sa.String(200), nullable=True),
        sa.Column("finalized_at", TZ, nullable=True),
        sa.Column("verdicts", sa.JSON, nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("dossier_id", sa.String(32), nullable=True),
        sa.Column("run_id", sa.String(32), nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    for table in ("audit", "grids", "decisions", "suggestions", "runs", "dossiers"):
        op.drop_table(table)
