"""The tables the EMS writes, as SQLAlchemy Core metadata: ``OUTPUT`` and ``STORE``.

``OUTPUT`` is the contract with the control daemon (spec ``docs/spec/elfe.md`` §3): table and column
names, column order and meaning are fixed by the spec and must not change. ``STORE`` is the
EMS's own buffer (forecasts, weather, learned cycles, measurements, thermal models, run log).
The two live in separate databases, or side by side in one (the embedded SQLite default):
their table names do not overlap.

Conventions: every time is Unix seconds UTC; columns carry their unit in their name (``_w``
watts, ``_wh`` watt-hours, ``_c`` degrees Celsius, ``_s`` seconds, ``_kmh`` km/h, ``_deg``
degrees, ``_h`` hours); Zabbix item ids are ``BIGINT`` (Zabbix's own type).

Integer widths: the spec types its columns ``int``. PostgreSQL ``integer`` is 32-bit and
overflows on 2038-01-19 03:14:08 UTC, within the service life of the installation. Columns
that hold a Unix time are therefore ``BIGINT``: still an SQL integer, returned as a Python
``int`` by psycopg (2 and 3), so the daemon's ``(t - first_valid_timestamp) // 900`` and its
by-name reads are unchanged; SQLite stores both widths alike. Every other ``int`` of the
spec (ids, types, decisions, powers in W, durations in ms) stays ``INTEGER``.

Each table change needs a migration (``migrations/<database>/versions``): the test suite
checks that the migrated schema equals this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)

DECISION_COUNT = 96
"""Number of ``decisions_k`` columns of ``result``: one per 15-min step over 24 h."""

RUN_STATUSES = ("running", "succeeded", "failed")
"""Values of ``run_log.status``: a round is logged as running, then succeeded or failed."""

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names, the same on every database (migrations refer to them by name)."""

OUTPUT = MetaData(naming_convention=NAMING_CONVENTION)
"""The output database, read by the control daemon (spec §3)."""

STORE = MetaData(naming_convention=NAMING_CONVENTION)
"""The internal store: the EMS's own data."""


def _unix_time(name: str, *, nullable: bool = False, primary_key: bool = False) -> Column[int]:
    """A Unix time [s UTC] column: BIGINT (see the module docstring), never autoincremented."""
    return Column(name, BigInteger, nullable=nullable, primary_key=primary_key, autoincrement=False)


# --- output (spec §3) --------------------------------------------------------------------

result = Table(
    "result",
    OUTPUT,
    Column("id", Integer, primary_key=True),
    _unix_time("first_valid_timestamp"),  # start of decisions_0, a quarter hour
    Column("machine_id", Integer, nullable=False),  # equipement_pilote_ou_mesure.id
    Column("result_type", Integer, nullable=False),  # 0 one-shot, 1 recurring
    Column("machine_type", Integer, nullable=False),  # equipement_pilote_ou_mesure_type_id
    *(Column(f"decisions_{k}", Integer, nullable=False) for k in range(DECISION_COUNT)),
    # Not in the spec, after its columns: the method that produced the row. A round replaces
    # only the rows of its own method; the daemon does not read this column.
    Column("planning_method", Text, nullable=False),
    CheckConstraint("result_type IN (0, 1)", name="result_type"),
    UniqueConstraint("first_valid_timestamp", "machine_id", "planning_method"),
    Index(None, "machine_id", "first_valid_timestamp"),  # the daemon's latest row per device
)
"""The plan: one row per device, round and planning method; 96 decisions of 15 min."""

p_c_without_flexible_consumption = Table(
    "p_c_without_flexible_consumption",
    OUTPUT,
    _unix_time("data_timestamp", primary_key=True),  # start of the step
    Column("power", Integer, nullable=False),  # W, production - consumption
)
"""Forecast production - consumption [W] per step, before placing the flexible devices."""

p_c_with_flexible_consumption = Table(
    "p_c_with_flexible_consumption",
    OUTPUT,
    _unix_time("data_timestamp", primary_key=True),  # start of the step
    Column("power", Integer, nullable=False),  # W, production - consumption - flexible
)
"""Forecast production - consumption [W] per step, after placing the flexible devices."""

ems_run_info = Table(
    "ems_run_info",
    OUTPUT,
    _unix_time("timestamp", primary_key=True),  # the round start
    Column("run_time_ms", Integer, nullable=False),  # solver time only
    Column("consumer_count", Integer, nullable=False),
    _unix_time("conso_min_hour_timestamp"),  # start of the hour of lowest mean
    Column("conso_min_hour", Integer, nullable=False),  # W, lowest hourly mean (after placing)
    _unix_time("conso_max_hour_timestamp"),  # start of the hour of highest mean
    Column("conso_max_hour", Integer, nullable=False),  # W, highest hourly mean (after placing)
)
"""One row per round: solver time, number of devices, extreme hourly means of the curve."""

