"""Bad measurements (docs/reliability.md, its "Bad measurement" and "Clock jump" cells): NaN and
infinite samples, a 12 h hole, a counter that goes backwards and values timestamped in the
future, read by the real jobs from recorded measurements in a real PostgreSQL (which stores
NaN and infinities in a double column, as Zabbix hands them over from a calculated item),
through the same parsing and unit conversion as Zabbix's."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from acquisition_env import JobsEnv, new_env
from coordination_rows import device
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs import power_prediction, room_temperature, water_heater_energy
from elfe_ems.notices.catalogue import Notice
from elfe_ems.sources.recorded import create_tables, record_items, record_samples
from elfe_ems.store import tables
from postgres import create_database, drop_database, url_of

NOW = 1_800_000_420  # 7 min into a quarter hour
FIRST_S = NOW - 420  # the step in progress, the forecast's first
H = 3600
STEP = 900
NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def recordings() -> Iterator[str]:
    """A PostgreSQL database of recorded measurements; each test records its own items."""
    name = create_database("ems_bad_measurements")
    url = url_of(name)
    with engine_for(url) as engine:
        create_tables(engine)
    yield url
    drop_database(name)


@pytest.fixture
def env(tmp_path: Path) -> JobsEnv:
    return new_env(tmp_path)


def _record(
    url: str, item_id: int, host_id: int, units: str, times: np.ndarray, values: np.ndarray
) -> None:
    with engine_for(url) as engine:
        record_items(
            engine,
            [
                {
                    "item_id": item_id,
                    "host_id": host_id,
                    "name": f"item {item_id}",
                    "key": f"key{item_id}",
                    "units": units,
                    "value_type": 0,
                }
            ],
        )
        record_samples(engine, item_id, times, values)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_nan_and_infinite_balance_samples_are_left_out_and_counted(
    env: JobsEnv, recordings: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A minute-sampled balance of 2.5 kW (in kW, converted) with 5 NaN or infinite samples:
    they are left out in one counted line naming the item; every stored mean and forecast
    is finite and is what the good samples say."""
    times = np.arange(NOW - 25 * H, NOW + 1, 60)
    power_kw = np.full(times.size, 2.5)
    bad = [100, 101, 700, 1400, 1490]
    power_kw[bad] = [NAN, INF, -INF, NAN, INF]
    _record(recordings, 101, 1, "kW", times, power_kw)
    settings = env.settings(measurements_url=recordings, balance_item_id=101)
    with caplog.at_level(logging.WARNING):
        summary = power_prediction.job(settings, NOW)
    notice = Notice.SAMPLES_NOT_FINITE
    line = f"[WARN_IGNORED] power item 101: 5 of {times.size} samples are NaN or infinite: left out"
    assert _warnings(caplog) == [f"{line}; {notice.advice}"]
    assert notice.see.endswith("#samples-nan-or-infinite")
    measured = env.rows(tables.balance_measurement)
    assert len(measured) == 96
    assert [r["power_w"] for r in measured] == [2500.0] * 96
    issued = env.rows(tables.forecast)
    assert len(issued) == 192
    assert [r["power_w"] for r in issued] == [2500.0] * 192
    assert "192 steps from" in summary


