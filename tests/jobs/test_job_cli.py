"""``ems job NAME`` (one run: summary, exit code, one log line) and ``ems jobs`` (the list)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.config import load_settings
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs.registry import JOBS
from elfe_ems.store import tables

AT_S = 1_700_000_000


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_job(runner: CliRunner, config: Path, name: str, *options: str) -> tuple[int, str, str]:
    """Run test job ``name`` (function of the same name in ``ems_test_jobs``)."""
    result = runner.invoke(
        app,
        ["job", name, "--target", f"ems_test_jobs:{name}", "--config", str(config), *options],
    )
    return result.exit_code, result.stdout, result.stderr


def test_summary_printed_and_run_logged(runner: CliRunner, config: Path) -> None:
    code, out, err = run_job(runner, config, "quick", "--at", str(AT_S))
    assert code == 0, err
    assert out == f"quick [done] at {AT_S}\n"  # the summary as is (no markup)
    assert err.startswith("INFO elfe_ems.cli.jobs: job quick: succeeded in 0.")
    assert err.count("\n") == 1
    marks = (config.parent / "data" / "marks.log").read_text().split()
    assert marks[1:3] == ["quick", "start"]


def test_job_error_exit_1_one_line(runner: CliRunner, config: Path) -> None:
    code, out, err = run_job(runner, config, "refuse")
    assert code == 1
    assert out == ""
    assert err.startswith("ERROR elfe_ems.cli.jobs: job refuse: failed after 0.")
    assert err.endswith(": the source is away\n")
    assert err.count("\n") == 1


def test_crash_logged_with_traceback_and_no_secret(runner: CliRunner, config: Path) -> None:
    config.write_text(
        config.read_text()
        + 'store_url = "postgresql://ems:hunter2pw@127.0.0.1/store"\n'
        + 'zabbix_token = "tok3n-s3cret"\n',
        encoding="utf-8",
    )
    code, out, err = run_job(runner, config, "crash")
    assert code == 1
    assert out == ""
    # the store cannot be written: the run says so, and its outcome stands
    warning, _, err = err.partition("\n")
    assert warning.startswith(
        "WARNING elfe_ems.jobs.runs: [WARN_DATABASE] job crash: run not recorded: store database"
    )
    assert "hunter2pw" not in warning
    assert err.startswith("ERROR elfe_ems.cli.jobs: job crash: crashed after 0.")
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: boom: postgresql://ems:***@127.0.0.1/store ***" in err
    assert "hunter2pw" not in err
    assert "tok3n-s3cret" not in err


def _recorded(config: Path) -> list[dict[str, object]]:
    with engine_for(load_settings(config).store_url) as store, store.connect() as connection:
        rows = connection.execute(select(tables.job_run).order_by(tables.job_run.c.id))
        return [dict(row) for row in rows.mappings()]


def test_each_run_is_recorded_with_its_summary_or_error(runner: CliRunner, config: Path) -> None:
    config.write_text(config.read_text() + 'zabbix_token = "tok3n-s3cret"\n', encoding="utf-8")
    before_s = time.time()
    for name in ("quick", "refuse", "crash"):
        run_job(runner, config, name, "--at", str(AT_S))
    quick, refuse, crash = _recorded(config)
    assert (quick["job"], quick["status"], quick["detail"]) == (
        "quick",
        "succeeded",
        f"quick [done] at {AT_S}",
    )
    assert before_s <= float(quick["started_at"]) <= float(quick["finished_at"]) <= time.time()  # type: ignore[arg-type]
    assert (refuse["status"], refuse["detail"]) == ("failed", "the source is away")
    assert crash["status"] == "failed"
    assert str(crash["detail"]).startswith("RuntimeError: boom: sqlite:///")
    assert str(crash["detail"]).endswith(" ***")  # the token masked
    # the registry's jobs and their periods, for the health checks
    with engine_for(load_settings(config).store_url) as store, store.connect() as connection:
        periods = dict(connection.execute(select(tables.job_schedule)).all())
    assert periods == {job.name: job.schedule.period_s() for job in JOBS}
    assert periods["round"] == 900
    assert periods["water-heater-energy"] == 86_400


def test_unknown_job_exit_2_names_the_jobs(runner: CliRunner) -> None:
    result = runner.invoke(app, ["job", "nope"])
    assert result.exit_code == 2
    assert "unknown job 'nope'" in result.stderr
    for job in JOBS:
        assert job.name in result.stderr


def test_bad_configuration_exit_2(runner: CliRunner, config: Path) -> None:
    config.write_text('timezone = "Mars/Olympus_Mons"\n', encoding="utf-8")
    code, out, err = run_job(runner, config, "quick")
    assert code == 2
    assert "timezone" in err
    assert out == ""


def test_round_job_on_a_store_without_tables(runner: CliRunner, config: Path) -> None:
    """The real round job: a JobError (no tables yet) is one clear line, exit 1."""
    result = runner.invoke(app, ["job", "round", "--config", str(config)])
    assert result.exit_code == 1
    assert "job round: failed after" in result.stderr
    assert "round not run, nothing published" in result.stderr
    assert "ems db upgrade" in result.stderr
    assert "Traceback" not in result.stderr


def test_jobs_table(runner: CliRunner, config: Path) -> None:
    config.write_text('timezone = "America/New_York"\n', encoding="utf-8")
    result = runner.invoke(app, ["jobs", "--config", str(config)])
    assert result.exit_code == 0, result.stderr
    for job in JOBS:
        assert f"│ {job.name} " in result.stdout
        assert f"│ {job.schedule.on_calendar('America/New_York')} " in result.stdout
        assert f"│ {job.timeout_s:>11} │" in result.stdout
    assert "*-*-* *:14,29,44,59:30 America/New_York" in result.stdout
    assert "plan the flexible devices" in result.stdout