# --- internal store ----------------------------------------------------------------------

forecast = Table(
    "forecast",
    STORE,
    Column("source", Text, primary_key=True),  # forecaster or model, e.g. "persistence"
    _unix_time("issue_time", primary_key=True),  # when the forecast was made
    _unix_time("target_time", primary_key=True),  # start of the forecast step
    Column("power_w", Double, nullable=False),  # production - consumption, mean over the step
)
"""Territory balance forecasts [W], every issue kept (for scoring and for replays)."""

balance_measurement = Table(
    "balance_measurement",
    STORE,
    _unix_time("step_start", primary_key=True),  # start of the 15-min step
    Column("power_w", Double, nullable=False),  # production - consumption, time-weighted mean
    _unix_time("measured_at"),  # when it was computed (a later run may refine a step)
)
"""The measured territory balance [W] per 15-min step, as the forecast job read it. It holds the
piloted devices' consumption: the forecasts and their scores add :data:`flexible_power` back."""

flexible_power = Table(
    "flexible_power",
    STORE,
    Column("planning_method", Text, primary_key=True),  # the method whose plans they are
    _unix_time("step_start", primary_key=True),  # start of the 15-min step
    Column("power_w", Double, nullable=False),  # the piloted devices' consumption, step mean
    _unix_time("round_start"),  # the round that computed it
)
"""The piloted devices' power [W] per 15-min step, as the plans in force give it (see
:mod:`elfe_ems.store.flexible`): each round writes its 96 steps, so a step gone by holds what
the plans applied during it had the devices draw."""

device_plan_power = Table(
    "device_plan_power",
    STORE,
    Column("planning_method", Text, primary_key=True),
    Column("device_id", Integer, primary_key=True, autoincrement=False),
    _unix_time("round_start"),  # the round whose plan it is (its first step)
    Column("step_s", Integer, nullable=False),
    Column("power_w", JSON, nullable=False),  # [W] per step from round_start
)
"""Each piloted device's latest published plan, as power: what commande applies to it until a
newer row (a device started by an earlier plan is not planned again while it runs)."""

weather_forecast = Table(
    "weather_forecast",
    STORE,
    _unix_time("target_time", primary_key=True),  # the time the values are for
    _unix_time("fetched_at"),  # when the values were fetched (their age)
    Column("temperature_c", Double, nullable=False),  # air at 2 m
    Column("wind_kmh", Double),  # mean wind at 10 m
    Column("gust_kmh", Double),  # gusts at 10 m
    Column("wind_dir_deg", Double),  # where the wind comes from, clockwise from north
    Column("sunshine_h", Double),  # hours of sunshine in the source's period
)
"""The current weather forecast: the latest value for each time."""

weather_forecast_history = Table(
    "weather_forecast_history",
    STORE,
    _unix_time("fetched_at", primary_key=True),
    _unix_time("target_time", primary_key=True),  # start of the source's period
    Column("period_s", Integer, primary_key=True, autoincrement=False),  # 3600 hourly, ...
    Column("temperature_c", Double, nullable=False),
    Column("wind_kmh", Double),
    Column("gust_kmh", Double),
    Column("wind_dir_deg", Double),
    Column("sunshine_h", Double),
    CheckConstraint("period_s > 0", name="period_s"),
)
"""Every raw weather point of every fetch (hourly and longer periods), same units."""

machine_cycle_settings = Table(
    "machine_cycle_settings",
    STORE,
    Column("power_item_id", BigInteger, primary_key=True, autoincrement=False),  # Zabbix
    Column("threshold_start_w", Double, nullable=False, server_default=text("40")),
    Column("threshold_end_w", Double, nullable=False, server_default=text("40")),
    # consecutive periods below threshold_end_w that end a cycle
    Column("quiet_periods", Integer, nullable=False, server_default=text("1")),
    Column("period_s", Integer, nullable=False, server_default=text("900")),  # averaging
    CheckConstraint("threshold_start_w >= 0 AND threshold_end_w >= 0", name="thresholds"),
    CheckConstraint("quiet_periods >= 0", name="quiet_periods"),
    CheckConstraint("period_s > 0", name="period_s"),
)
"""Cycle-detection settings per machine, keyed by the Zabbix item of its power [W]."""

