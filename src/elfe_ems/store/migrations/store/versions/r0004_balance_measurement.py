"""The measured territory balance per 15-min step (what forecasts are scored against).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``balance_measurement``."""
    op.create_table(
        "balance_measurement",
        sa.Column("step_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("power_w", sa.Double(), nullable=False),
        sa.Column("measured_at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("step_start", name="pk_balance_measurement"),
    )


def downgrade() -> None:
    """Drop ``balance_measurement``."""
    op.drop_table("balance_measurement")
