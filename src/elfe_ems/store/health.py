"""Is the EMS healthy, from what it stored? The checks of the dashboard's Health page, and
the part of ``ems doctor`` that reaches no source (:mod:`elfe_ems.jobs.probes` has the rest).

Each check gives a verdict, ``ok``, ``warning`` (working, but look at it) or ``failed`` (the
EMS cannot do its work, or works on data too old to trust), and one line that says why. A
check never raises: whatever goes wrong inside it is its verdict. Messages never show a
password or a token.

An input older than its limit (the ``stale_*_s`` settings, :mod:`elfe_ems.store.freshness`) is
stale: a failure, whatever else works (old data is never shown as new). The last round is a
warning after :data:`ROUND_AGE_LIMITS_S`'s first limit, a failure after its second, and a
failure when it planned on stale or missing inputs.

Each scheduled job (``job_schedule``, :mod:`elfe_ems.store.job_runs`) has a check of its
last success: a warning when it started more than :data:`JOB_LATE_PERIODS`'s first count of
the job's periods ago, a failure after its second; a failure more recent than the last
success is at least a warning and shows its error; a job that never ran is a warning (its
input's own check fails when the data are missing), one that only failed is a failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, Row, func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import Settings, redact
from elfe_ems.db.engine import DatabaseUrlError, engine_for, error_reason
from elfe_ems.notices.hints import ems_command
from elfe_ems.store import migrate, tables
from elfe_ems.store.freshness import Freshness, State, age_text, limits_s
from elfe_ems.store.inputs import newest_balance_end_s
from elfe_ems.store.job_runs import JobRecord, job_records
from elfe_ems.timegrid import HOUR_S, MINUTE_S

Verdict = Literal["ok", "warning", "failed"]


ROUND_AGE_LIMITS_S = (20 * MINUTE_S, 2 * HOUR_S)
"""A last round older than the first [s] is a warning, than the second a failure."""

FUTURE_TOLERANCE_S = 60
"""Data stamped later than now by more than this [s] points at a wrong clock."""

GAP_WARNING = 0.01
"""A last round further than this from its lower bound is a warning."""

JOB_LATE_PERIODS = (2, 8)
"""A job whose last success started more than this many of its periods ago is a warning
(the first), a failure (the second)."""


@dataclass(frozen=True)
class Check:
    """One line of the health report."""

    name: str
    verdict: Verdict
    detail: str


def _age_check(name: str, newest_s: float | None, now_s: float, limit_s: int) -> Check:
    """An input's check: failed when it is missing or older than its limit (stale)."""
    if newest_s is None:
        return Check(name, "failed", "none stored")
    age_s = now_s - newest_s
    if age_s < -FUTURE_TOLERANCE_S:
        return Check(name, "warning", f"{age_text(-age_s)} in the future: is a clock wrong?")
    freshness = Freshness(name, int(max(age_s, 0)), limit_s)
    verdict: Verdict = "ok" if freshness.state == State.FRESH else "failed"
    return Check(name, verdict, f"{age_text(max(age_s, 0))} old (stale after {age_text(limit_s)})")


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
            upgrade = ems_command("db upgrade")
            return Check(name, "failed", f"at revision {current}, not {head}: run `{upgrade}`")
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


def newest_input_times(connection: Connection) -> dict[str, float | None]:
    """The time [Unix s] of each stored input's newest data (None: none), by the names of
    :func:`~elfe_ems.store.freshness.limits_s`; per item, the stalest item decides."""
    return {
        "balance measurements": newest_balance_end_s(connection),
        "forecast": _newest(connection, tables.forecast.c.issue_time),
        "weather": _newest(connection, tables.weather_forecast.c.fetched_at),
        # per item: the stalest item decides
        "room temperatures": _oldest_latest(
            connection,
            tables.room_temperature.c.temperature_item_id,
            tables.room_temperature.c.measured_at,
        ),
        "water-heater energies": _oldest_latest(
            connection,
            tables.water_heater_energy.c.power_item_id,
            tables.water_heater_energy.c.measured_at,
        ),
    }


def last_round_row(connection: Connection) -> Row[Any] | None:
    """The ``run_log`` row of the round that started last."""
    log = tables.run_log
    return connection.execute(select(log).order_by(log.c.started_at.desc()).limit(1)).first()


