"""The piloted devices' power per 15-min step as planned, and each device's latest plan as power.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``flexible_power`` and ``device_plan_power``."""
    op.create_table(
        "flexible_power",
        sa.Column("planning_method", sa.Text(), nullable=False),
        sa.Column("step_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("power_w", sa.Double(), nullable=False),
        sa.Column("round_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("planning_method", "step_start", name="pk_flexible_power"),
    )
    op.create_table(
        "device_plan_power",
        sa.Column("planning_method", sa.Text(), nullable=False),
        sa.Column("device_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("round_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("step_s", sa.Integer(), nullable=False),
        sa.Column("power_w", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("planning_method", "device_id", name="pk_device_plan_power"),
    )


def downgrade() -> None:
    """Drop ``flexible_power`` and ``device_plan_power``."""
    op.drop_table("device_plan_power")
    op.drop_table("flexible_power")
