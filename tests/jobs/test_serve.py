"""``ems serve``: jobs at their second, each run a process of its own, never two runs of one
job at once, timeouts, and a clean stop on SIGINT / SIGTERM.

One serve session (``session`` below, about 15 s) runs the test jobs of ``ems_test_jobs``; the
tests read its log records and the marks its job processes wrote. From ``T0``, a whole second
about 2 s after the start (a job process takes 1 to 3 s to start on a busy machine):

============  ============  =======  ===================================================
job           seconds       timeout  expected
============  ============  =======  ===================================================
crash         T0            30 s     exit code 1, the others go on
hang          T0            8 s      killed after its timeout
slow          every second  30 s     runs 1.5 s (+ its start-up): skips, no overlap
linger        T0 + 3, + 6   30 s     running until released, once the stop is logged
hang-at-stop  T0 + 3        60 s     running at the stop, killed after the grace time
============  ============  =======  ===================================================

SIGINT is sent to this process (``serve`` runs in the main thread) once the crash is over,
hang has been killed, hang-at-stop has started and a run of linger is going; linger is
released (it then finishes within the grace time) once serve has logged the stop, however
busy the machine. A last test runs ``python -m elfe_ems serve`` and stops it with SIGTERM.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from ems_test_jobs import RELEASE
from sqlalchemy import select

from elfe_ems.config import load_settings
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs.registry import Job, Schedule
from elfe_ems.jobs.serve import KILL_AFTER_S, Server, serve
from elfe_ems.store import migrate, tables

TEST_JOBS = Path(__file__).parent  # the folder of ems_test_jobs
GRACE_S = 3.0
HANG_TIMEOUT_S = 8  # a job process takes up to 5 s to start on a very busy machine
START_SLACK_S = 0.5  # a run's process starts within this after its second


@dataclass
class Session:
    """What a serve session left: its log records, the job processes' marks, its times."""

    t0: int
    seconds: dict[str, set[int]]  # job -> its seconds of the minute
    records: list[logging.LogRecord]
    marks: list[tuple[int, str, str, float]]  # pid, function, start|end, time [s]
    job_runs: list[dict[str, object]]  # the runs recorded in the store, in order

    def lines(self, text: str) -> list[logging.LogRecord]:
        return [r for r in self.records if text in r.getMessage()]

    def pids(self, job: str) -> list[int]:
        """The pids of the runs of ``job``, in order."""
        return [int(r.getMessage().rsplit(" ", 1)[1]) for r in self.lines(f"job {job}: started")]

    def runs(self, pid: int) -> dict[str, float]:
        """When the job process ``pid`` marked its start and end."""
        return {event: at for p, _f, event, at in self.marks if p == pid}

    def outcome(self, job: str) -> list[logging.LogRecord]:
        return [r for r in self.lines(f"job {job}: ") if " after " in r.getMessage()]


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _read_marks(path: Path) -> list[tuple[int, str, str, float]]:
    if not path.exists():
        return []
    marks = []
    for line in path.read_text(encoding="utf-8").splitlines():
        pid, function, event, at = line.split()
        marks.append((int(pid), function, event, float(at)))
    return marks


def _ready_to_stop(session: Session, marks: Path) -> bool:
    """Whether the crash is over and a run started after it, hang was killed, hang-at-stop is
    running and a run of linger too."""
    crashed = session.outcome("crash")
    if (
        not session.outcome("hang")
        or not crashed
        or not [r for r in session.lines(": started, pid ") if r.created > crashed[0].created]
    ):
        return False
    events = {(p, f, event) for p, f, event, _at in _read_marks(marks)}
    hanging = [p for p in session.pids("hang-at-stop") if (p, "hang", "start") in events]
    lingering = [
        p
        for p in session.pids("linger")
        if (p, "linger", "start") in events and (p, "linger", "end") not in events
    ]
    return bool(hanging and lingering)


