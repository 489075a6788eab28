"""Internal store: forecasts, weather, learned cycles, measurements, thermal models, run log.

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


def _unix_time(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable, autoincrement=False)


def _weather_values() -> list[sa.Column[float]]:
    return [
        sa.Column("temperature_c", sa.Double(), nullable=False),
        sa.Column("wind_kmh", sa.Double(), nullable=True),
        sa.Column("gust_kmh", sa.Double(), nullable=True),
        sa.Column("wind_dir_deg", sa.Double(), nullable=True),
        sa.Column("sunshine_h", sa.Double(), nullable=True),
    ]


def upgrade() -> None:
    """Create the internal tables."""
    op.create_table(
        "forecast",
        sa.Column("source", sa.Text(), nullable=False),
        _unix_time("issue_time"),
        _unix_time("target_time"),
        sa.Column("power_w", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("source", "issue_time", "target_time", name="pk_forecast"),
    )
    op.create_table(
        "weather_forecast",
        _unix_time("target_time"),
        _unix_time("fetched_at"),
        *_weather_values(),
        sa.PrimaryKeyConstraint("target_time", name="pk_weather_forecast"),
    )
    op.create_table(
        "weather_forecast_history",
        _unix_time("fetched_at"),
        _unix_time("target_time"),
        sa.Column("period_s", sa.Integer(), nullable=False, autoincrement=False),
        *_weather_values(),
        sa.CheckConstraint("period_s > 0", name="ck_weather_forecast_history_period_s"),
        sa.PrimaryKeyConstraint(
            "fetched_at", "target_time", "period_s", name="pk_weather_forecast_history"
        ),
    )
    op.create_table(
        "machine_cycle_settings",
        sa.Column("power_item_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("threshold_start_w", sa.Double(), server_default=sa.text("40"), nullable=False),
        sa.Column("threshold_end_w", sa.Double(), server_default=sa.text("40"), nullable=False),
        sa.Column("quiet_periods", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("period_s", sa.Integer(), server_default=sa.text("900"), nullable=False),
        sa.CheckConstraint(
            "threshold_start_w >= 0 AND threshold_end_w >= 0",
            name="ck_machine_cycle_settings_thresholds",
        ),
        sa.CheckConstraint("quiet_periods >= 0", name="ck_machine_cycle_settings_quiet_periods"),
        sa.CheckConstraint("period_s > 0", name="ck_machine_cycle_settings_period_s"),
        sa.PrimaryKeyConstraint("power_item_id", name="pk_machine_cycle_settings"),
    )
    op.create_table(
        "machine_cycle_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("power_item_id", sa.BigInteger(), nullable=False),
        _unix_time("learned_at"),
        _unix_time("cycle_start"),
        sa.Column("profile_w", sa.JSON(), nullable=False),
        _unix_time("superseded_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["power_item_id"],
            ["machine_cycle_settings.power_item_id"],
            name="fk_machine_cycle_profile_power_item_id_machine_cycle_settings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_machine_cycle_profile"),
    )
    op.create_index(
        "uq_machine_cycle_profile_current",
        "machine_cycle_profile",
        ["power_item_id"],
        unique=True,
        postgresql_where=sa.text("superseded_at IS NULL"),
        sqlite_where=sa.text("superseded_at IS NULL"),
    )
    op.create_table(
        "water_heater_energy",
        sa.Column("power_item_id", sa.BigInteger(), nullable=False, autoincrement=False),
        _unix_time("measured_at"),
        sa.Column("energy_wh", sa.Double(), nullable=False),
        sa.CheckConstraint("energy_wh >= 0", name="ck_water_heater_energy_energy_wh"),
        sa.PrimaryKeyConstraint("power_item_id", "measured_at", name="pk_water_heater_energy"),
    )
    op.create_table(
        "room_temperature",
        sa.Column("temperature_item_id", sa.BigInteger(), nullable=False, autoincrement=False),
        _unix_time("measured_at"),
        sa.Column("temp_c", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("temperature_item_id", "measured_at", name="pk_room_temperature"),
    )
    op.create_table(
        "thermal_model",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("r_k_per_w", sa.Double(), nullable=False),
        sa.Column("c_j_per_k", sa.Double(), nullable=False),
        sa.CheckConstraint("r_k_per_w > 0 AND c_j_per_k > 0", name="ck_thermal_model_positive"),
        sa.PrimaryKeyConstraint("id", name="pk_thermal_model"),
    )
    op.create_table(
        "run_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _unix_time("round_start"),
        sa.Column("planning_method", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("solver_status", sa.Text(), nullable=True),
        sa.Column("gap", sa.Double(), nullable=True),
        sa.Column("import_wh", sa.Double(), nullable=True),
        sa.Column("import_wh_asap", sa.Double(), nullable=True),
        sa.Column("devices_planned", sa.Integer(), nullable=True),
        sa.Column("devices_skipped", sa.Integer(), nullable=True),
        sa.Column("input_ages_s", sa.JSON(), nullable=True),
        sa.Column("scenario_path", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name="ck_run_log_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_run_log"),
    )
    op.create_index("ix_run_log_round_start", "run_log", ["round_start"])


def downgrade() -> None:
    """Drop the internal tables."""
    op.drop_index("ix_run_log_round_start", table_name="run_log")
    op.drop_table("run_log")
    op.drop_table("thermal_model")
    op.drop_table("room_temperature")
    op.drop_table("water_heater_energy")
    op.drop_index("uq_machine_cycle_profile_current", table_name="machine_cycle_profile")
    op.drop_table("machine_cycle_profile")
    op.drop_table("machine_cycle_settings")
    op.drop_table("weather_forecast_history")
    op.drop_table("weather_forecast")
    op.drop_table("forecast")
