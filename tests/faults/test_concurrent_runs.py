"""Concurrent runs (issue 17, item 2): several ``ems run`` of one round at once, and
``ems serve``'s round while an operator runs ``ems run``: one plan per device and round, no
deadlock, and a run that finds its round's lock taken stands down with one ``[WARN_IGNORED]``
line (exit 1 for ``ems run``, a succeeded job for ``ems serve``: the other run publishes).
The lock: :mod:`elfe_ems.publish.lock`. Figures: docs/reliability.md.

Whether two runs started together overlap depends on the machine (a run holds its round's
lock about 0.5 s of its 1.5 s): one that starts after the other has published re-runs the
round, which replaces the rows (one plan per device and round still). The tests that hold a
lock themselves make each outcome certain.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from faults_env import METHOD, STEP, TIMEOUT_S, FaultEnv, R, judge, new_sqlite_env, round_start
from sqlalchemy import Engine, select, text

from elfe_ems.config import load_settings
from elfe_ems.db.engine import make_engine
from elfe_ems.jobs.registry import Job, Schedule
from elfe_ems.jobs.serve import Server
from elfe_ems.publish.lock import lock_publish, round_lock
from elfe_ems.round.job import job, round_start_after
from elfe_ems.store.tables import run_log

STANDS_DOWN = "holds its lock in the output database; this run stands down, nothing published"
REPEATS = 5  # rounds per count of runs in the fault matrix
SERVE_REPEATS = 5
SERVE_PERIOD_S = 6


def run_log_of(env: FaultEnv, start: int) -> list[str]:
    """The statuses of the round's rows in the run log."""
    engine = make_engine(env.store_url)
    try:
        with engine.connect() as connection:
            query = select(run_log.c.status).where(run_log.c.round_start == start)
            return list(connection.execute(query).scalars())
    finally:
        engine.dispose()


def runs_at_once(env: FaultEnv, count: int, rounds: range) -> Counter[str]:
    """``count`` ``ems run`` of each round at once; the figures."""
    figures: Counter[str] = Counter()
    for k in rounds:
        before = env.output_rows()
        processes = [env.start_run(k) for _ in range(count)]
        outputs = [p.communicate(timeout=TIMEOUT_S) for p in processes]  # a deadlock: timeout
        codes = [p.returncode for p in processes]
        stood_down = [STANDS_DOWN in err for _, err in outputs]
        assert all(c == (1 if down else 0) for c, down in zip(codes, stood_down, strict=True))
        assert all("Traceback" not in err for _, err in outputs)
        verdict = judge(before, env.output_rows(), k)
        assert verdict.published
        assert verdict.duplicates == 0
        # a run that stood down leaves no row in the run log
        assert run_log_of(env, round_start(k)) == ["succeeded"] * codes.count(0)
        figures["rounds"] += 1
        figures["runs"] += count
        figures["stood down"] += sum(stood_down)
        figures["published (first or re-run)"] += codes.count(0)
        figures["duplicates"] += verdict.duplicates
    print(f"\nfault matrix, {count} ems run at once:", dict(figures))
    return figures


def test_two_runs_at_once(fault_env: FaultEnv) -> None:
    runs_at_once(fault_env, 2, range(1))


@pytest.mark.fault_matrix
@pytest.mark.parametrize("count", [2, 5])
def test_runs_at_once_matrix(fault_env: FaultEnv, count: int) -> None:
    runs_at_once(fault_env, count, range(REPEATS))


