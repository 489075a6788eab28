"""The weather-profile forecast in production: issued by the power-prediction job from the
store's balance history and sunshine forecast, and read by the round per the ``forecaster``
setting, the other source filling the steps it does not cover."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sqlalchemy import Engine, insert, select

from elfe_ems.config import Settings
from elfe_ems.forecast.weather_profile import SOURCE, sunshine_yield_w_per_kwp
from elfe_ems.jobs.power_prediction import issue_profile_forecast, sunshine_shares
from elfe_ems.store.inputs import net_load
from elfe_ems.store.tables import balance_measurement, forecast, weather_forecast_history
from elfe_ems.timegrid import Grid

STEP = 900
DAY = 86_400
NOON = 1_750_068_000  # 2025-06-16 10:00 UTC, a Monday
GRID = Grid(NOON, STEP, 96)


def _forecast_rows(source: str, power_w: float, steps: int) -> list[dict[str, object]]:
    return [
        {"source": source, "issue_time": NOON - 60, "target_time": NOON + k * STEP,
         "power_w": power_w}
        for k in range(steps)
    ]  # fmt: skip


def test_round_reads_the_configured_source(migrated: Engine) -> None:
    with migrated.begin() as connection:
        connection.execute(insert(forecast), _forecast_rows("persistence", 100.0, 96))
        connection.execute(insert(forecast), _forecast_rows(SOURCE, 250.0, 96))
        assert net_load(connection, GRID).net_load_w == [-100.0] * 96
        assert net_load(connection, GRID, SOURCE).net_load_w == [-250.0] * 96


def test_missing_steps_come_from_the_other_source(
    migrated: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with migrated.begin() as connection:
        connection.execute(insert(forecast), _forecast_rows("persistence", 100.0, 96))
        connection.execute(insert(forecast), _forecast_rows(SOURCE, 250.0, 48))
        with caplog.at_level(logging.WARNING):
            net = net_load(connection, GRID, SOURCE)
    assert net.net_load_w == [-250.0] * 48 + [-100.0] * 48
    assert net.forecast_steps == 96
    assert f"[WARN_DATABASE] no '{SOURCE}' forecast for 48 of 96 steps" in caplog.text


def _history(connection: object, days: int, kwp: float, load_w: float) -> np.ndarray:
    """``days`` of balance means from a flat load and ``kwp`` of PV in full sun, and the
    sunshine forecast (one hourly fetch) from their first step to 48 h after NOON."""
    settings = Settings()
    times = np.arange(NOON - days * DAY, NOON + 2 * DAY, STEP)
    hours = np.arange(times[0], times[-1] + STEP, 3600)
    connection.execute(  # type: ignore[attr-defined]
        insert(weather_forecast_history),
        [{"fetched_at": NOON - 3600, "target_time": int(t), "period_s": 3600,
          "temperature_c": 20.0, "sunshine_h": 1.0} for t in hours],
    )  # fmt: skip
    yields = sunshine_yield_w_per_kwp(
        times + STEP // 2, np.ones(times.size), settings.latitude_deg, settings.longitude_deg
    )
    past = times < NOON
    connection.execute(  # type: ignore[attr-defined]
        insert(balance_measurement),
        [{"step_start": int(t), "power_w": float(kwp * y - load_w), "measured_at": NOON}
         for t, y in zip(times[past], yields[past], strict=True)],
    )  # fmt: skip
    return kwp * yields[~past] - load_w


def test_the_job_issues_the_profile_forecast(migrated: Engine) -> None:
    with migrated.begin() as connection:
        truth_w = _history(connection, 8, kwp=300.0, load_w=50_000.0)
        summary = issue_profile_forecast(connection, Settings(), NOON - 60, NOON)
        rows = connection.execute(
            select(forecast).where(forecast.c.source == SOURCE).order_by(forecast.c.target_time)
        ).all()
    assert summary == "weather-profile forecast issued (300.0 kWp fitted)"
    assert [r.target_time for r in rows] == list(range(NOON, NOON + 2 * DAY, STEP))
    assert {r.issue_time for r in rows} == {NOON - 60}
    assert [r.power_w for r in rows] == pytest.approx(truth_w, abs=1.0)


def test_not_issued_without_its_inputs(migrated: Engine) -> None:
    with migrated.begin() as connection:
        summary = issue_profile_forecast(connection, Settings(), NOON - 60, NOON)
        assert summary == "weather-profile forecast not issued (no sunshine forecast)"
        _history(connection, 3, kwp=300.0, load_w=50_000.0)  # 3 days: too short a history
        summary = issue_profile_forecast(connection, Settings(), NOON - 60, NOON)
        assert summary.startswith("weather-profile forecast not issued (288 steps")
        assert not connection.execute(select(forecast)).all()


def test_sunshine_share_of_the_latest_fetch_and_shortest_period(migrated: Engine) -> None:
    rows = [  # a 6-hour period of 3 h of sunshine, then an hourly fetch of 1 h over its 2nd hour
        {"fetched_at": 1, "target_time": NOON, "period_s": 6 * 3600, "sunshine_h": 3.0},
        {"fetched_at": 2, "target_time": NOON + 3600, "period_s": 3600, "sunshine_h": 1.0},
    ]
    with migrated.begin() as connection:
        connection.execute(
            insert(weather_forecast_history), [r | {"temperature_c": 10.0} for r in rows]
        )
        shares = sunshine_shares(connection, np.arange(NOON, NOON + 7 * 3600, STEP))
    assert shares[:4] == pytest.approx([0.5] * 4)
    assert shares[4:8] == pytest.approx([1.0] * 4)
    assert shares[8:24] == pytest.approx([0.5] * 16)
    assert np.isnan(shares[24:]).all()