def test_a_12_h_hole_is_not_filled_and_its_steps_are_not_forecast(
    env: JobsEnv, recordings: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The balance item silent for 12 h (from 20 h to 8 h before): no mean is stored for the
    hole and nothing is interpolated across it; the steps a day after it are not forecast,
    said by a [WARN_DATABASE] notice and the job's summary. Half the day has data: the job
    succeeds with the rest."""
    times = np.arange(NOW - 25 * H, NOW + 1, 60)
    times = times[(times < NOW - 20 * H) | (times >= NOW - 8 * H)]
    power_w = 1000.0 + (times % 86_400) / 100  # a balance that changes through the day
    _record(recordings, 102, 2, "W", times, power_w)
    settings = env.settings(measurements_url=recordings, balance_item_id=102)
    with caplog.at_level(logging.WARNING):
        summary = power_prediction.job(settings, NOW)
    measured = {r["step_start"]: r["power_w"] for r in env.rows(tables.balance_measurement)}
    # the last sample before the hole (at :07) holds 15 min, into the step after its own;
    # the first after it is inside its step: the 46 steps between have no data
    silent = range(FIRST_S - 20 * H + 2 * STEP, FIRST_S - 8 * H, STEP)
    assert len(silent) == 46
    assert not set(silent) & set(measured)
    assert all(np.isfinite(list(measured.values())))
    assert len(measured) == 96 - len(silent)
    issued = {r["target_time"]: r["power_w"] for r in env.rows(tables.forecast)}
    not_forecast = {t + d for t in silent for d in (86_400, 2 * 86_400)}
    assert not not_forecast & set(issued)
    assert len(issued) == 192 - len(not_forecast)
    assert all(np.isfinite(list(issued.values())))
    notice = Notice.LONG_GAP
    line = (
        f"[WARN_DATABASE] balance item 102: {len(silent)} of its last 96 steps are in gaps of "
        f"more than 8 steps: {len(not_forecast)} of 192 steps not forecast"
    )
    assert _warnings(caplog) == [f"{line}; {notice.advice}"]
    assert f"({len(not_forecast)} not forecast: a gap in the history)" in summary


def _tank(env: JobsEnv, tank_id: int, power_item: int) -> None:
    env.insert("device", device(tank_id, 131))
    env.insert(
        "tank",
        {"id": tank_id, "equipement_pilote_ou_mesure_id": tank_id}
        | {"mesures_puissance_elec_id": power_item},
    )


def test_a_meter_with_nan_a_glitch_and_a_reset(
    env: JobsEnv, recordings: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A tank's meter [kWh] read every 15 min, counting 100 Wh each (400 W), over 30 h: a
    NaN and an infinite reading (left out, counted), a reading 50 Wh below the one before
    (a glitch: no tank counts 1.2 MWh in 15 min, so it counts 0, never 1.2 MWh nor a negative
    energy: the rise after it counts 250 Wh) and a reset to 30 Wh (counted from 0). The 24 h
    energy is 96 x 100 Wh, + 50 Wh by the glitch, - 70 Wh by the reset."""
    times = np.arange(NOW - 30 * H, NOW + 1, STEP)
    readings_wh = 1_200_000.0 + 100 * np.arange(times.size)
    glitch, reset = times.size - 60, times.size - 30
    readings_wh[glitch] -= 150
    readings_wh[reset:] = 30 + 100 * np.arange(times.size - reset)
    readings_kwh = readings_wh / 1000
    readings_kwh[[times.size - 80, times.size - 10]] = [NAN, INF]
    _record(recordings, 201, 20, "W", times, np.full(times.size, 400.0))
    _record(recordings, 202, 20, "kWh", times, readings_kwh)
    _tank(env, 1, 201)
    settings = env.settings(measurements_url=recordings)
    with caplog.at_level(logging.WARNING):
        water_heater_energy.job(settings, NOW)
    (stored,) = env.rows(tables.water_heater_energy)
    assert stored["energy_wh"] == pytest.approx(96 * 100 + 50 - 70)
    warnings = _warnings(caplog)
    assert (
        f"[WARN_IGNORED] energy item 202: 2 of {times.size} samples are NaN or infinite"
        in (warnings[0])
    )
    assert warnings[1].startswith("[WARN_IGNORED] 1 of ")
    assert "meter intervals count more than 36000 W could" in warnings[1]


def test_room_temperatures_nan_or_in_the_future_are_left_out(
    env: JobsEnv, recordings: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A room whose last value is NaN, one timestamped an hour ahead (a clock that jumped),
    one 1 min ahead (clocks a little apart: kept), one infinite: two are stored, never the
    NaN, the infinity or the future value, each left out with its notice."""
    rooms = {
        301: (NOW - 60, NAN),
        302: (NOW + H, 21.0),
        303: (NOW + 60, 19.5),
        304: (NOW - 120, INF),
        305: (NOW - 30, 20.0),
    }
    for item, (clock, temp_c) in rooms.items():
        _record(recordings, item, 30, "°C", np.array([NOW - 600, clock]), np.array([18.0, temp_c]))
    env.insert("device", *(device(item, 155) for item in rooms))
    env.insert(
        "thermostatic",
        *(
            {"id": item, "equipement_pilote_ou_mesure_id": item, "mesure_temperature_id": item}
            for item in rooms
        ),
    )
    settings = env.settings(measurements_url=recordings)
    with caplog.at_level(logging.WARNING):
        summary = room_temperature.job(settings, NOW)
    stored = {
        r["temperature_item_id"]: (r["measured_at"], r["temp_c"])
        for r in env.rows(tables.room_temperature)
    }
    assert stored == {303: (NOW + 60, 19.5), 305: (NOW - 30, 20.0)}
    assert summary == "2 of 5 room temperatures stored"
    item = "[WARN_IGNORED] room temperature item"
    implausible, future = Notice.IMPLAUSIBLE_VALUE.advice, Notice.VALUE_IN_THE_FUTURE.advice
    assert _warnings(caplog) == [
        f"{item} 301: nan °C is not plausible; {implausible}",
        f"{item} 302: last value timestamped 3600 s after the job's time: not read; {future}",
        f"{item} 304: inf °C is not plausible; {implausible}",
    ]


def test_a_balance_clock_that_jumped_ahead_is_said_and_not_read(
    env: JobsEnv, recordings: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The balance item's last hour of samples stamped up to 2 h ahead (its proxy's clock
    jumped): the job says so and reads up to its own time only, so no step after it is
    measured and the forecast starts from the last step before it."""
    times = np.arange(NOW - 25 * H, NOW + 2 * H + 1, 60)
    _record(recordings, 103, 3, "W", times, np.where(times <= NOW, 800.0, 5000.0))
    settings = env.settings(measurements_url=recordings, balance_item_id=103)
    with caplog.at_level(logging.WARNING):
        power_prediction.job(settings, NOW)
    line = "[WARN_IGNORED] balance item 103: last value timestamped 7200 s after the job's time"
    assert _warnings(caplog) == [f"{line}: not read; {Notice.VALUE_IN_THE_FUTURE.advice}"]
    measured = env.rows(tables.balance_measurement)
    assert max(r["step_start"] for r in measured) == FIRST_S - STEP
    assert {r["power_w"] for r in measured} == {800.0}
    assert {r["power_w"] for r in env.rows(tables.forecast)} == {800.0}
