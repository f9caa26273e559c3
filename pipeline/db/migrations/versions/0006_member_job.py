"""Session batches through the job queue: a session member keeps the id of its job (progress), and
a job may belong to no account (a session's jobs are followed on the session, not in a user's list).

`session_members.job_id` is added with a plain add_column. `jobs.user_id` becomes nullable by a
batch copy of `jobs` on SQLite, which no table references (nothing cascades).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("session_members")}
    if "job_id" not in columns:  # SQLite keeps it through a downgrade (see below)
        op.add_column("session_members", sa.Column("job_id", sa.String(32), nullable=True))
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("user_id", existing_type=sa.String(32), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE user_id IS NULL")
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("user_id", existing_type=sa.String(32), nullable=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column by copying the table, which would cascade-delete the assignments and
        # moderations that reference `session_members`: the unused column stays, emptied
        op.execute("UPDATE session_members SET job_id = NULL")
    else:
        op.drop_column("session_members", "job_id")
