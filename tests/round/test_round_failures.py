"""A database that goes down, or cannot be reached: a clear error and no partial output.

The output database going down mid-publish is real: the server terminates the connection
right after the publish transaction's first statement (the ``DELETE`` of the round's rows),
so the next statement fails with the driver's own ``OperationalError`` (see the
``kill_output_mid_publish`` fixture).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.db.engine import make_engine
from elfe_ems.jobs.registry import job_named
from elfe_ems.round.job import ABANDONED, RoundError, run_round
from elfe_ems.store.tables import run_log

PASSWORD = "s3cret-pw"
EMS = Path(sys.executable).with_name("ems")  # the console script of this environment
ROUND_TIMEOUT_S = job_named("round").timeout_s


def test_output_down_mid_publish(pg_env: Any, kill_output_mid_publish: Any) -> None:
    env = pg_env()
    kill_output_mid_publish.armed = False
    env.run()  # the round's rows are there: a partial re-publish would delete them
    kill_output_mid_publish.armed = True
    before = env.output_snapshot()
    with pytest.raises(RoundError) as raised:
        env.run()
    assert len(kill_output_mid_publish.killed) == 1  # the connection was killed, once
    assert _connection_lost(str(raised.value))
    assert str(raised.value).startswith("output database: ")  # which of the three failed
    assert env.output_snapshot() == before  # every table, ids included
    first, second = env.run_log()
    assert first["status"] == "succeeded"
    assert second["status"] == "failed"
    assert _connection_lost(second["error"])
    assert "\n" not in second["error"]  # the reason, on one line, without the SQL echo
    assert "[SQL:" not in second["error"]
    assert second["finished_at"] is not None


def test_store_down_after_publish(
    pg_env: Any, kill_output_mid_publish: Any, case: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The store goes down as the round's success is being logged, after the publish: the
    round has run (its rows are there) and says so, with a warning; not "nothing
    published"."""
    kill_output_mid_publish.statement = "UPDATE run_log SET finished_at"  # the success
    env = pg_env()
    with caplog.at_level(logging.WARNING):
        outcome = env.run()
    assert len(kill_output_mid_publish.killed) == 1
    assert outcome.rows_published == len(case.PLANNED_IDS)
    assert sorted(env.results()) == sorted(case.PLANNED_IDS)
    warning = "[WARN_DATABASE] round published, but its success could not be logged in the store"
    assert any(r.getMessage().startswith(warning) for r in caplog.records)
    (entry,) = env.run_log()
    assert entry["status"] == "running"  # the store could not be told


@pytest.mark.parametrize(("age_s", "closed"), [(ROUND_TIMEOUT_S + 5, True), (60, False)])
def test_a_run_left_running_past_the_timeout_is_closed_by_the_next(
    pg_env: Any, age_s: float, closed: bool
) -> None:
    """A run that died without logging its end (killed) leaves its row "running"; the next
    round closes it as failed once it is older than the round job's timeout (no run can be
    alive then: ``ems serve`` stops it), and leaves a younger one (it may still be going)."""
    env = pg_env()
    engine = make_engine(env.store_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(run_log).values(
                    round_start=0,
                    planning_method="elfe-ems",
                    started_at=time.time() - age_s,
                    status="running",
                )
            )
    finally:
        engine.dispose()
    env.run()
    left, this = env.run_log()
    assert this["status"] == "succeeded"
    assert left["status"] == ("failed" if closed else "running")
    assert left["error"] == (ABANDONED if closed else None)


def test_other_failure_is_logged(pg_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure that is not a database's (here the solver) is raised as it is, and the run
    log says the round failed (not "running" for ever); nothing is published."""
    env = pg_env()
    before = env.output_snapshot()

    def crash(*_: Any) -> None:
        raise RuntimeError("solver crashed")

    monkeypatch.setattr("elfe_ems.round.job.solve", crash)
    with pytest.raises(RuntimeError, match="solver crashed"):
        env.run()
    (entry,) = env.run_log()
    assert entry["status"] == "failed"
    assert entry["error"] == "solver crashed"
    assert env.output_snapshot() == before


def _env_vars(env: Any) -> dict[str, str]:
    return {
        "EMS_COORDINATION_URL": env.coordination_url,
        "EMS_STORE_URL": env.store_url,
        "EMS_OUTPUT_URL": env.output_url,
        "EMS_RUN_CONDITIONS_DIR": str(env.run_dir),
    }


def test_cli_output_down_mid_publish(pg_env: Any, kill_output_mid_publish: Any, case: Any) -> None:
    env = pg_env(password=PASSWORD)
    assert PASSWORD in env.output_url
    before = env.output_snapshot()
    result = CliRunner().invoke(app, ["run", "--at", str(case.AT)], env=_env_vars(env))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, no traceback
    assert len(kill_output_mid_publish.killed) == 1
    assert "error: round not run, nothing published: " in result.output
    assert _connection_lost(result.output)
    assert "Traceback" not in result.output
    assert PASSWORD not in result.output
    assert env.output_snapshot() == before
    (entry,) = env.run_log()
    assert entry["status"] == "failed"
    assert PASSWORD not in entry["error"]


@pytest.mark.parametrize("database", ["coordination", "store", "output"])
def test_unreachable_database(pg_env: Any, case: Any, database: str) -> None:
    env = pg_env(password=PASSWORD)
    before = env.output_snapshot()
    settings = env.settings().model_copy(
        update={f"{database}_url": case.unreachable(getattr(env, f"{database}_url"))}
    )
    with pytest.raises(RoundError) as raised:
        run_round(settings, case.AT)
    message = str(raised.value)
    assert message.startswith(f"{database} database: ")  # which of the three failed
    assert "port 1 failed" in message
    assert "Connection refused" in message
    assert PASSWORD not in message
    assert env.output_snapshot() == before  # nothing written
    assert not env.run_dir.exists() or not list(env.run_dir.iterdir())  # no scenario saved
    log = env.run_log()
    if database == "store":
        assert log == []  # the round could not even be logged
    else:
        (entry,) = log
        assert entry["status"] == "failed"
        assert "Connection refused" in entry["error"]
        assert PASSWORD not in entry["error"]


def test_unreachable_database_real_command(pg_env: Any, case: Any) -> None:
    """The installed command, with progress logs on: exit 1, one error line, no traceback,
    no password anywhere."""
    env = pg_env(password=PASSWORD)
    variables = {k: v for k, v in os.environ.items() if not k.startswith("EMS_")}
    variables |= _env_vars(env) | {"EMS_OUTPUT_URL": case.unreachable(env.output_url)}
    completed = subprocess.run(
        [EMS, "-v", "run", "--at", str(case.AT)],
        capture_output=True,
        text=True,
        env=variables,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.count("error:") == 1
    assert "error: round not run, nothing published: " in completed.stderr
    assert "Connection refused" in completed.stderr
    for text in (completed.stdout, completed.stderr):
        assert PASSWORD not in text
        assert "Traceback" not in text


def _connection_lost(message: str) -> bool:
    """Whether ``message`` gives the server's or the driver's reason for the lost
    connection (which one comes first depends on the driver's pipeline)."""
    return (
        "terminating connection due to administrator command" in message
        or "server closed the connection unexpectedly" in message
    )


def test_unmigrated_database_gives_a_hint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    env = {name: url for name in ("EMS_COORDINATION_URL", "EMS_STORE_URL", "EMS_OUTPUT_URL")}
    result = CliRunner().invoke(app, ["run", "--at", "1792886370"], env=env)
    assert result.exit_code == 1
    assert "no such table" in result.output
    assert "ems db upgrade" in result.output
    assert "Traceback" not in result.output
