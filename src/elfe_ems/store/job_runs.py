"""The record of the jobs' runs: one row per finished run (``job_run``), and the period of
every job of the registry (``job_schedule``), read by the health checks of
:mod:`elfe_ems.store.health`.

Written by :mod:`elfe_ems.jobs.runs` (the one runner of ``ems job``, ``ems serve`` and the
demo's steps); the dashboard reads it without importing the jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from elfe_ems.store import tables
from elfe_ems.store.upsert import upsert

DETAIL_MAX_CHARS = 500
"""A stored summary or error is cut to this length (a summary is one line by contract)."""


@dataclass(frozen=True)
class JobRun:
    """One finished run of a job. Times are wall-clock Unix seconds."""

    job: str
    started_at: float
    finished_at: float
    status: str  # one of tables.JOB_RUN_STATUSES
    detail: str  # the job's summary, or why it failed


@dataclass(frozen=True)
class JobRecord:
    """What the store knows of one scheduled job: its period, its latest success and failure."""

    job: str
    period_s: int
    last_success: JobRun | None
    last_failure: JobRun | None


def one_line(text: str) -> str:
    """``text`` on one line, cut to :data:`DETAIL_MAX_CHARS`."""
    line = " ".join(text.split())
    return line if len(line) <= DETAIL_MAX_CHARS else line[: DETAIL_MAX_CHARS - 1] + "…"


def record_run(connection: Connection, run: JobRun) -> None:
    """Store ``run`` (its detail on one line)."""
    connection.execute(
        insert(tables.job_run).values(
            job=run.job,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            detail=one_line(run.detail),
        )
    )


def set_schedules(connection: Connection, periods_s: Mapping[str, int]) -> None:
    """Make ``job_schedule`` hold exactly ``periods_s`` (job → period [s]); writes only when
    it differs, so that the runs of a steady registry only read it."""
    table = tables.job_schedule
    stored = {row.job: row.period_s for row in connection.execute(select(table))}
    if stored == dict(periods_s):
        return
    connection.execute(delete(table).where(table.c.job.not_in(list(periods_s))))
    upsert(connection, table, [{"job": j, "period_s": p} for j, p in periods_s.items()])


def _latest(connection: Connection, status: str) -> dict[str, JobRun]:
    """The latest run of each job with ``status``."""
    runs = tables.job_run
    newest = (
        select(runs.c.job, func.max(runs.c.started_at).label("started_at"))
        .where(runs.c.status == status)
        .group_by(runs.c.job)
        .subquery()
    )
    rows = connection.execute(
        select(runs).join(
            newest, (runs.c.job == newest.c.job) & (runs.c.started_at == newest.c.started_at)
        )
    )
    return {
        row.job: JobRun(row.job, row.started_at, row.finished_at, row.status, row.detail)
        for row in rows
    }


def job_records(connection: Connection) -> list[JobRecord]:
    """Every job of ``job_schedule``, by name (a run of a job outside the registry, e.g.
    ``ems job NAME --target``, is stored but judged by nothing)."""
    schedule = tables.job_schedule
    periods = connection.execute(select(schedule).order_by(schedule.c.job)).all()
    successes, failures = _latest(connection, "succeeded"), _latest(connection, "failed")
    return [
        JobRecord(row.job, row.period_s, successes.get(row.job), failures.get(row.job))
        for row in periods
    ]
