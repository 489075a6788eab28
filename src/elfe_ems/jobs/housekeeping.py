"""The ``housekeeping`` job: delete what is older than its configured retention, hourly.

What a round still needs is never deleted, whatever the retention:
- balance forecasts (the measured balance is kept as long): the latest issue of every step
  from :data:`ROUND_NEEDS_S` ago on (the round extends a short forecast by the day before);
- room temperatures and water-heater energies: the latest value of every item;
- learned cycles: the current profile of every machine (only superseded ones go);
- plan rows: those of the last :data:`ROUND_NEEDS_S` (a round reads the 3 days before it to
  know what the devices already did); only this EMS's own rows (its ``planning_method``);
- the piloted devices' power per step and each device's latest plan
  (:mod:`elfe_ems.store.flexible`): those of the last :data:`ROUND_NEEDS_S` (the forecast adds
  back the last 24 h, a plan counts over its 24 h);
- job runs (kept as the run log, ``plan_retention_days``): the latest success of every job
  (its health check reads it).
The run-conditions files (scenario and plan of each round) go by the round start in their
names. Each table is cleaned in its own transaction: a failure leaves the others done.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Delete, Table, and_, delete, func, select

from elfe_ems.config import Settings
from elfe_ems.jobs.common import database
from elfe_ems.store import tables
from elfe_ems.timegrid import DAY_S

log = logging.getLogger(__name__)

ROUND_NEEDS_S = 3 * DAY_S
"""How far back a round reads plans and forecasts [s]."""

RUN_CONDITIONS_FILE = re.compile(r"^(\d+)-.+\.(scenario|plan|options)\.json$")


def _older(table: Table, time: str, cutoff_s: float) -> Delete:
    return delete(table).where(table.c[time] < cutoff_s)


def _forecasts(cutoff_s: float, now_s: float) -> Delete:
    """Old issues, except the latest issue of each step a round may still read."""
    table = tables.forecast
    other = table.alias("other")
    latest_issue = (
        select(func.max(other.c.issue_time))
        .where(other.c.source == table.c.source, other.c.target_time == table.c.target_time)
        .scalar_subquery()
    )
    needed = and_(table.c.target_time >= now_s - ROUND_NEEDS_S, table.c.issue_time == latest_issue)
    return delete(table).where(table.c.issue_time < cutoff_s, ~needed)


def _measurements(table: Table, item: str, time: str, cutoff_s: float) -> Delete:
    """Old values, except the latest of each item."""
    other = table.alias("other")
    latest = select(func.max(other.c[time])).where(other.c[item] == table.c[item]).scalar_subquery()
    return delete(table).where(table.c[time] < cutoff_s, table.c[time] != latest)


def _job_runs(cutoff_s: float) -> Delete:
    """Old runs, except the latest success of each job."""
    table = tables.job_run
    other = table.alias("other")
    latest_success = (
        select(func.max(other.c.started_at))
        .where(other.c.job == table.c.job, other.c.status == "succeeded")
        .scalar_subquery()
    )
    kept = and_(table.c.status == "succeeded", table.c.started_at == latest_success)
    return delete(table).where(table.c.started_at < cutoff_s, ~kept)


def _store_deletions(settings: Settings, now_s: float) -> dict[str, Delete]:
    def cutoff(days: float, floor_s: float = 0) -> float:
        return now_s - max(days * DAY_S, floor_s)

    profile = tables.machine_cycle_profile
    return {
        "forecasts": _forecasts(cutoff(settings.forecast_retention_days), now_s),
        "balance measurements": _older(
            tables.balance_measurement, "step_start", cutoff(settings.forecast_retention_days)
        ),
        "piloted devices' power": _older(
            tables.flexible_power,
            "step_start",
            cutoff(settings.forecast_retention_days, ROUND_NEEDS_S),
        ),
        "device plans": _older(
            tables.device_plan_power,
            "round_start",
            cutoff(settings.plan_retention_days, ROUND_NEEDS_S),
        ),
        "weather fetches": _older(
            tables.weather_forecast_history, "fetched_at", cutoff(settings.weather_retention_days)
        ),
        "weather values": _older(
            tables.weather_forecast, "target_time", cutoff(settings.weather_retention_days)
        ),
        "room temperatures": _measurements(
            tables.room_temperature,
            "temperature_item_id",
            "measured_at",
            cutoff(settings.measurement_retention_days),
        ),
        "water-heater energies": _measurements(
            tables.water_heater_energy,
            "power_item_id",
            "measured_at",
            cutoff(settings.measurement_retention_days),
        ),
        "superseded cycles": delete(profile).where(
            profile.c.superseded_at.is_not(None),
            profile.c.superseded_at < cutoff(settings.cycle_retention_days),
        ),
        "run log": _older(
            tables.run_log, "round_start", cutoff(settings.plan_retention_days, ROUND_NEEDS_S)
        ),
        "job runs": _job_runs(cutoff(settings.plan_retention_days)),
    }


def _output_deletions(settings: Settings, now_s: float) -> dict[str, Delete]:
    cutoff_s = now_s - max(settings.plan_retention_days * DAY_S, ROUND_NEEDS_S)
    result = tables.result
    return {
        "plan rows": delete(result).where(
            result.c.first_valid_timestamp < cutoff_s,
            result.c.planning_method == settings.planning_method,
        ),
        "curves before placing": _older(
            tables.p_c_without_flexible_consumption, "data_timestamp", cutoff_s
        ),
        "curves after placing": _older(
            tables.p_c_with_flexible_consumption, "data_timestamp", cutoff_s
        ),
        "run info": _older(tables.ems_run_info, "timestamp", cutoff_s),
    }


def _run(connection_of: Callable[[], Connection], deletions: dict[str, Delete]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, statement in deletions.items():
        with connection_of() as connection, connection.begin():
            counts[name] = connection.execute(statement).rowcount
    return counts


def old_run_conditions(folder: Path, cutoff_s: float) -> list[Path]:
    """The scenario, plan and options files of rounds that started before ``cutoff_s``."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        match = RUN_CONDITIONS_FILE.match(path.name)
        if match and int(match.group(1)) < cutoff_s and path.is_file():
            found.append(path)
    return found


def job(settings: Settings, now_s: float) -> str:
    """Delete what is past its retention (see the module docstring)."""
    with database(settings, "store") as store:
        counts = _run(store.connect, _store_deletions(settings, now_s))
    with database(settings, "output") as output:
        counts |= _run(output.connect, _output_deletions(settings, now_s))
    files = old_run_conditions(
        settings.run_conditions_dir, now_s - settings.run_conditions_retention_days * DAY_S
    )
    removed = 0
    for path in files:
        try:
            path.unlink()
            removed += 1
        except OSError as error:
            log.warning("[WARN_IGNORED] %s not deleted: %s", path, error.strerror)
    counts["run-conditions files"] = removed
    deleted = {name: count for name, count in counts.items() if count}
    return "deleted: " + (", ".join(f"{n} {name}" for name, n in deleted.items()) or "nothing")
