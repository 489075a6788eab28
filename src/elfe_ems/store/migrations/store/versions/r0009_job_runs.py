"""Job runs: one row per finished run of a job, and the jobs' periods (health per job).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``job_run`` and ``job_schedule`` (empty: no run was recorded before)."""
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint("status IN ('succeeded', 'failed')", name="ck_job_run_status"),
        sa.PrimaryKeyConstraint("id", name="pk_job_run"),
    )
    op.create_index("ix_job_run_job_started_at", "job_run", ["job", "started_at"])
    op.create_table(
        "job_schedule",
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("period_s", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job", name="pk_job_schedule"),
    )


def downgrade() -> None:
    """Drop ``job_run`` and ``job_schedule``."""
    op.drop_table("job_schedule")
    op.drop_index("ix_job_run_job_started_at", table_name="job_run")
    op.drop_table("job_run")
