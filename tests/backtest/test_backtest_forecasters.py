"""The weather-profile forecaster: its fit, its forecast, and its score against persistence."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from elfe_ems.backtest.forecast import Forecasts
from elfe_ems.forecast.weather_profile import (
    ERROR_FADING_S,
    MIN_HISTORY_DAYS,
    clear_sky_yield_w_per_kwp,
    day_slots,
    fit_profile,
    profile_forecast,
)
from elfe_ems.sim.world import World
from elfe_ems.timegrid import STEPS

PARIS = ZoneInfo("Europe/Paris")
MONDAY = int(datetime(2025, 3, 24, tzinfo=PARIS).timestamp())  # local midnight


def test_day_types_and_local_quarter_hours() -> None:
    # Monday 00:00, Saturday 00:15, Sunday 30 March 2025 02:00 CET + 2 h = 03:00 CEST (the
    # clocks went forward at 02:00), next Monday 00:00 CEST
    times = np.array([MONDAY, MONDAY + 5 * 86_400 + 900, MONDAY + 6 * 86_400 + 7200])
    day_type, slot = day_slots(np.append(times, MONDAY + 7 * 86_400 - 3600), PARIS)
    assert day_type.tolist() == [0, 1, 2, 0]
    assert slot.tolist() == [0, 1, 12, 0]


def _history(days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    times = MONDAY + 900 * np.arange(days * 96)
    yields = clear_sky_yield_w_per_kwp(times + 450, 47.65, -2.08)
    day_type, slot = day_slots(times, PARIS)
    load = 1000 + 10 * slot + 500 * day_type  # a load of its own for each day type
    return times, yields, load, 20 * yields - load


def test_fit_recovers_pv_and_load() -> None:
    times, yields, load, balance = _history(14)
    balance[5] = np.nan  # a missing step is left out
    model = fit_profile(times, balance, yields, PARIS)
    assert model.kwp == pytest.approx(20)
    assert model.load_w[2, 10] == pytest.approx(1000 + 100 + 1000)
    assert model.balance_w(times[:96], yields[:96]) == pytest.approx(20 * yields[:96] - load[:96])


def test_fit_needs_enough_history() -> None:
    times, yields, _, balance = _history(MIN_HISTORY_DAYS - 1)
    with pytest.raises(ValueError, match=f"at least {MIN_HISTORY_DAYS * 96}"):
        fit_profile(times, balance, yields, PARIS)


def test_latest_error_fades() -> None:
    times, yields, _, balance = _history(14)
    model = fit_profile(times, balance, yields, PARIS)
    future = times[-1] + 900 * np.arange(1, 13)
    base = model.balance_w(future, yields[:12])
    forecast = profile_forecast(model, future, yields[:12], 300.0, int(times[-1]))
    leads = future - times[-1]
    assert forecast - base == pytest.approx(300 * np.exp(-leads / ERROR_FADING_S))
    assert forecast[11] - base[11] == pytest.approx(300 / math.e)  # 3 h later


@pytest.mark.parametrize("world_name", ["summer_world", "winter_world"])
def test_better_than_persistence(world_name: str, request: pytest.FixtureRequest) -> None:
    """Scored on the backtest's simulated days: a lower MAE over every lead."""
    world: World = request.getfixturevalue(world_name)
    forecasts = Forecasts(world)
    persistence = forecasts.absolute_errors_w("persistence")
    profile = forecasts.absolute_errors_w("profile")
    assert persistence.shape == profile.shape == (STEPS, STEPS)
    assert profile.mean() < persistence.mean()
    assert not forecasts.absolute_errors_w("perfect").any()
    with pytest.raises(ValueError, match="unknown forecaster 'oracle'"):
        forecasts.balance("oracle", world.start_s)
