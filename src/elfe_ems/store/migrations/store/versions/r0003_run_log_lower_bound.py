"""Run log: the proven lower bound on the import that the plan's gap is measured against.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``run_log.lower_bound_wh`` (NULL for the rounds logged before)."""
    with op.batch_alter_table("run_log") as batch:
        batch.add_column(sa.Column("lower_bound_wh", sa.Double(), nullable=True))


def downgrade() -> None:
    """Drop ``run_log.lower_bound_wh``."""
    with op.batch_alter_table("run_log") as batch:
        batch.drop_column("lower_bound_wh")
