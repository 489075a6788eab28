"""Recorded measurements: read like Zabbix, and the jobs run on them when
``measurements_url`` is set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from acquisition_env import JobsEnv, new_env
from coordination_rows import device
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs import room_temperature, water_heater_energy
from elfe_ems.jobs.registry import JobError
from elfe_ems.sources.measurements import MeasurementError
from elfe_ems.sources.recorded import (
    RecordedMeasurements,
    create_tables,
    record_items,
    record_samples,
)
from elfe_ems.store import tables

NOW = 1_800_000_000


def _item(item_id: int, host_id: int, name: str, units: str) -> dict[str, object]:
    return {
        "item_id": item_id,
        "host_id": host_id,
        "name": name,
        "key": name,
        "units": units,
        "value_type": 0,
    }


@pytest.fixture
def recorded(tmp_path: Path) -> str:
    """Recorded measurements of one home: a tank's power and energy, a room temperature."""
    url = f"sqlite:///{tmp_path / 'measurements.sqlite'}"
    with engine_for(url) as engine:
        create_tables(engine)
        record_items(
            engine,
            [
                _item(11, 1, "tank power", "W"),
                _item(12, 1, "tank energy", "kWh"),
                _item(21, 2, "room", "°C"),
            ],
        )
        hours = np.arange(NOW - 30 * 3600, NOW + 1, 3600)
        record_samples(engine, 12, hours, 50 + 0.25 * (hours - hours[0]) / 3600)
        record_samples(engine, 21, np.array([NOW - 600, NOW - 60]), np.array([19.0, 19.5]))
    return url


def test_items_with_their_last_values(recorded: str) -> None:
    with RecordedMeasurements.open(recorded) as source:
        items = source.items([21, 12, 99])
        assert sorted(items) == [12, 21]
        assert (items[21].last_clock, items[21].last_value) == (NOW - 60, 19.5)
        assert [i.item_id for i in source.host_items(1)] == [11, 12]
        assert source.items([11])[11].last_value is None
        assert source.item_named("room").item_id == 21
        with pytest.raises(MeasurementError, match="0 recorded items"):
            source.item_named("balance")
        clocks, values = source.history(items[21], NOW - 600, NOW - 61)
        assert clocks.tolist() == [NOW - 600]
        assert values.tolist() == [19.0]


def test_a_database_without_recordings_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MeasurementError, match="no table recorded_item, recorded_sample"):
        RecordedMeasurements.open(f"sqlite:///{tmp_path / 'empty.sqlite'}")


@pytest.fixture
def env(tmp_path: Path) -> JobsEnv:
    folder = tmp_path / "ems"
    folder.mkdir()
    return new_env(folder)


def test_jobs_read_recorded_measurements(env: JobsEnv, recorded: str) -> None:
    env.insert("device", device(1, 131), device(2, 155))
    env.insert(
        "tank",
        {"id": 1, "equipement_pilote_ou_mesure_id": 1, "mesures_puissance_elec_id": 11},
    )
    env.insert(
        "thermostatic",
        {"id": 1, "equipement_pilote_ou_mesure_id": 2, "mesure_temperature_id": 21},
    )
    settings = env.settings(measurements_url=recorded)
    water_heater_energy.job(settings, NOW)
    room_temperature.job(settings, NOW)
    (energy,) = env.rows(tables.water_heater_energy)
    assert energy["energy_wh"] == pytest.approx(24 * 250)  # the meter: +0.25 kWh an hour
    assert env.rows(tables.room_temperature)[0]["temp_c"] == 19.5


def test_missing_recordings_fail_the_job(env: JobsEnv, tmp_path: Path) -> None:
    settings = env.settings(measurements_url=f"sqlite:///{tmp_path / 'none.sqlite'}")
    with pytest.raises(JobError, match=r"recorded measurements: .*no table"):
        room_temperature.job(settings, NOW)
