"""The notification outbox and people's contact details (e-mail address, language).

Revision ID: 0004
Revises: 0001 (to be repointed to 0003 when 0002 and 0003 are merged)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_contacts",
        sa.Column("username", sa.String(100), primary_key=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("trigger", sa.String(60), nullable=False),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.UniqueConstraint("case_id", "trigger", "recipient", name="uq_outbox_case_trigger_recipient"),
    )
    op.create_index("ix_outbox_recipient", "outbox", ["recipient"])
    op.create_index("ix_outbox_status_due", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_status_due", "outbox")
    op.drop_index("ix_outbox_recipient", "outbox")
    op.drop_table("outbox")
    op.drop_table("user_contacts")
