"""The cycles job and ``ems cycles`` on a real Zabbix: a washing machine's 3 days with two
complete cycles, noise and a cycle still running; the latest complete cycle is learned, at
the planning step, once, with its history; the settings change what is detected."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from acquisition_env import JobsEnv, new_env
from coordination_rows import device, machine
from elfe_ems.cli import app
from elfe_ems.jobs.cycles import job
from elfe_ems.store import tables
from postgres import unique_name

MINUTE = 60
HOUR = 3600
NOW = int(time.time()) // 900 * 900 - 900
CYCLE_1 = NOW - 50 * HOUR
CYCLE_2 = NOW - 10 * HOUR
RUNNING = NOW - 20 * MINUTE  # still running at NOW: not learned
# a cycle: 30 min heating at 2000 W, 45 min washing at 300 W, 15 min spinning at 600 W
PHASES_W = [(30, 2000.0), (45, 300.0), (15, 600.0)]
CYCLE_WH = 2000 * 0.5 + 300 * 0.75 + 600 * 0.25


def power_w(t: int) -> float:
    for start in (CYCLE_1, CYCLE_2, RUNNING):
        minutes = (t - start) // MINUTE
        for length, value in PHASES_W:
            if 0 <= minutes < length:
                return value
            minutes -= length
    return float(3 + (t // MINUTE) % 5)  # standby noise, 3-7 W


@pytest.fixture(scope="module")
def washer(zabbix: Any) -> int:
    """The washing machine's power item, with 3 days of one-minute samples sent."""
    host = unique_name("washer")
    item_id = zabbix.create_item(zabbix.create_host(host), "power", "power")
    zabbix.send(host, "power", [(t, power_w(t)) for t in range(NOW - 72 * HOUR, NOW, MINUTE)])
    return item_id


@pytest.fixture
def env(tmp_path: Path, zabbix: Any, washer: int) -> JobsEnv:
    created = new_env(tmp_path, zabbix)
    created.insert("device", device(1, 111, mode=20))  # learned in manual mode too
    created.insert("machine", machine(1, None, None, 1, washer))
    return created


def test_the_latest_complete_cycle_is_learned_once(env: JobsEnv, washer: int) -> None:
    settings = env.settings()
    assert job(settings, NOW).startswith("1 new cycles learned for 1 machines")
    profiles = env.rows(tables.machine_cycle_profile)
    assert len(profiles) == 1
    learned = profiles[0]
    assert learned["power_item_id"] == washer
    assert learned["cycle_start"] == CYCLE_2
    assert learned["superseded_at"] is None
    # at the planning step (15 min), default settings: 6 steps, the cycle's energy
    assert learned["profile_w"] == pytest.approx([2000, 2000, 300, 300, 300, 600], abs=1)
    assert sum(learned["profile_w"]) * 0.25 == pytest.approx(CYCLE_WH, rel=1e-3)
    # the machine got its default settings
    assert env.rows(tables.machine_cycle_settings)[0]["threshold_start_w"] == 40
    # nothing newer: nothing learned
    assert job(settings, NOW + 60).startswith("0 new cycles")
    assert len(env.rows(tables.machine_cycle_profile)) == 1


def test_a_newer_cycle_supersedes_the_current_one(env: JobsEnv, washer: int) -> None:
    settings = env.settings()
    env.write(tables.machine_cycle_settings, [{"power_item_id": washer}])
    env.write(
        tables.machine_cycle_profile,
        [
            {
                "power_item_id": washer,
                "learned_at": CYCLE_1,
                "cycle_start": CYCLE_1 - 86_400,
                "profile_w": [1000.0],
            }
        ],
    )
    job(settings, NOW)
    history = env.rows(tables.machine_cycle_profile)
    assert [(p["cycle_start"], p["superseded_at"]) for p in history] == [
        (CYCLE_1 - 86_400, NOW),
        (CYCLE_2, None),
    ]


def test_cycles_show_and_set(env: JobsEnv, washer: int, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = env.settings()
    for key, value in {
        "zabbix_url": settings.zabbix_url,
        "zabbix_user": settings.zabbix_user,
        "zabbix_password": settings.zabbix_password.get_secret_value(),
        "store_url": settings.store_url,
        "coordination_url": settings.coordination_url,
        "output_url": settings.output_url,
    }.items():
        monkeypatch.setenv(f"EMS_{key.upper()}", str(value))
    runner = CliRunner()

    shown = runner.invoke(app, ["cycles", "show", str(washer), "--no-plot"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("90 min") == 2  # both complete cycles, not the running one

    # a start threshold above the cycle's peak: nothing detected
    high = runner.invoke(app, ["cycles", "show", str(washer), "--threshold-start", "2500"])
    assert high.exit_code == 0, high.output
    assert "No complete cycle" in high.output

    stored = runner.invoke(app, ["cycles", "set", str(washer), "--period", "300"])
    assert stored.exit_code == 0, stored.output
    assert env.rows(tables.machine_cycle_settings)[0]["period_s"] == 300
    job(env.settings(), NOW)
    # detected at 5 min, stored at 15 min: the same energy
    (learned,) = env.rows(tables.machine_cycle_profile)
    assert sum(learned["profile_w"]) * 0.25 == pytest.approx(CYCLE_WH, rel=1e-3)

    plotted = runner.invoke(app, ["cycles", "show", str(washer)])
    assert plotted.exit_code == 0, plotted.output
    assert "hours before" in plotted.output  # the plot's axis label


def test_an_unknown_item_is_a_clear_error(env: JobsEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = env.settings()
    monkeypatch.setenv("EMS_ZABBIX_URL", str(settings.zabbix_url))
    monkeypatch.setenv("EMS_ZABBIX_USER", str(settings.zabbix_user))
    monkeypatch.setenv("EMS_ZABBIX_PASSWORD", settings.zabbix_password.get_secret_value())
    monkeypatch.setenv("EMS_STORE_URL", settings.store_url)
    shown = CliRunner().invoke(app, ["cycles", "show", "987654321"])
    assert shown.exit_code == 1
    assert "no item with id 987654321" in shown.output