def _interrupt_when_ready(session: Session, marks: Path, deadline_s: float) -> None:
    """SIGINT once :func:`_ready_to_stop` (or at the deadline: the tests then fail), then
    release linger once the stop is logged."""
    while time.time() < deadline_s and not _ready_to_stop(session, marks):
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGINT)
    while time.time() < deadline_s + 5 and not session.lines("stopping (SIGINT)"):
        time.sleep(0.02)
    (marks.parent / RELEASE).touch()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    folder = tmp_path_factory.mktemp("serve")
    config = folder / "config.toml"
    config.write_text(f'data_dir = "{(folder / "data").as_posix()}"\n', encoding="utf-8")
    store_url = load_settings(config).store_url
    with engine_for(store_url) as store:
        migrate.upgrade(store, "store")
    t0 = int(time.time()) + 2
    seconds = {
        "crash": {t0 % 60},
        "hang": {t0 % 60},
        "slow": set(range(60)),
        "linger": {(t0 + 3) % 60, (t0 + 6) % 60},
        "hang-at-stop": {(t0 + 3) % 60},
    }
    targets = {"hang-at-stop": "hang"}
    timeouts = {"hang": HANG_TIMEOUT_S, "hang-at-stop": 60}
    jobs = [
        Job(
            name,
            f"test job {name}",
            Schedule("*", ",".join(map(str, sorted(s))) if len(s) < 60 else "*"),
            f"ems_test_jobs:{targets.get(name, name)}",
            timeout_s=timeouts.get(name, 30),
        )
        for name, s in seconds.items()
    ]
    handler = Records()
    logger = logging.getLogger("elfe_ems.jobs.serve")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    result = Session(t0, seconds, handler.records, [], [])
    marks = folder / "data" / "marks.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(TEST_JOBS))
        patch.delenv("EMS_CONFIG", raising=False)
        stopper = threading.Thread(
            target=_interrupt_when_ready, args=(result, marks, t0 + 25), daemon=True
        )
        stopper.start()
        try:
            serve(load_settings(config), config, jobs, grace_s=GRACE_S)
        finally:
            stopper.join()
            logger.removeHandler(handler)
            logger.setLevel(logging.NOTSET)
    result.marks = _read_marks(marks)
    with engine_for(store_url) as store, store.connect() as connection:
        rows = connection.execute(select(tables.job_run).order_by(tables.job_run.c.id))
        result.job_runs = [dict(row) for row in rows.mappings()]
    return result


def test_runs_start_at_their_second(session: Session) -> None:
    started = session.lines(": started, pid ")
    assert started
    for record in started:
        job = record.getMessage().split(":")[0].removeprefix("job ")
        assert int(record.created) % 60 in session.seconds[job], record.getMessage()
        assert record.created % 1 < START_SLACK_S, record.getMessage()
    counts = {job: len(session.pids(job)) for job in session.seconds}
    assert counts["crash"] == counts["hang"] == counts["hang-at-stop"] == 1
    assert counts["linger"] in {1, 2}
    assert counts["slow"] >= 2
    # each run is a process of its own, which ran the job after it was started (a run started
    # just before the stop may be stopped before its job began, on a busy machine)
    marked = 0
    for record in started:
        pid = int(record.getMessage().rsplit(" ", 1)[1])
        assert pid != os.getpid()
        if "start" in session.runs(pid):
            marked += 1
            assert session.runs(pid)["start"] > record.created
    assert marked >= len(started) - 1


def test_slow_job_never_overlaps_itself(session: Session) -> None:
    runs = [session.runs(pid) for pid in session.pids("slow")]
    assert len(runs) >= 2
    for earlier, later in itertools.pairwise(runs):
        assert later["start"] >= earlier["end"]
    skipped = session.lines("[WARN_IGNORED] job slow: run of ")
    assert skipped
    assert all(r.levelno == logging.WARNING for r in skipped)
    assert all("skipped, the previous run is still going" in r.getMessage() for r in skipped)
    (stopping,) = session.lines("stopping (SIGINT)")
    before_the_stop = [o for o in session.outcome("slow") if o.created < stopping.created]
    assert before_the_stop
    assert all(o.getMessage().startswith("job slow: succeeded after") for o in before_the_stop)


