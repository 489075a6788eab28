"""Output tables of spec docs/spec/elfe.md §3, with the planning method and the uniqueness of a
plan.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _unix_time(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, autoincrement=False)


def upgrade() -> None:
    """Create result, the two curves and ems_run_info."""
    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        _unix_time("first_valid_timestamp"),
        sa.Column("machine_id", sa.Integer(), nullable=False),
        sa.Column("result_type", sa.Integer(), nullable=False),
        sa.Column("machine_type", sa.Integer(), nullable=False),
        *(sa.Column(f"decisions_{k}", sa.Integer(), nullable=False) for k in range(96)),
        sa.Column("planning_method", sa.Text(), nullable=False),
        sa.CheckConstraint("result_type IN (0, 1)", name="ck_result_result_type"),
        sa.PrimaryKeyConstraint("id", name="pk_result"),
        sa.UniqueConstraint(
            "first_valid_timestamp",
            "machine_id",
            "planning_method",
            name="uq_result_first_valid_timestamp_machine_id_planning_method",
        ),
    )
    op.create_index(
        "ix_result_machine_id_first_valid_timestamp",
        "result",
        ["machine_id", "first_valid_timestamp"],
    )
    for curve in ("p_c_without_flexible_consumption", "p_c_with_flexible_consumption"):
        op.create_table(
            curve,
            _unix_time("data_timestamp"),
            sa.Column("power", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("data_timestamp", name=f"pk_{curve}"),
        )
    op.create_table(
        "ems_run_info",
        _unix_time("timestamp"),
        sa.Column("run_time_ms", sa.Integer(), nullable=False),
        sa.Column("consumer_count", sa.Integer(), nullable=False),
        _unix_time("conso_min_hour_timestamp"),
        sa.Column("conso_min_hour", sa.Integer(), nullable=False),
        _unix_time("conso_max_hour_timestamp"),
        sa.Column("conso_max_hour", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("timestamp", name="pk_ems_run_info"),
    )


def downgrade() -> None:
    """Drop the output tables."""
    op.drop_table("ems_run_info")
    op.drop_table("p_c_with_flexible_consumption")
    op.drop_table("p_c_without_flexible_consumption")
    op.drop_index("ix_result_machine_id_first_valid_timestamp", table_name="result")
    op.drop_table("result")
