"""What the acquisition jobs do with untidy items of a real Zabbix: a balance item that stopped
updating (the round's inputs stale, ``ems doctor`` red), an energy meter that reported 4 h of
the last 24 h (energy unknown, not 0 Wh), items in kW (converted, not read as W), an item in a
unit of another quantity (refused, naming it), and devices whose item id is missing or not in
Zabbix (``ems doctor`` red)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from acquisition_env import JobsEnv, new_env
from coordination_rows import device
from elfe_ems.jobs import power_prediction, water_heater_energy
from elfe_ems.jobs.probes import doctor_checks
from elfe_ems.jobs.registry import JobError
from elfe_ems.round.job import run_round
from elfe_ems.store import tables
from elfe_ems.store.freshness import State
from elfe_ems.store.health import stored_checks
from postgres import unique_name

HOUR = 3600
NOW = int(time.time()) // 900 * 900 - 900


@pytest.fixture
def env(tmp_path: Path, zabbix: Any) -> JobsEnv:
    return new_env(tmp_path, zabbix)


def _host_with(zabbix: Any, *items: tuple[str, str]) -> tuple[str, list[int]]:
    """A new host with float trapper items (key, units): its name and item ids."""
    host = unique_name("home")
    host_id = zabbix.create_host(host)
    return host, [zabbix.create_item(host_id, key, key, 0, units) for key, units in items]


def _tank(device_id: int, item_id: int | None) -> dict[str, Any]:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "volume_ballon": 200,
        "puissance_chauffe": 2000,
        "mesures_puissance_elec_id": item_id,
    }


def test_a_balance_item_that_stops_updating_is_stale_everywhere(
    env: JobsEnv, zabbix: Any, caplog: pytest.LogCaptureFixture
) -> None:
    host, (balance,) = _host_with(zabbix, ("balance", "W"))
    stopped = NOW - 6 * HOUR
    zabbix.send(host, "balance", [(t, -800.0) for t in range(NOW - 25 * HOUR, stopped, 60)])
    settings = env.settings(balance_item_id=balance)

    power_prediction.job(settings, NOW + 60)  # Zabbix answers: the job succeeds
    outcome = run_round(settings, NOW + 60)

    freshness = {source.name: source for source in outcome.freshness}
    # issued a minute ago, but the 6 h of silence is not filled: the steps a day after it
    # (23 of the horizon's 96) are not forecast
    assert freshness["forecast"].state == State.STALE
    assert freshness["forecast"].coverage == pytest.approx(73 / 96)
    assert freshness["balance measurements"].state == State.STALE  # from 6 h old data
    age_s = freshness["balance measurements"].age_s
    assert age_s is not None
    assert 6 * HOUR <= age_s <= 6 * HOUR + 1800
    assert "[WARN_DATABASE] input balance measurements: stale, 6." in caplog.text
    checks = {c.name: c for c in stored_checks(settings, NOW + 120)}
    assert checks["balance measurements"].verdict == "failed"  # ems doctor exits non-zero
    assert checks["last round"].verdict == "failed"
    assert "stale balance measurements" in checks["last round"].detail


def test_a_meter_with_4_hours_of_the_day_gives_no_energy(
    env: JobsEnv, zabbix: Any, caplog: pytest.LogCaptureFixture
) -> None:
    host, (power, meter) = _host_with(zabbix, ("power", "W"), ("energy", "kWh"))
    zabbix.send(host, "energy", [(NOW - h * 900, 50.0 - 0.1 * h) for h in range(16, -1, -1)])
    env.insert("device", device(1, 131))
    env.insert("tank", _tank(1, power))

    summary = water_heater_energy.job(env.settings(), NOW)

    assert env.rows(tables.water_heater_energy) == []  # unknown: not stored as 0 Wh
    assert summary.startswith("0 of 1 water heaters")
    assert f"[WARN_DATABASE] water heater energy item {meter}: covers 17 % of the last 24 h" in (
        caplog.text
    )
    assert f"power item {power}: covers 0 % of the last 24 h: energy unknown" in caplog.text


def test_a_power_in_kw_is_converted(env: JobsEnv, zabbix: Any) -> None:
    host, (power,) = _host_with(zabbix, ("power", "kW"))
    samples = [
        (t, 2.0 if NOW - 8 * HOUR <= t < NOW - 5 * HOUR else 0.0)
        for t in range(NOW - 25 * HOUR, NOW + 1, 300)
    ]
    zabbix.send(host, "power", samples)
    env.insert("device", device(1, 131))
    env.insert("tank", _tank(1, power))

    water_heater_energy.job(env.settings(), NOW)

    (row,) = env.rows(tables.water_heater_energy)
    assert row["energy_wh"] == pytest.approx(6_000)  # 2 kW for 3 h, not 6 Wh


def test_a_balance_in_kw_is_read_in_w_and_one_in_kva_is_refused(
    env: JobsEnv, zabbix: Any, caplog: pytest.LogCaptureFixture
) -> None:
    host, (in_kw, in_kva) = _host_with(zabbix, ("balance", "kW"), ("apparent", "kVA"))
    samples = [(t, 1.5) for t in range(NOW - 25 * HOUR, NOW + 1, 60)]
    zabbix.send(host, "balance", samples)
    zabbix.send(host, "apparent", samples)

    power_prediction.job(env.settings(balance_item_id=in_kw), NOW + 60)
    measured = [r["power_w"] for r in env.rows(tables.balance_measurement)]
    assert measured
    assert measured == pytest.approx([1500.0] * len(measured))

    with pytest.raises(JobError, match=rf"item {in_kva} \(apparent\) is in 'kVA', not a power"):
        power_prediction.job(env.settings(balance_item_id=in_kva), NOW + 120)
    assert f"[WARN_DATABASE] item {in_kva} (apparent) is in 'kVA'" in caplog.text


def test_missing_item_ids_are_configuration_errors_in_doctor(env: JobsEnv, zabbix: Any) -> None:
    host, (power, temperature) = _host_with(zabbix, ("power", "W"), ("room", "kWh"))
    zabbix.send(host, "power", [(NOW, 0.0)])
    env.insert("device", *(device(i, 131) for i in (1, 2, 3)), device(4, 155))
    env.insert("tank", _tank(1, power), _tank(2, None), _tank(3, 987_654_321))
    env.insert(
        "thermostatic",
        {"id": 4, "equipement_pilote_ou_mesure_id": 4, "mesure_temperature_id": temperature},
    )
    settings = env.settings(
        balance_item_id=power,
        weather_providers=["open-meteo"],
        open_meteo_url="http://127.0.0.1:9/v1",
        http_timeout_s=1.0,
    )

    checks = {c.name: c for c in doctor_checks(settings, NOW, live=True)}

    items = checks["measured items"]
    assert items.verdict == "failed"
    assert "3 configuration errors" in items.detail
    assert "device 2: equipement_pilote_ballon_ecs.mesures_puissance_elec_id is NULL" in (
        items.detail
    )
    assert "item 987654321 not in zabbix" in items.detail
    assert f"item {temperature} (room) is in 'kWh', not a temperature unit" in items.detail
