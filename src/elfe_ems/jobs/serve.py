"""``ems serve``: every job at its schedule, each run in a process of its own.

The scheduler (APScheduler 3, cron triggers in the configured time zone) only starts
processes: each run is ``python -m elfe_ems job NAME``, so a job that crashes, leaks memory or
hangs never takes the scheduler or another job down. A run still going after the job's
``timeout_s`` is stopped (SIGTERM, then SIGKILL). Each run records itself in the store
(:mod:`elfe_ems.jobs.runs`); a run stopped by a signal cannot, so the server records it as
failed. A job never runs twice at once: a run due
while the previous one is still going is skipped with ``[WARN_IGNORED]``.

SIGTERM or SIGINT stops the scheduler: no new run starts, running ones may finish within a
grace time, then they are stopped too. Each run is started in a session of its own, so a
Ctrl-C in the terminal reaches the scheduler only, and a stopped run takes its own child
processes with it.

This is the way to run the EMS where there is no systemd; with systemd, the units of
:mod:`elfe_ems.jobs.systemd` do the same.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JOBS, Job, Schedule

# APScheduler is imported by the server, not here: `ems` reads this module's defaults at
# every start, and the scheduler would slow it down
if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent, JobSubmissionEvent, SchedulerEvent
    from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

DEFAULT_GRACE_S = 60.0
"""How long running jobs may go on after a stop signal before they are stopped [s]."""
KILL_AFTER_S = 5.0
"""A run asked to stop (SIGTERM) and still there after this is killed (SIGKILL) [s]."""
MISFIRE_GRACE_S = 60
"""A run the scheduler wakes up late for (a busy machine) still runs within this delay [s]."""

Process = subprocess.Popen[bytes]


def trigger(schedule: Schedule, zone: ZoneInfo) -> CronTrigger:
    """The scheduler's trigger of ``schedule``, in ``zone``."""
    from apscheduler.triggers.cron import CronTrigger  # noqa: PLC0415

    return CronTrigger(
        hour=schedule.hour, minute=schedule.minute, second=schedule.second, timezone=zone
    )


def next_run_s(schedule: Schedule, zone: ZoneInfo, now_s: float) -> int | None:
    """The Unix time [s] of the next run after ``now_s`` (None: never again)."""
    fire = trigger(schedule, zone).get_next_fire_time(None, datetime.fromtimestamp(now_s, zone))
    return None if fire is None else round(fire.timestamp())


def job_command(job: Job, config: Path | None, options: Sequence[str] = ()) -> list[str]:
    """The command of one run of ``job``: ``python -m elfe_ems [OPTIONS] job NAME --target
    MODULE:FUNCTION [--config FILE]``. The target is passed so that the run is the very job
    given, also one that is not (yet) in the registry."""
    command = [sys.executable, "-m", "elfe_ems", *options, "job", job.name, "--target", job.target]
    return command if config is None else [*command, "--config", str(config)]


def _log_options() -> list[str]:
    """The ``ems`` logging option that matches this process's (runs log as the server)."""
    level = logging.getLogger().level
    return ["--verbose"] if level <= logging.INFO else ["--quiet"] if level >= logging.ERROR else []


