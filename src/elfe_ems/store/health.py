"""Is the EMS healthy, from what it stored? The checks of the dashboard's Health page, and
the part of ``ems doctor`` that reaches no source (:mod:`elfe_ems.jobs.probes` has the rest).

Each check gives a verdict, ``ok``, ``warning`` (working, but look at it) or ``failed`` (the
EMS cannot do its work, or works on data too old to trust), and one line that says why. A
check never raises: whatever goes wrong inside it is its verdict. Messages never show a
password or a token.

The age limits are in :data:`AGE_LIMITS_S`: an input older than its first limit is a
warning, older than its second a failure. They follow the jobs' schedules (a forecast every
15 min, weather hourly, tank energies daily, room temperatures every minute, a round every
15 min) with room for one or two missed runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import Settings, redact
from elfe_ems.db.engine import DatabaseUrlError, engine_for, error_reason
from elfe_ems.store import migrate, tables
from elfe_ems.timegrid import HOUR_S, MINUTE_S

Verdict = Literal["ok", "warning", "failed"]


AGE_LIMITS_S: dict[str, tuple[int, int]] = {
    "forecast": (20 * MINUTE_S, 2 * HOUR_S),
    "weather": (2 * HOUR_S, 24 * HOUR_S),
    "room temperatures": (10 * MINUTE_S, 2 * HOUR_S),
    "water-heater energies": (26 * HOUR_S, 50 * HOUR_S),
    "last round": (20 * MINUTE_S, 2 * HOUR_S),
}
"""Input → (age [s] beyond which it is a warning, age beyond which it is a failure)."""

FUTURE_TOLERANCE_S = 60
"""Data stamped later than now by more than this [s] points at a wrong clock."""

GAP_WARNING = 0.01
"""A last round further than this from its lower bound is a warning."""


@dataclass(frozen=True)
class Check:
    """One line of the health report."""

    name: str
    verdict: Verdict
    detail: str


def _age_verdict(name: str, age_s: float) -> Verdict:
    warn_s, fail_s = AGE_LIMITS_S[name]
    return "ok" if age_s <= warn_s else "warning" if age_s <= fail_s else "failed"


def age_text(age_s: float) -> str:
    if age_s < 2 * MINUTE_S:
        return f"{age_s:.0f} s"
    if age_s < 2 * HOUR_S:
        return f"{age_s / MINUTE_S:.0f} min"
    return f"{age_s / HOUR_S:.1f} h"


def _age_check(name: str, newest_s: float | None, now_s: float) -> Check:
    if newest_s is None:
        return Check(name, "failed", "none stored")
    age_s = now_s - newest_s
    if age_s < -FUTURE_TOLERANCE_S:
        return Check(name, "warning", f"{age_text(-age_s)} in the future: is a clock wrong?")
    return Check(name, _age_verdict(name, age_s), f"{age_text(max(age_s, 0))} old")


# --- databases ---------------------------------------------------------------------------


def database_check(
    settings: Settings, database: str, probe: Callable[[Connection], Check]
) -> Check:
    """``probe`` on a connection to ``database``; a database error is a failure."""
    url = str(getattr(settings, f"{database}_url"))
    try:
        with engine_for(url) as engine, engine.connect() as connection:
            return probe(connection)
    except (SQLAlchemyError, DatabaseUrlError) as error:
        return Check(f"{database} database", "failed", redact(error_reason(error), url))


def _schema_probe(database: migrate.Database) -> Callable[[Connection], Check]:
    def probe(connection: Connection) -> Check:
        name = f"{database} database"
        current = migrate.current_revision(connection, database)
        head = migrate.head_revision(database)
        if current != head:
            return Check(name, "failed", f"at revision {current}, not {head}: run `ems db upgrade`")
        return Check(name, "ok", f"reachable, schema at the latest revision ({head})")

    return probe


# --- inputs and the last round ------------------------------------------------------------


def _newest(connection: Connection, column: ColumnElement[Any]) -> float | None:
    value = connection.execute(select(func.max(column))).scalar_one_or_none()
    return None if value is None else float(value)


def _oldest_latest(
    connection: Connection, item: ColumnElement[Any], time_column: ColumnElement[Any]
) -> float | None:
    """The oldest of the items' latest times: the stalest item decides."""
    latest = select(func.max(time_column).label("t")).group_by(item).subquery()
    value = connection.execute(select(func.min(latest.c.t))).scalar_one_or_none()
    return None if value is None else float(value)


def _input_checks(store: Engine, now_s: float) -> list[Check]:
    with store.connect() as connection:
        present = set(inspect(connection).get_table_names())
        if tables.forecast.name not in present:
            return [Check("store inputs", "failed", "store not created: run `ems db upgrade`")]
        measured = (  # per item: the stalest item decides
            ("room temperatures", tables.room_temperature.c.temperature_item_id),
            ("water-heater energies", tables.water_heater_energy.c.power_item_id),
        )
        return [
            _age_check("forecast", _newest(connection, tables.forecast.c.issue_time), now_s),
            _age_check("weather", _newest(connection, tables.weather_forecast.c.fetched_at), now_s),
            *(
                _age_check(name, _oldest_latest(connection, item, item.table.c.measured_at), now_s)
                for name, item in measured
            ),
            _last_round(connection, now_s),
        ]


def _last_round(connection: Connection, now_s: float) -> Check:
    log = tables.run_log
    row = connection.execute(select(log).order_by(log.c.started_at.desc()).limit(1)).first()
    if row is None:
        return Check("last round", "failed", "no round has run")
    age_s = now_s - float(row.started_at)
    detail = f"{age_text(age_s)} ago, {row.status}"
    if row.status == "failed":
        return Check("last round", "failed", f"{detail}: {row.error}")
    if row.status == "running":
        verdict: Verdict = "warning" if age_s < AGE_LIMITS_S["last round"][0] else "failed"
        return Check("last round", verdict, f"{detail} (not finished)")
    verdict = _age_verdict("last round", age_s)
    detail += f", solver {row.solver_status}"
    if row.gap is not None:
        detail += f", gap {row.gap:.2%}"
        if row.gap > GAP_WARNING and verdict == "ok":
            verdict = "warning"
    if row.solver_status == "heuristic" and verdict == "ok":
        verdict = "warning"
    devices = row.devices or {}
    if devices:
        detail += (
            f"; devices: {devices['planned']} planned, {devices['relaxed']} relaxed, "
            f"{devices['left_out']} left out of {devices['total']}"
        )
        by_reason = devices["left_out_by_reason"]
        problems = [f"{len(by_reason[r])} left out: {r}" for r in devices["problem_reasons"]]
        if problems:
            detail += " (" + "; ".join(problems) + ")"
            if verdict == "ok":
                verdict = "warning"
    return Check("last round", verdict, detail)


def stored_checks(settings: Settings, now_s: float | None = None) -> list[Check]:
    """The checks from what the EMS stored: its two databases (reachable, schema at the
    latest revision), the age of every stored input and the last round. They reach no
    source: the dashboard runs them on every request."""
    now = time.time() if now_s is None else now_s
    checks = [
        database_check(settings, "store", _schema_probe("store")),
        database_check(settings, "output", _schema_probe("output")),
    ]
    try:
        with engine_for(settings.store_url) as store:
            checks += _input_checks(store, now)
    except (SQLAlchemyError, DatabaseUrlError) as error:
        reason = redact(error_reason(error), settings.store_url)
        checks.append(Check("store inputs", "failed", reason))
    return checks


def healthy(checks: list[Check]) -> bool:
    """Whether no check failed."""
    return all(check.verdict != "failed" for check in checks)
