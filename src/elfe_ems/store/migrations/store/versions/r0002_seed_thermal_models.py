"""Seed the three thermal models of the original ELFE installation (R [K/W], C [J/K]).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

SEEDS = [
    {"id": 0, "name": None, "r_k_per_w": 0.003893, "c_j_per_k": 3_328_767.0},
    {"id": 1, "name": None, "r_k_per_w": 0.004570, "c_j_per_k": 2_835_616.0},
    {"id": 2, "name": None, "r_k_per_w": 0.005622, "c_j_per_k": 2_305_479.0},
]

thermal_model = sa.table(
    "thermal_model",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.Text()),
    sa.column("r_k_per_w", sa.Double()),
    sa.column("c_j_per_k", sa.Double()),
)


def upgrade() -> None:
    """Insert models 0, 1 and 2."""
    op.bulk_insert(thermal_model, SEEDS)


def downgrade() -> None:
    """Delete models 0, 1 and 2 (with any edits made to them since)."""
    op.execute(thermal_model.delete().where(thermal_model.c.id.in_([s["id"] for s in SEEDS])))
