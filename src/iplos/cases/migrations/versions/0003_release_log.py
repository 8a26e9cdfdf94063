"""The release log: every protected table published from a source, with its cells.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
# The hardening branch adds 0002 at the same time; until both are merged this follows 0001.
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "table_releases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("data_version", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("statistic", sa.String(20), nullable=False),
        sa.Column("n_cells", sa.Integer, nullable=False),
        sa.Column("dimensions", sa.Text, nullable=False),
        sa.Column("cells", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
    )
    op.create_index("ix_table_releases_source", "table_releases", ["source", "data_version"])


def downgrade() -> None:
    op.drop_index("ix_table_releases_source", "table_releases")
    op.drop_table("table_releases")