def test_two_runs_at_once_on_sqlite(tmp_path: Path) -> None:
    """SQLite has no round lock: it serialises the writes itself, both runs publish, the
    later one's rows replacing the earlier's."""
    env = new_sqlite_env(tmp_path)
    processes = [env.start_run(0) for _ in range(2)]
    outputs = [p.communicate(timeout=TIMEOUT_S) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    verdict = judge({"result": []}, env.output_rows(), 0)
    assert verdict.published
    assert verdict.duplicates == 0
    assert run_log_of(env, round_start(0)) == ["succeeded", "succeeded"]


def test_held_round_lock_stands_down(fault_env: FaultEnv) -> None:
    """Another run holds the round's lock: ``ems run`` stands down at once (exit 1, one
    warning line), publishes nothing and leaves no run-log row; the round job returns."""
    before = fault_env.output_rows()
    engine = make_engine(fault_env.output_url)
    try:
        with round_lock(engine, METHOD, round_start(0)):
            process = fault_env.start_run(0)
            _, stderr = process.communicate(timeout=TIMEOUT_S)
            now_s = time.time()
            with round_lock(engine, METHOD, round_start_after(now_s)):
                summary = job(fault_env.settings(), now_s)
    finally:
        engine.dispose()
    assert process.returncode == 1
    (warning,) = [line for line in stderr.splitlines() if "[WARN_IGNORED]" in line]
    assert warning.endswith(
        f"round 2027-01-15 09:00 CET: another run of it (method {METHOD}) {STANDS_DOWN}"
    )
    assert "error: round not run, nothing published: " in stderr
    assert fault_env.output_rows() == before
    assert run_log_of(fault_env, round_start(0)) == []
    assert summary.endswith("this run stands down")


def test_publish_waits_for_another_publish(fault_env: FaultEnv) -> None:
    """A publish of another round holds the publish lock: the run waits, then publishes."""
    engine = make_engine(fault_env.output_url)
    try:
        with engine.connect() as holder:
            with holder.begin():
                lock_publish(holder)
                process = fault_env.start_run(0)
                deadline = time.monotonic() + TIMEOUT_S
                while not _waiting_for_lock(engine):
                    assert process.poll() is None
                    assert time.monotonic() < deadline
                    time.sleep(0.01)
            _, stderr = process.communicate(timeout=TIMEOUT_S)
    finally:
        engine.dispose()
    assert process.returncode == 0, stderr
    assert judge({"result": []}, fault_env.output_rows(), 0).published


def _waiting_for_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        return bool(connection.execute(text(query)).scalar_one())


class _Records(logging.Handler):
    """The log lines of ``ems serve``."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def ended(self) -> list[str]:
        return [line for line in self.lines if line.startswith("job round: ") and " after " in line]


def serve_and_operator(
    env: FaultEnv, capfd: pytest.CaptureFixture[str], repeats: int
) -> Counter[str]:
    """``ems serve`` runs the round job at ``repeats`` seconds ``SERVE_PERIOD_S`` apart, and
    an operator runs ``ems run`` of the same round at each of them; the figures."""
    first = int(time.time()) + 3
    times = [first + SERVE_PERIOD_S * i for i in range(repeats)]
    seconds = ",".join(str(s) for s in sorted({t % 60 for t in times}))
    round_job = Job("round", "the round", Schedule("*", seconds), "elfe_ems.round.job:job", 60)
    server = Server(load_settings(env.config), env.config, [round_job], grace_s=30)
    records = _Records()
    logger = logging.getLogger("elfe_ems.jobs.serve")
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    thread = threading.Thread(target=server.run, daemon=True)
    figures: Counter[str] = Counter()
    thread.start()
    try:
        for i, at in enumerate(times):
            k = (round_start_after(at) - R) // STEP  # serve's round, from the clock
            before, logged = env.output_rows(), run_log_of(env, round_start(k))
            time.sleep(max(0.0, at - time.time()))
            operator = env.start_run(k)
            _, operator_err = operator.communicate(timeout=TIMEOUT_S)
            deadline = time.monotonic() + TIMEOUT_S
            while len(records.ended()) <= i:  # serve's run of this second has ended
                assert time.monotonic() < deadline, records.lines
                time.sleep(0.05)
            assert records.ended()[i].startswith("job round: succeeded after ")
            serve_down = STANDS_DOWN in capfd.readouterr().err
            operator_down = STANDS_DOWN in operator_err
            assert operator.returncode == (1 if operator_down else 0), operator_err
            assert not (serve_down and operator_down)
            verdict = judge(before, env.output_rows(), k)
            assert verdict.published
            assert verdict.duplicates == 0
            published = 2 - serve_down - operator_down
            assert run_log_of(env, round_start(k)) == logged + ["succeeded"] * published
            figures["tries"] += 1
            figures["serve stood down"] += serve_down
            figures["operator stood down"] += operator_down
            figures["both published (one after the other)"] += published == 2
            figures["duplicates"] += verdict.duplicates
    finally:
        server.stop("test")
        thread.join(timeout=60)
        logger.removeHandler(records)
        logger.setLevel(logging.NOTSET)
    assert not thread.is_alive()
    print("\nfault matrix, ems serve and an operator's ems run:", dict(figures))
    return figures


def test_serve_and_operator_run(fault_env: FaultEnv, capfd: pytest.CaptureFixture[str]) -> None:
    serve_and_operator(fault_env, capfd, 1)


@pytest.mark.fault_matrix
def test_serve_and_operator_run_matrix(
    fault_env: FaultEnv, capfd: pytest.CaptureFixture[str]
) -> None:
    serve_and_operator(fault_env, capfd, SERVE_REPEATS)
