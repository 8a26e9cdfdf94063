"""Background jobs (linkage, anonymisation search, delivery) as rows in the case store.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ACTIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_jobs_case", "jobs", ["case_id"])
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_at"])
    # One queued or running job per case: two deliveries of one case must never run at once.
    op.create_index(
        "uq_jobs_active_case",
        "jobs",
        ["case_id"],
        unique=True,
        sqlite_where=_ACTIVE,
        postgresql_where=_ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_active_case", "jobs")
    op.drop_index("ix_jobs_status_created", "jobs")
    op.drop_index("ix_jobs_case", "jobs")
    op.drop_table("jobs")