machine_cycle_profile = Table(
    "machine_cycle_profile",
    STORE,
    Column("id", Integer, primary_key=True),
    Column(
        "power_item_id",
        BigInteger,
        ForeignKey(machine_cycle_settings.c.power_item_id, ondelete="CASCADE"),
        nullable=False,
    ),
    _unix_time("learned_at"),
    _unix_time("cycle_start"),  # start of the detected cycle
    Column("profile_w", JSON, nullable=False),  # list of mean W, one per 900 s step
    _unix_time("superseded_at", nullable=True),  # NULL while it is the machine's profile
    Index(
        "uq_machine_cycle_profile_current",
        "power_item_id",
        unique=True,
        postgresql_where=text("superseded_at IS NULL"),
        sqlite_where=text("superseded_at IS NULL"),
    ),
)
"""Learned cycle profiles with their history; at most one current profile per machine."""

water_heater_energy = Table(
    "water_heater_energy",
    STORE,
    Column("power_item_id", BigInteger, primary_key=True, autoincrement=False),  # Zabbix
    _unix_time("measured_at", primary_key=True),  # end of the 24 h window
    Column("energy_wh", Double, nullable=False),  # consumed over the 24 h before measured_at
    CheckConstraint("energy_wh >= 0", name="energy_wh"),
)
"""Energy a hot-water tank used over 24 h [Wh], keyed by its Zabbix power item."""

room_temperature = Table(
    "room_temperature",
    STORE,
    Column("temperature_item_id", BigInteger, primary_key=True, autoincrement=False),
    _unix_time("measured_at", primary_key=True),
    Column("temp_c", Double, nullable=False),
)
"""Measured room temperatures [°C], keyed by their Zabbix item."""

thermal_model = Table(
    "thermal_model",
    STORE,
    # = chauffage_asservi_modele_thermique.id of the coordination database
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text),
    Column("r_k_per_w", Double, nullable=False),  # thermal resistance room - outside [K/W]
    Column("c_j_per_k", Double, nullable=False),  # heat capacity of the room [J/K]
    CheckConstraint("r_k_per_w > 0 AND c_j_per_k > 0", name="positive"),
)
"""1R1C thermal models of heated rooms (time constant R C [s])."""

run_log = Table(
    "run_log",
    STORE,
    Column("id", Integer, primary_key=True),
    _unix_time("round_start"),  # first_valid_timestamp of the round's rows
    Column("planning_method", Text, nullable=False),
    Column("started_at", Double, nullable=False),  # Unix time [s], sub-second
    Column("finished_at", Double),  # Unix time [s]; NULL while running
    Column("status", Text, nullable=False),
    Column("solver_status", Text),
    Column("gap", Double),  # relative gap of the import to lower_bound_wh
    Column("import_wh", Double),  # imported energy with the plan
    Column("import_wh_asap", Double),  # imported energy, every device as early as allowed
    Column("devices_planned", Integer),
    Column("devices_skipped", Integer),
    Column("input_ages_s", JSON),  # {input name: age at the round start [s]}
    Column("scenario_path", Text),  # the scenario file saved for replay
    Column("error", Text),  # why the round failed
    Column("lower_bound_wh", Double),  # proven lower bound on the import [Wh] (gap's reference)
    # every device of the coordination database: counts, ids by reason (round/accounting.py)
    Column("devices", JSON),
    # each input's freshness at the round start: name, state, age_s, limit_s, coverage
    Column("input_freshness", JSON),
    # where the import avoided comes from: the plan's ``savings`` (planner/savings.py)
    Column("savings", JSON),
    CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in RUN_STATUSES) + ")", name="status"),
    Index(None, "round_start"),
)
"""One row per attempt at a round (a re-run adds a row): what it used and what it gave."""

JOB_RUN_STATUSES = ("succeeded", "failed")
"""Values of ``job_run.status``."""

job_run = Table(
    "job_run",
    STORE,
    Column("id", Integer, primary_key=True),
    Column("job", Text, nullable=False),  # its name in the registry (``ems job NAME``)
    Column("started_at", Double, nullable=False),  # wall-clock Unix time [s], sub-second
    Column("finished_at", Double, nullable=False),  # Unix time [s]
    Column("status", Text, nullable=False),
    Column("detail", Text, nullable=False),  # the job's one-line summary, or why it failed
    CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in JOB_RUN_STATUSES) + ")", name="status"
    ),
    Index(None, "job", "started_at"),
)
"""One row per finished run of a job (``ems job``, ``ems serve``, the demo's steps)."""

job_schedule = Table(
    "job_schedule",
    STORE,
    Column("job", Text, primary_key=True),
    Column("period_s", Integer, nullable=False),  # longest time between two scheduled runs
)
"""The jobs of the registry as the last recorded run saw them: the dashboard, which does not
import the jobs, checks each of them (also one that never ran) against its period."""
