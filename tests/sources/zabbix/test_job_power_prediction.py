"""The power-prediction job on a real Zabbix: a balance item with gaps and irregular samples,
forecast by persistence, stored with its issue time, read by the next round; and Zabbix
away: the job fails, the store keeps its forecast, the next round still plans."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from acquisition_env import JobsEnv, new_env
from elfe_ems.cli import app
from elfe_ems.jobs.power_prediction import SOURCE, job
from elfe_ems.jobs.registry import JobError
from elfe_ems.round.job import run_round
from elfe_ems.store import tables
from postgres import unique_name

STEP = 900
DAY = 86_400
NOW = int(time.time()) // STEP * STEP - STEP  # a quarter hour, with every sample in the past
RECENT_W = 1234.0  # the balance over the last two hours


def balance_w(t: int) -> float:
    """A day-shaped balance [W], constant over the two hours before NOW."""
    if t >= NOW - 2 * 3600:
        return RECENT_W
    return 1000.0 * math.sin(2 * math.pi * t / DAY) - 300.0


def samples() -> list[tuple[int, float]]:
    """25 h of samples about every minute, irregular, with a 2-hour gap 12 h ago."""
    found = []
    t = NOW - DAY - 3600
    while t < NOW:
        if not NOW - 12 * 3600 <= t < NOW - 10 * 3600:
            found.append((t, balance_w(t)))
        t += 45 + (t * 7919) % 31  # 45-75 s
    return found


@pytest.fixture(scope="module")
def balance(zabbix: Any) -> tuple[int, str]:
    """The balance item with its samples sent: (item id, item name)."""
    host = unique_name("territory")
    name = unique_name("Equilibre General P=C")
    item_id = zabbix.create_item(zabbix.create_host(host), name, "balance")
    zabbix.send(host, "balance", samples())
    return item_id, name


@pytest.fixture
def env(tmp_path: Path, zabbix: Any) -> JobsEnv:
    return new_env(tmp_path, zabbix)


def forecasts(env: JobsEnv) -> list[dict[str, Any]]:
    return env.rows(tables.forecast)


def test_the_forecast_is_stored_with_its_issue_time(env: JobsEnv, balance: tuple[int, str]) -> None:
    item_id, _ = balance
    summary = job(env.settings(balance_item_id=item_id), NOW + 60)
    rows = forecasts(env)
    assert len(rows) == 2 * 96, summary
    assert {r["source"] for r in rows} == {SOURCE}
    assert {r["issue_time"] for r in rows} == {NOW + 60}
    targets = [r["target_time"] for r in rows]
    assert targets == list(range(NOW, NOW + 2 * DAY, STEP))  # from the step in progress
    # the first point is the last observed value; the second day repeats the first
    assert rows[0]["power_w"] == pytest.approx(RECENT_W)
    assert [r["power_w"] for r in rows[96:]] == pytest.approx([r["power_w"] for r in rows[:96]])
    # the measured 15-min means are kept, but for the steps of the 2-hour gap
    measured = env.rows(tables.balance_measurement)
    assert measured[-1]["step_start"] == NOW - STEP
    assert measured[-1]["power_w"] == pytest.approx(RECENT_W)
    assert len(measured) == 96 - 7  # the gap covers 8 steps; the first holds its last sample
    # far ahead, persistence tends to the value of a day before
    assert rows[95]["power_w"] == pytest.approx(balance_w(NOW - STEP + STEP // 2), abs=60)


def test_the_item_is_found_by_name_and_each_issue_is_kept(
    env: JobsEnv, balance: tuple[int, str]
) -> None:
    _, name = balance
    settings = env.settings(balance_item_name=name)
    job(settings, NOW + 60)
    job(settings, NOW + 120)
    assert sorted({r["issue_time"] for r in forecasts(env)}) == [NOW + 60, NOW + 120]


def test_the_next_round_plans_on_the_forecast(env: JobsEnv, balance: tuple[int, str]) -> None:
    item_id, _ = balance
    settings = env.settings(balance_item_id=item_id)
    job(settings, NOW + 60)
    outcome = run_round(settings, NOW + STEP - 30)
    assert outcome.input_ages_s["forecast"] == STEP - 60
    assert outcome.input_ages_s["forecast_steps_extended"] == 0
    stored = {r["target_time"]: r["power_w"] for r in forecasts(env)}
    curve = env.rows(tables.p_c_without_flexible_consumption)
    assert curve[0]["data_timestamp"] == NOW + STEP
    assert curve[0]["power"] == round(stored[NOW + STEP])


def test_zabbix_away_fails_the_job_and_keeps_the_store(
    env: JobsEnv, zabbix: Any, balance: tuple[int, str], caplog: pytest.LogCaptureFixture
) -> None:
    item_id, _ = balance
    settings = env.settings(balance_item_id=item_id, zabbix_retries=1)
    job(settings, NOW + 60)
    before = forecasts(env)
    with zabbix.frontend_down(), pytest.raises(JobError, match="zabbix"):
        job(settings, NOW + STEP + 60)
    assert "[WARN_DATABASE]" in caplog.text
    assert forecasts(env) == before
    caplog.set_level(logging.WARNING)
    outcome = run_round(settings, NOW + 2 * STEP - 30)  # the round plans on the older forecast
    assert outcome.input_ages_s["forecast_steps_extended"] == 0
    assert outcome.input_ages_s["forecast"] == 2 * STEP - 60


def test_an_unknown_balance_item_is_a_clear_failure(env: JobsEnv) -> None:
    with pytest.raises(JobError, match="no balance item with id 999999999"):
        job(env.settings(balance_item_id=999_999_999), NOW)


def test_ems_job_exits_non_zero_while_zabbix_is_away(
    env: JobsEnv, zabbix: Any, balance: tuple[int, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id, _ = balance
    settings = env.settings(balance_item_id=item_id, zabbix_retries=0)
    for key in ("coordination_url", "store_url", "output_url", "zabbix_url", "zabbix_user"):
        monkeypatch.setenv(f"EMS_{key.upper()}", str(getattr(settings, key)))
    monkeypatch.setenv("EMS_ZABBIX_PASSWORD", settings.zabbix_password.get_secret_value())
    monkeypatch.setenv("EMS_BALANCE_ITEM_ID", str(item_id))
    monkeypatch.setenv("EMS_ZABBIX_RETRIES", "0")
    runner = CliRunner()
    with zabbix.frontend_down():
        away = runner.invoke(app, ["job", "power-prediction"])
    assert away.exit_code == 1, away.output
    assert "zabbix" in away.output
    assert forecasts(env) == []
    back = runner.invoke(app, ["job", "power-prediction"])
    assert back.exit_code == 0, back.output
    assert len(forecasts(env)) == 2 * 96
