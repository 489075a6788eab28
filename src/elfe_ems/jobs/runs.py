"""The one runner of a job's run, for ``ems job`` (and so ``ems serve``, whose runs are
``ems job`` processes) and the demo's steps: it records each finished run in the store
(:mod:`elfe_ems.store.job_runs`) with the periods of the registry's jobs.

A store that cannot be written never changes a run's outcome: the run's own result stands,
and one ``[WARN_DATABASE]`` line says the run was not recorded. Details are stored without
passwords or tokens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import Settings, without_secrets
from elfe_ems.db.engine import DatabaseUrlError, database_problem, engine_for
from elfe_ems.jobs.registry import JOBS, JobError
from elfe_ems.logtags import Tag
from elfe_ems.store.job_runs import JobRun, record_run, set_schedules

log = logging.getLogger(__name__)


def record(settings: Settings, run: JobRun) -> None:
    """Store ``run`` (its detail without secrets) and the registry's periods; a store that
    cannot be written is logged with ``[WARN_DATABASE]``, never raised."""
    run = JobRun(
        run.job, run.started_at, run.finished_at, run.status, without_secrets(run.detail, settings)
    )
    try:
        with engine_for(settings.store_url) as store, store.begin() as connection:
            set_schedules(connection, {job.name: job.schedule.period_s() for job in JOBS})
            record_run(connection, run)
    except (SQLAlchemyError, DatabaseUrlError) as error:
        problem = database_problem("store", error, settings.store_url)
        log.warning("%s job %s: run not recorded: %s", Tag.DATABASE, run.job, problem)


@dataclass
class Run:
    """A run in progress: set :attr:`summary` before the block ends."""

    summary: str = ""


@contextmanager
def recorded_run(settings: Settings, job: str) -> Iterator[Run]:
    """Run the block as a run of ``job``: recorded as succeeded with the run's summary when
    the block ends, as failed with the error when it raises (the error goes on)."""
    started_s = time.time()
    run = Run()
    try:
        yield run
    except Exception as error:
        record(settings, JobRun(job, started_s, time.time(), "failed", _reason(error)))
        raise
    record(settings, JobRun(job, started_s, time.time(), "succeeded", run.summary))


def _reason(error: Exception) -> str:
    """An error's message, with its type when it is not a job's own error."""
    return str(error) if isinstance(error, JobError) else f"{type(error).__name__}: {error}"