def _input_checks(store: Engine, now_s: float, settings: Settings) -> list[Check]:
    limits = limits_s(settings)
    with store.connect() as connection:
        present = set(inspect(connection).get_table_names())
        if tables.forecast.name not in present:
            reason = f"store not created: run `{ems_command('db upgrade')}`"
            return [Check("store inputs", "failed", reason)]
        newest = newest_input_times(connection)
        return [
            *(_age_check(name, newest[name], now_s, limit) for name, limit in limits.items()),
            _last_round(connection, now_s),
            *_job_checks(connection, present, now_s),
        ]


def _job_checks(connection: Connection, present: set[str], now_s: float) -> list[Check]:
    if tables.job_schedule.name not in present:
        reason = f"store not upgraded: run `{ems_command('db upgrade')}`"
        return [Check("jobs", "failed", reason)]
    records = job_records(connection)
    if not records:
        return [Check("jobs", "failed", "no job run recorded: are the jobs running?")]
    return [job_check(record, now_s) for record in records]


def job_check(record: JobRecord, now_s: float) -> Check:
    """A scheduled job's check from its latest success and failure (module docstring)."""
    name = f"job {record.job}"
    success, failure = record.last_success, record.last_failure
    failed = (
        None
        if failure is None or (success is not None and failure.started_at < success.started_at)
        else f"last failure {age_text(max(now_s - failure.started_at, 0))} ago: {failure.detail}"
    )
    if success is None:
        if failed is None:
            return Check(name, "warning", "never run")
        return Check(name, "failed", f"never succeeded; {failed}")
    age_s = now_s - success.started_at
    if age_s < -FUTURE_TOLERANCE_S:
        return Check(
            name, "warning", f"last success {age_text(-age_s)} in the future: is a clock wrong?"
        )
    warn_s, fail_s = (n * record.period_s for n in JOB_LATE_PERIODS)
    verdict: Verdict = "ok" if age_s <= warn_s else "warning" if age_s <= fail_s else "failed"
    detail = (
        f"last success {age_text(max(age_s, 0))} ago (runs every {age_text(record.period_s)}): "
        f"{success.detail}"
    )
    if failed is not None:
        detail += f"; {failed}"
        verdict = "warning" if verdict == "ok" else verdict
    return Check(name, verdict, detail)


def _last_round(connection: Connection, now_s: float) -> Check:
    row = last_round_row(connection)
    if row is None:
        return Check("last round", "failed", "no round has run")
    age_s = now_s - float(row.started_at)
    detail = f"{age_text(age_s)} ago, {row.status}"
    if row.status == "failed":
        return Check("last round", "failed", f"{detail}: {row.error}")
    if row.status == "running":
        verdict: Verdict = "warning" if age_s < ROUND_AGE_LIMITS_S[0] else "failed"
        return Check("last round", verdict, f"{detail} (not finished)")
    warn_s, fail_s = ROUND_AGE_LIMITS_S
    verdict = "ok" if age_s <= warn_s else "warning" if age_s <= fail_s else "failed"
    detail += f", solver {row.solver_status}"
    if row.gap is not None:
        detail += f", gap {row.gap:.2%}"
        if row.gap > GAP_WARNING and verdict == "ok":
            verdict = "warning"
    if row.solver_status == "heuristic" and verdict == "ok":
        verdict = "warning"
    stale = [s for s in row.input_freshness or () if s["state"] != State.FRESH]
    if stale:
        verdict = "failed"
        detail += "; planned on " + ", ".join(f"{s['state']} {s['name']}" for s in stale)
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
            checks += _input_checks(store, now, settings)
    except (SQLAlchemyError, DatabaseUrlError) as error:
        reason = redact(error_reason(error), settings.store_url)
        checks.append(Check("store inputs", "failed", reason))
    return checks


VERDICT_ORDER: tuple[Verdict, ...] = ("ok", "warning", "failed")
"""The verdicts, from the best to the worst."""


def worst_verdict(checks: list[Check]) -> Verdict:
    """The worst verdict of ``checks`` (``ok`` when there is none)."""
    return max((c.verdict for c in checks), key=VERDICT_ORDER.index, default="ok")


def healthy(checks: list[Check]) -> bool:
    """Whether no check failed."""
    return all(check.verdict != "failed" for check in checks)
