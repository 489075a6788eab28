"""The water-heater-energy and room-temperature jobs on a real Zabbix: a tank whose energy
meter resets, a tank measured by its power only, one with too little data; room
temperatures with an absurd value and an item without data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from acquisition_env import JobsEnv, new_env
from coordination_rows import device
from elfe_ems.jobs import room_temperature, water_heater_energy
from elfe_ems.store import tables
from postgres import unique_name

HOUR = 3600
NOW = int(time.time()) // 900 * 900 - 900


@pytest.fixture
def env(tmp_path: Path, zabbix: Any) -> JobsEnv:
    return new_env(tmp_path, zabbix)


def _host_with(zabbix: Any, *items: tuple[str, str, int]) -> tuple[str, list[int]]:
    """A new host with trapper items (key, units, value type): its name and item ids."""
    host = unique_name("home")
    host_id = zabbix.create_host(host)
    return host, [zabbix.create_item(host_id, key, key, vt, units) for key, units, vt in items]


def _tank(device_id: int, item_id: int) -> dict[str, Any]:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "volume_ballon": 200,
        "puissance_chauffe": 2000,
        "mesures_puissance_elec_id": item_id,
    }


def test_water_heater_energy_from_a_resetting_meter_or_from_power(
    env: JobsEnv, zabbix: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # tank 1: a kWh meter read hourly from 30 h ago, +0.5 kWh/h, reset 10 h ago (read 0.3)
    host_1, (power_1, _meter) = _host_with(zabbix, ("power", "W", 0), ("energy", "kWh", 0))
    readings = [(NOW - h * HOUR, 100 + 0.5 * (30 - h)) for h in range(30, 10, -1)]
    readings += [(NOW - h * HOUR, 0.3 + 0.5 * (10 - h)) for h in range(10, -1, -1)]
    zabbix.send(host_1, "energy", readings)
    # tank 2: no meter, 2000 W from 8 h to 5 h ago, samples every 5 min (unsigned item)
    host_2, (power_2,) = _host_with(zabbix, ("power", "W", 3))
    power = [
        (t, 2000.0 if NOW - 8 * HOUR <= t < NOW - 5 * HOUR else 0.0)
        for t in range(NOW - 25 * HOUR, NOW + 1, 300)
    ]
    zabbix.send(host_2, "power", power)
    # tank 3: power for the last 6 h only: a quarter of the day
    host_3, (power_3,) = _host_with(zabbix, ("power", "W", 0))
    zabbix.send(host_3, "power", [(t, 1000.0) for t in range(NOW - 6 * HOUR, NOW + 1, 300)])
    env.insert("device", *(device(i, 131) for i in (1, 2, 3)), device(4, 131, mode=70))
    env.insert(
        "tank", _tank(1, power_1), _tank(2, power_2), _tank(3, power_3), _tank(4, 987_654_321)
    )

    summary = water_heater_energy.job(env.settings(), NOW)

    stored = {r["power_item_id"]: r for r in env.rows(tables.water_heater_energy)}
    assert set(stored) == {power_1, power_2}, summary
    # 13 h before the reset, 0.3 kWh read after it, then 10 h: 6.5 + 0.3 + 5 kWh
    assert stored[power_1]["energy_wh"] == pytest.approx(11_800)
    assert stored[power_2]["energy_wh"] == pytest.approx(6_000)
    assert {r["measured_at"] for r in stored.values()} == {NOW}
    assert summary.startswith("2 of 3 water heaters")  # the disabled tank is not measured
    assert f"power item {power_3}: covers 25 %" in caplog.text


def _thermostatic(device_id: int, item_id: int) -> dict[str, Any]:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "mesure_temperature_id": item_id,
    }


def test_room_temperatures_keep_the_last_plausible_value(
    env: JobsEnv, zabbix: Any, caplog: pytest.LogCaptureFixture
) -> None:
    host, (room, broken, silent) = _host_with(
        zabbix, ("room", "°C", 0), ("broken", "°C", 0), ("silent", "°C", 0)
    )
    zabbix.send(host, "room", [(NOW - 300, 18.5), (NOW - 120, 19.25)])
    zabbix.send(host, "broken", [(NOW - 60, 999.0)])
    env.insert("device", *(device(i, 155) for i in (1, 2, 3)))
    env.insert("thermostatic", _thermostatic(1, room), _thermostatic(2, broken))
    env.insert("thermostatic", _thermostatic(3, silent))

    settings = env.settings()
    assert room_temperature.job(settings, NOW) == "1 of 3 room temperatures stored"
    room_temperature.job(settings, NOW + 60)  # the same value again: stored once

    assert env.rows(tables.room_temperature) == [
        {"temperature_item_id": room, "measured_at": NOW - 120, "temp_c": 19.25}
    ]
    assert f"room temperature item {broken}: 999.0 °C is not plausible" in caplog.text
    assert f"room temperature item {silent}: no value in Zabbix" in caplog.text
