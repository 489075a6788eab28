"""``ems doctor`` and the health checks: every verdict from real databases, recorded
measurements and the weather provider's recorded answer."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import respx
from typer.testing import CliRunner

from acquisition_env import JobsEnv, new_env
from coordination_rows import device
from elfe_ems.cli import app
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs.probes import doctor_checks
from elfe_ems.jobs.registry import JOBS, JobError
from elfe_ems.jobs.runs import record, recorded_run
from elfe_ems.round.job import run_round
from elfe_ems.sources.recorded import create_tables, record_items, record_samples
from elfe_ems.store import tables
from elfe_ems.store.health import JOB_LATE_PERIODS, ROUND_AGE_LIMITS_S, Check, healthy, job_check
from elfe_ems.store.job_runs import JobRecord, JobRun

NOW = int(time.time())  # the round log keeps the wall-clock time
OPEN_METEO_ANSWER = (
    Path(__file__).parents[1] / "sources" / "weather" / "recorded" / "open_meteo_forecast.json"
)
BALANCE_ITEM = 7


@pytest.fixture(autouse=True)
def _no_ems_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("EMS_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def weather() -> Iterator[respx.MockRouter]:
    """Open-Meteo answering its recorded forecast; nothing else is reachable."""
    answer = json.loads(OPEN_METEO_ANSWER.read_text(encoding="utf-8"))
    with respx.mock(assert_all_called=False) as router:
        router.get(url__startswith="https://api.open-meteo.com/").respond(json=answer)
        yield router


@pytest.fixture
def env(tmp_path: Path) -> JobsEnv:
    """A healthy installation at NOW: fresh inputs, a round 10 min ago, recorded balance."""
    created = new_env(tmp_path)
    created.insert("device", device(1, 131, mode=20))  # measured, not piloted
    measurements = f"sqlite:///{tmp_path / 'measurements.sqlite'}"
    with engine_for(measurements) as engine:
        create_tables(engine)
        record_items(
            engine,
            [
                {
                    "item_id": BALANCE_ITEM,
                    "host_id": 1,
                    "name": "balance",
                    "key": "balance",
                    "units": "W",
                    "value_type": 0,
                }
            ],
        )
        record_samples(engine, BALANCE_ITEM, np.array([NOW - 60]), np.array([-1500.0]))
    created.measurements_url = measurements  # type: ignore[attr-defined]
    created.write(
        tables.forecast,  # the next 25 h
        [
            {"source": "persistence", "issue_time": NOW - 300, "target_time": t, "power_w": 1.0}
            for t in range(NOW // 900 * 900, NOW + 25 * 3600, 900)
        ],
    )
    created.write(
        tables.balance_measurement,
        [{"step_start": NOW - 1200, "power_w": -1500.0, "measured_at": NOW - 300}],
    )
    created.write(
        tables.weather_forecast,  # hourly, over the next 26 h
        [
            {"target_time": t, "fetched_at": NOW - 1800, "temperature_c": 9.0}
            for t in range(NOW - 3600, NOW + 26 * 3600, 3600)
        ],
    )
    created.write(
        tables.room_temperature,
        [
            {"temperature_item_id": 1, "measured_at": NOW - 60, "temp_c": 19.0},
            {"temperature_item_id": 2, "measured_at": NOW - 120, "temp_c": 20.0},
        ],
    )
    created.write(
        tables.water_heater_energy,
        [{"power_item_id": 3, "measured_at": NOW - 3 * 3600, "energy_wh": 2500.0}],
    )
    run_round(settings(created), NOW)
    for job in JOBS:  # each job ran 30 s ago
        record(settings(created), JobRun(job.name, NOW - 30, NOW - 29, "succeeded", "done"))
    return created


def settings(env: JobsEnv, **values: Any) -> Any:
    defaults = {
        "measurements_url": env.measurements_url,  # type: ignore[attr-defined]
        "weather_providers": ["open-meteo"],
        "balance_item_id": BALANCE_ITEM,
    }
    return env.settings(**(defaults | values))


def verdicts(checks: list[Check]) -> dict[str, str]:
    return {check.name: check.verdict for check in checks}


def test_a_healthy_installation(env: JobsEnv, weather: respx.MockRouter) -> None:
    checks = doctor_checks(settings(env), NOW, live=True)
    assert set(verdicts(checks).values()) == {"ok"}, [c for c in checks if c.verdict != "ok"]
    assert healthy(checks)
    assert [c.name for c in checks] == [
        "coordination database",
        "measurements (recorded measurements)",
        "measured items",
        "weather provider",
        "store database",
        "output database",
        "balance measurements",
        "forecast",
        "weather",
        "room temperatures",
        "water-heater energies",
        "last round",
        *sorted(f"job {job.name}" for job in JOBS),
    ]
    assert weather.calls.call_count == 1


def test_the_stored_facts_alone_contact_no_source(env: JobsEnv, weather: respx.MockRouter) -> None:
    checks = doctor_checks(settings(env), NOW)
    assert [c.name for c in checks][:2] == ["store database", "output database"]
    assert "coordination database" not in verdicts(checks)
    assert set(verdicts(checks).values()) == {"ok"}
    assert weather.calls.call_count == 0


def _record(job: str, period: int, success_s: float | None, failure_s: float | None) -> JobRecord:
    def run(at_s: float | None, status: str, detail: str) -> JobRun | None:
        return None if at_s is None else JobRun(job, at_s, at_s + 1, status, detail)

    return JobRecord(
        job, period, run(success_s, "succeeded", "12 values"), run(failure_s, "failed", "away")
    )


def test_a_job_is_judged_by_its_last_success_against_its_period() -> None:
    warn, fail = JOB_LATE_PERIODS
    at = 1_800_000_000.0

    def check(success_s: float | None, failure_s: float | None = None) -> Check:
        return job_check(_record("weather", 3600, success_s, failure_s), at)

    assert check(at - warn * 3600) == Check(
        "job weather", "ok", "last success 2.0 h ago (runs every 60 min): 12 values"
    )
    assert check(at - warn * 3600 - 1).verdict == "warning"
    assert check(at - fail * 3600).verdict == "warning"
    assert check(at - fail * 3600 - 1).verdict == "failed"
    # a failure after the last success: at least a warning, with its error
    recent = check(at - 600, at - 60)
    assert recent.verdict == "warning"
    assert recent.detail.endswith("; last failure 60 s ago: away")
    assert check(at - 60, at - 600).verdict == "ok"  # an older failure is over
    assert check(None) == Check("job weather", "warning", "never run")
    assert check(None, at - 60) == Check(
        "job weather", "failed", "never succeeded; last failure 60 s ago: away"
    )
    assert check(at + 3600).verdict == "warning"  # a clock is wrong


def test_a_recorded_failure_shows_on_the_job_check(env: JobsEnv) -> None:
    with pytest.raises(JobError), recorded_run(settings(env), "cycles"):
        raise JobError("coordination database: unreachable")
    checks = {c.name: c for c in doctor_checks(settings(env), time.time())}
    assert checks["job cycles"].verdict == "warning"
    assert checks["job cycles"].detail.endswith("ago: coordination database: unreachable")
    late_s = NOW + JOB_LATE_PERIODS[1] * JOBS[0].schedule.period_s() + 60
    assert verdicts(doctor_checks(settings(env), late_s))["job round"] == "failed"


def test_jobs_never_recorded_fail(tmp_path: Path) -> None:
    empty = new_env(tmp_path)
    checks = {c.name: c for c in doctor_checks(empty.settings(), NOW)}
    assert checks["jobs"] == Check("jobs", "failed", "no job run recorded: are the jobs running?")


@pytest.mark.usefixtures("weather")
def test_an_input_older_than_its_limit_fails(env: JobsEnv) -> None:
    limit_s = settings(env).stale_forecast_s
    in_time = verdicts(doctor_checks(settings(env), NOW - 300 + limit_s))
    assert in_time["forecast"] == "ok"
    stale = verdicts(doctor_checks(settings(env), NOW - 300 + limit_s + 1))
    assert stale["forecast"] == "failed"  # stale is never shown as fine
    # a shorter limit in the configuration applies
    tight = verdicts(doctor_checks(settings(env, stale_forecast_s=60), NOW))
    assert tight["forecast"] == "failed"
    _, round_fail_s = ROUND_AGE_LIMITS_S
    no_round = verdicts(doctor_checks(settings(env), time.time() + round_fail_s + 1))
    assert no_round["last round"] == "failed"
    # the stalest room temperature decides
    limit_s = settings(env).stale_room_temperature_s
    assert verdicts(doctor_checks(settings(env), NOW - 120 + limit_s + 1))["room temperatures"] == (
        "failed"
    )


def test_a_failed_round_and_missing_sources_fail(
    env: JobsEnv, tmp_path: Path, weather: respx.MockRouter
) -> None:
    weather.routes.clear()
    weather.get(url__startswith="https://api.open-meteo.com/").respond(500)
    broken = settings(
        env,
        balance_item_id=999,
        coordination_url=f"sqlite:///{tmp_path / 'nothing.sqlite'}",
    )
    env.write(
        tables.run_log,
        [
            {
                "round_start": NOW,
                "planning_method": "elfe-ems",
                "started_at": time.time() + 1,  # after the fixture's round
                "finished_at": time.time() + 2,
                "status": "failed",
                "error": "output database: connection failed",
            }
        ],
    )
    checks = {c.name: c for c in doctor_checks(broken, NOW, live=True)}
    assert checks["coordination database"].verdict == "failed"
    assert "no such table" in checks["coordination database"].detail
    assert checks["measurements (recorded measurements)"].detail.endswith(
        "no balance item with id 999"
    )
    assert checks["weather provider"].verdict == "failed"
    assert checks["last round"].verdict == "failed"
    assert "output database: connection failed" in checks["last round"].detail
    assert not healthy(list(checks.values()))


@pytest.mark.usefixtures("weather")
def test_a_database_down_shows_no_password(env: JobsEnv) -> None:
    down = "postgresql://ems:s3cret-pw@127.0.0.1:1/ems"
    checks = doctor_checks(settings(env, store_url=down, output_url=down), NOW)
    failed = {c.name: c.detail for c in checks if c.verdict == "failed"}
    assert {"store database", "output database", "store inputs"} <= set(failed)
    assert all("s3cret-pw" not in detail for detail in failed.values())


def _config(env: JobsEnv, path: Path) -> Path:
    """A configuration file of the healthy installation ``env``."""
    values = settings(env)
    path.write_text(
        "\n".join(
            f'{key} = "{getattr(values, key)}"'
            for key in ("coordination_url", "store_url", "output_url", "measurements_url")
        )
        + '\nweather_providers = ["open-meteo"]\nbalance_item_id = 7\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.usefixtures("weather")
def test_doctor_command_exit_codes(env: JobsEnv, tmp_path: Path) -> None:
    runner = CliRunner()
    config = _config(env, tmp_path / "config.toml")
    result = runner.invoke(app, ["doctor", "--config", str(config), "--live"])
    assert result.exit_code == 0, result.output
    assert "Healthy." in result.output

    config.write_text(
        config.read_text(encoding="utf-8").replace("balance_item_id = 7", "balance_item_id = 8"),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 0, result.output  # the stored facts do not read the source
    result = runner.invoke(app, ["doctor", "--config", str(config), "--live"])
    assert result.exit_code == 1, result.output
    assert "1 check(s) failed: measurements (recorded measurements)" in result.output

    config.write_text("time_limit_s = -1\n", encoding="utf-8")
    result = runner.invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 1
    assert "time_limit_s" in result.output


GUIDE = Path(__file__).parents[2] / "docs" / "operator-guide.md"
DOCUMENT_KEYS = {"healthy", "checked_at", "checked_at_s", "live", "configuration", "checks",
                 "failed", "warnings"}  # fmt: skip


def _doctor_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["doctor", "--json", *args])
    return result.exit_code, json.loads(result.stdout)  # one document, nothing else


@pytest.mark.usefixtures("weather")
def test_doctor_json(env: JobsEnv, tmp_path: Path) -> None:
    config = _config(env, tmp_path / "config.toml")
    before_s = time.time()
    code, document = _doctor_json("--config", str(config), "--live")
    assert code == 0
    assert set(document) == DOCUMENT_KEYS
    assert document["live"] is True
    (row,) = [
        line
        for line in GUIDE.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `ems doctor --json` |")
    ]
    assert all(f"`{key}`" in row for key in (*DOCUMENT_KEYS, "name", "verdict", "detail"))
    assert document["healthy"] is True
    assert before_s <= document["checked_at_s"] <= time.time()
    assert document["checked_at"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(round(document["checked_at_s"]))
    )
    assert document["configuration"] == str(config)
    checks = {c["name"]: c for c in document["checks"]}
    assert list(checks)[:2] == ["configuration", "coordination database"]
    assert "last round" in checks
    assert all(set(c) == {"name", "verdict", "detail"} for c in document["checks"])
    assert {c["verdict"] for c in document["checks"]} == {"ok"}
    assert (document["failed"], document["warnings"]) == ([], [])

    # exit code 1 as without --json, the failed check named
    config.write_text(
        config.read_text(encoding="utf-8").replace("balance_item_id = 7", "balance_item_id = 8"),
        encoding="utf-8",
    )
    code, document = _doctor_json("--config", str(config), "--live")
    assert code == 1
    assert document["healthy"] is False
    assert document["failed"] == ["measurements (recorded measurements)"]

    config.write_text("time_limit_s = -1\n", encoding="utf-8")
    code, document = _doctor_json("--config", str(config))
    assert code == 1
    assert document["healthy"] is False
    (check,) = document["checks"]
    assert (check["name"], check["verdict"]) == ("configuration", "failed")
    assert "time_limit_s" in check["detail"]
