"""Run log: how fresh each input of the round was (state, age, limit, horizon coverage).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``run_log.input_freshness`` (NULL for the rounds logged before)."""
    with op.batch_alter_table("run_log") as batch:
        batch.add_column(sa.Column("input_freshness", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``run_log.input_freshness``."""
    with op.batch_alter_table("run_log") as batch:
        batch.drop_column("input_freshness")
