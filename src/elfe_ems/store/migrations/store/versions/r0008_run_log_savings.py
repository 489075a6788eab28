"""Run log: where the round's import avoided comes from (shifted, not used, by device type).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``run_log.savings`` (NULL for the rounds logged before)."""
    with op.batch_alter_table("run_log") as batch:
        batch.add_column(sa.Column("savings", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``run_log.savings``."""
    with op.batch_alter_table("run_log") as batch:
        batch.drop_column("savings")