def _signal(processes: Iterable[Process], signum: signal.Signals) -> None:
    """Send ``signum`` to each still running process and its children (its session)."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # ended in between
                os.killpg(process.pid, signum)


def _wait(processes: Sequence[Process], timeout_s: float) -> None:
    """Wait until every process has ended, at most ``timeout_s``."""
    deadline_s = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline_s - time.monotonic()))
        except subprocess.TimeoutExpired:
            return


def terminate(processes: Sequence[Process]) -> None:
    """Stop the processes: SIGTERM, and SIGKILL to those still there after
    :data:`KILL_AFTER_S`; returns once all have ended."""
    _signal(processes, signal.SIGTERM)
    _wait(processes, KILL_AFTER_S)
    _signal(processes, signal.SIGKILL)
    for process in processes:
        process.wait()


def _outcome(code: int) -> str:
    if code == 0:
        return "succeeded"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"failed with exit code {code}"


class Server:
    """The jobs' scheduler: :meth:`run` blocks until :meth:`stop` (thread safe) is called."""

    def __init__(
        self,
        settings: Settings,
        config: Path | None = None,
        jobs: Sequence[Job] = JOBS,
        grace_s: float = DEFAULT_GRACE_S,
    ) -> None:
        from apscheduler.events import (  # noqa: PLC0415
            EVENT_JOB_MAX_INSTANCES,
            EVENT_JOB_MISSED,
            EVENT_SCHEDULER_STARTED,
        )
        from apscheduler.executors.pool import ThreadPoolExecutor  # noqa: PLC0415
        from apscheduler.schedulers.blocking import BlockingScheduler  # noqa: PLC0415

        # the listeners below say what APScheduler would, one line per event, with the tags
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        self._settings = settings
        self._config = config
        self._grace_s = grace_s
        self._options = _log_options()
        self._changed = threading.Condition()  # guards the two fields below
        self._running: dict[str, Process] = {}
        self._stopping = False
        # one thread per job: a long run never delays another job
        pool = ThreadPoolExecutor(max_workers=max(1, len(jobs)))
        self._scheduler = BlockingScheduler(executors={"default": pool}, timezone=settings.zone)
        for job in jobs:
            self._scheduler.add_job(
                self._run,
                trigger(job.schedule, settings.zone),
                args=(job,),
                id=job.name,
                name=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_S,
            )
        self._scheduler.add_listener(self._started, EVENT_SCHEDULER_STARTED)
        self._scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES)
        self._scheduler.add_listener(self._missed, EVENT_JOB_MISSED)

    def run(self) -> None:
        """Run the jobs at their times until :meth:`stop`; then let the running ones finish
        within the grace time, stop the others, and return once none is left."""
        self._scheduler.start()
        self._drain()

    def stop(self, reason: str = "") -> None:
        """Start no more runs and make :meth:`run` return (once the running ones are over);
        ``reason`` is logged."""
        with self._changed:
            if self._stopping:
                return
            self._stopping = True
            running = sorted(self._running)
        log.info(
            "stopping%s: no new runs; %s",
            f" ({reason})" if reason else "",
            f"waiting up to {self._grace_s:g} s for {', '.join(running)}"
            if running
            else "none running",
        )
        self._shutdown()

    def _shutdown(self) -> None:
        # by stop(), and by _started() for a stop() that came before the scheduler started
        from apscheduler.schedulers import SchedulerNotRunningError  # noqa: PLC0415

        with contextlib.suppress(SchedulerNotRunningError):
            self._scheduler.shutdown(wait=False)

    def _drain(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self._running, self._grace_s)
            late = dict(self._running)
        if late:
            log.warning(
                "%s still running after the grace time of %g s: stopping them",
                ", ".join(sorted(late)),
                self._grace_s,
            )
            terminate(list(late.values()))
        with self._changed:  # until each run has logged its outcome
            self._changed.wait_for(lambda: not self._running)
        log.info("stopped")

    def _run(self, job: Job) -> None:
        """One run of ``job``, in its own process, stopped after the job's timeout."""
        with self._changed:
            if self._stopping:
                return
            started_s = time.monotonic()
            started_at_s = time.time()
            try:
                process: Process = subprocess.Popen(
                    job_command(job, self._config, self._options), start_new_session=True
                )
            except OSError as error:
                log.error("job %s: cannot be started: %s", job.name, error)
                return
            self._running[job.name] = process
        log.info("job %s: started, pid %d", job.name, process.pid)
        try:
            code = process.wait(timeout=job.timeout_s)
            late = ""
        except subprocess.TimeoutExpired:
            terminate([process])
            code = process.returncode
            late = f" (over its timeout of {job.timeout_s} s)"
        with self._changed:
            del self._running[job.name]
            log.log(
                logging.INFO if code == 0 else logging.ERROR,
                "job %s: %s after %.1f s%s",
                job.name,
                _outcome(code),
                time.monotonic() - started_s,
                late,
            )
            self._changed.notify_all()
        if code < 0:  # stopped by a signal: the run could not record itself
            self._record_stopped(job, started_at_s, f"{_outcome(code)}{late}")

    def _record_stopped(self, job: Job, started_at_s: float, reason: str) -> None:
        # the store layer here, not at the top: `ems` imports this module at every start
        from elfe_ems.jobs.runs import record  # noqa: PLC0415
        from elfe_ems.store.job_runs import JobRun  # noqa: PLC0415

        record(self._settings, JobRun(job.name, started_at_s, time.time(), "failed", reason))

    def _started(self, _event: SchedulerEvent) -> None:
        with self._changed:
            if self._stopping:
                self._shutdown()
                return
        for job in self._scheduler.get_jobs():
            log.info("job %s: next run at %s", job.id, job.next_run_time.isoformat())

    def _skipped(self, event: JobSubmissionEvent) -> None:
        times = ", ".join(t.isoformat() for t in event.scheduled_run_times)
        log.warning(
            "[WARN_IGNORED] job %s: run of %s skipped, the previous run is still going",
            event.job_id,
            times,
        )

    def _missed(self, event: JobExecutionEvent) -> None:
        log.warning(
            "[WARN_IGNORED] job %s: run of %s skipped, the scheduler was more than %d s late",
            event.job_id,
            event.scheduled_run_time.isoformat(),
            MISFIRE_GRACE_S,
        )


def serve(
    settings: Settings,
    config: Path | None = None,
    jobs: Sequence[Job] = JOBS,
    grace_s: float = DEFAULT_GRACE_S,
) -> None:
    """Run ``jobs`` at their times until SIGTERM or SIGINT (call from the main thread);
    ``config`` is passed on to each run."""
    server = Server(settings, config, jobs, grace_s)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # the signal may interrupt the scheduler's loop while it holds its locks: stop it
        # from another thread, which waits for them
        name = signal.Signals(signum).name
        threading.Thread(target=server.stop, args=(name,), name="ems-stop").start()

    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        server.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