def test_crash_does_not_stop_the_others(session: Session) -> None:
    (crashed,) = session.outcome("crash")
    assert crashed.levelno == logging.ERROR
    assert crashed.getMessage().startswith("job crash: failed with exit code 1 after ")
    later = [r for r in session.lines(": started, pid ") if r.created > crashed.created]
    assert later
    assert all(session.runs(int(r.getMessage().rsplit(" ", 1)[1])) for r in later)
    assert all(
        o.getMessage().startswith("job linger: succeeded after ") for o in session.outcome("linger")
    )


def test_job_past_its_timeout_is_killed(session: Session) -> None:
    (pid,) = session.pids("hang")
    (outcome,) = session.outcome("hang")
    message = outcome.getMessage()
    assert message.startswith("job hang: killed by SIGTERM after ")
    assert message.endswith(f"(over its timeout of {HANG_TIMEOUT_S} s)")
    duration_s = float(message.split(" after ")[1].split(" s")[0])
    assert HANG_TIMEOUT_S <= duration_s < HANG_TIMEOUT_S + 1
    assert "start" in session.runs(pid)
    assert "end" not in session.runs(pid)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_every_run_is_recorded_in_the_store(session: Session) -> None:
    """Each run records itself; a run killed by a signal is recorded by the server."""
    runs: dict[str, list[tuple[object, object]]] = {}
    for row in session.job_runs:
        runs.setdefault(str(row["job"]), []).append((row["status"], row["detail"]))
        assert float(row["started_at"]) <= float(row["finished_at"])  # type: ignore[arg-type]
    assert runs["hang"] == [
        ("failed", f"killed by SIGTERM (over its timeout of {HANG_TIMEOUT_S} s)")
    ]
    ((status, detail),) = runs["crash"]
    assert status == "failed"
    assert str(detail).startswith("RuntimeError: boom")
    assert {status for status, _ in runs["slow"]} == {"succeeded"}
    assert runs["slow"][0][1] == "slow slept 1.5 s"
    assert len(runs["slow"]) == len(session.outcome("slow"))


def test_sigint_lets_running_jobs_finish_then_stops_them(session: Session) -> None:
    (stopping,) = session.lines("stopping (SIGINT): no new runs; waiting up to 3 s for ")
    assert "hang-at-stop" in stopping.getMessage()
    assert "linger" in stopping.getMessage()
    assert not [r for r in session.lines(": started, pid ") if r.created > stopping.created]
    linger = session.outcome("linger")[-1]
    assert linger.getMessage().startswith("job linger: succeeded after ")
    assert stopping.created < linger.created < stopping.created + GRACE_S
    (late,) = session.lines("still running after the grace time of 3 s: stopping them")
    assert late.getMessage().startswith("hang-at-stop")
    assert GRACE_S <= late.created - stopping.created < GRACE_S + 0.5
    (killed,) = session.outcome("hang-at-stop")
    assert killed.getMessage().startswith("job hang-at-stop: killed by SIGTERM after ")
    assert killed.created - late.created < KILL_AFTER_S
    assert session.records[-1].getMessage() == "stopped"


def test_sigterm_stops_ems_serve(tmp_path: Path, config: Path) -> None:
    """The real command, with the registry's jobs (none due in the next seconds, or one that
    fails at once here: the test does not depend on it)."""
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "elfe_ems", "serve", "--config", str(config), "--grace", "1"],
            stderr=log_file,
            stdout=log_file,
        )
        try:
            deadline_s = time.monotonic() + 10
            while "next run at" not in log_path.read_text() and time.monotonic() < deadline_s:
                time.sleep(0.05)
            assert "job round: next run at " in log_path.read_text()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
    text = log_path.read_text()
    assert "INFO elfe_ems.jobs.serve: stopping (SIGTERM): no new runs; " in text
    assert text.rstrip().endswith("INFO elfe_ems.jobs.serve: stopped")
    assert "Traceback" not in text


def test_stop_before_run(config: Path) -> None:
    """A stop signal that comes before the scheduler runs still stops it."""
    server = Server(load_settings(config), config)
    server.stop("test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive()
