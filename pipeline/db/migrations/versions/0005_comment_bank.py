"""Comment bank: each assessor's reusable comments per criterion.

A new table only (plain create_table): nothing existing is copied, so no ON DELETE CASCADE child
is lost on SQLite.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comment_bank",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("criterion_id", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_comment_bank_user_id", "comment_bank", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_comment_bank_user_id", table_name="comment_bank")
    op.drop_table("comment_bank")
