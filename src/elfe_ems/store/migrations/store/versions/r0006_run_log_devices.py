"""Run log: every device of the coordination database accounted for (planned, relaxed, left
out, by reason).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``run_log.devices`` (NULL for the rounds logged before)."""
    with op.batch_alter_table("run_log") as batch:
        batch.add_column(sa.Column("devices", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``run_log.devices``."""
    with op.batch_alter_table("run_log") as batch:
        batch.drop_column("devices")
