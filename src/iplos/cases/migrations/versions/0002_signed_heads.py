"""Signed case heads: `cases.head_mac`, an HMAC of (case_id, version, head_hash) with the audit key.

The key is kept outside the database (`IPLOS_AUDIT_KEY_FILE`), so truncating a case's events and
setting its head to match is detected by `iplos case verify`. Rows written before this revision
have an empty signature until their next event; `verify` reports them as unsigned.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("head_mac", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("head_mac")
