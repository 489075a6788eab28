"""Persistence forecast of the balance (``elfe_ems.forecast.persistence``): the issue's recursion by
hand and as an oracle, and the forecast built from raw samples with gaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elfe_ems.forecast.persistence import (
    balance_forecast,
    forecast_from_means,
    persistence_forecast,
)

DAY_S = 86_400
NOW_S = 1_700_001_000 + 420  # 7 min into a quarter hour
FIRST_S = NOW_S - 420


def recursion(c: list[float]) -> list[float]:
    """The issue's recursion, literally."""
    size = len(c)
    p = [c[-1]]
    for i in range(1, size):
        p.append((p[i - 1] + c[i] - c[i - 1]) * (size - i) / size + c[i] * i / size)
    return p + p


def test_small_day_by_hand() -> None:
    # p0 = 4; p1 = (4+1)·3/4 + 2·1/4; p2 = (4.25+1)·2/4 + 3·2/4; p3 = (4.125+1)·1/4 + 4·3/4
    forecast = persistence_forecast(np.array([1.0, 2, 3, 4]))
    assert forecast.tolist() == [4, 4.25, 4.125, 4.28125] * 2


@pytest.mark.parametrize("bad", [[1.0, np.nan], [np.inf, 1.0], [], [[1.0, 2.0]]])
def test_refuses_bad_input(bad: list[float]) -> None:
    with pytest.raises(ValueError, match=r"NaN|1-D"):
        persistence_forecast(np.array(bad))


days = st.lists(st.floats(-1e5, 1e5, allow_nan=False), min_size=1, max_size=96)


@settings(max_examples=150, deadline=None)
@given(day=days)
def test_matches_the_recursion(day: list[float]) -> None:
    assert np.allclose(persistence_forecast(np.array(day)), recursion(day), rtol=1e-9, atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(level=st.floats(-1e5, 1e5, allow_nan=False), size=st.integers(1, 96))
def test_constant_day_is_constant(level: float, size: int) -> None:
    assert (persistence_forecast(np.full(size, level)) == level).all()


@settings(max_examples=100, deadline=None)
@given(day=st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=96, max_size=96))
def test_periodic_signal_returns_to_the_day_before(day: list[float]) -> None:
    forecast = persistence_forecast(np.array(day))
    c = np.array(day)
    # the offset c[L-1] - c[0] has faded below 1e-5 of itself after half a day
    assert np.allclose(forecast[48:96], c[48:], rtol=0, atol=1e-5 * (1 + np.ptp(c)))
    assert np.allclose(forecast[96 + 48 :], c[48:], rtol=0, atol=1e-5 * (1 + np.ptp(c)))
    assert (forecast[:96] == forecast[96:]).all()
    assert forecast[0] == c[-1]


def balance(times_s: np.ndarray) -> np.ndarray:
    """A balance that is 100 W times the quarter hour of the day."""
    return 100.0 * ((times_s % DAY_S) // 900)


def test_balance_with_gaps_and_irregular_samples() -> None:
    rng = np.random.default_rng(7)
    start_s = FIRST_S - DAY_S
    # a sample at each quarter hour and ~20 more at irregular times within it
    times = np.concatenate(
        [start_s + 900 * np.arange(96), rng.uniform(start_s, FIRST_S, 96 * 20).round()]
    )
    # a 2 h gap (8 steps, 20..27) with no sample, and samples of the step in progress
    times = times[(times < start_s + 20 * 900) | (times >= start_s + 28 * 900)]
    times = np.concatenate([times, FIRST_S + np.array([10.0, 300])])
    values = balance(times)
    values[-2:] = 1e6  # the step in progress is not a complete step: not used
    rng.shuffle(order := np.arange(times.size))
    first_s, forecast = balance_forecast(times[order], values[order], NOW_S)
    assert first_s == FIRST_S
    means = balance(start_s + 900 * np.arange(96.0))
    # the last sample before the gap (step 19's value) holds 900 s through step 20, then
    # nothing until step 28: steps 21..27 are interpolated
    filled = means.copy()
    filled[20] = means[19]
    filled[21:28] = np.interp(np.arange(21, 28), [20, 28], [means[19], means[28]])
    assert forecast.shape == (192,)
    assert np.allclose(forecast, recursion(filled.tolist()))
    assert forecast[0] == means[-1]


def test_balance_with_too_few_data() -> None:
    times = FIRST_S - np.arange(1, 40 * 900, 60.0)  # the last 10 h only: 40 of 96 steps
    with pytest.raises(ValueError, match=r"only 40 of the 96 steps .*\(at least 50% needed\)"):
        balance_forecast(times, np.ones(times.size), NOW_S)
    first_s, forecast = balance_forecast(times, np.ones(times.size), NOW_S, min_coverage=0.4)
    assert first_s == FIRST_S
    # the 14 h without data is no gap to fill: the steps a day after it are not forecast
    silent = np.arange(192) % 96 < 56
    assert np.isnan(forecast[silent]).all()
    assert (forecast[~silent] == 1).all()
    with pytest.raises(ValueError, match="no finite value"):
        balance_forecast(np.array([]), np.array([]), NOW_S, min_coverage=0)


@pytest.mark.parametrize(("step_s", "coverage"), [(7, 0.5), (0, 0.5), (900, 1.5)])
def test_balance_bad_arguments(step_s: int, coverage: float) -> None:
    with pytest.raises(ValueError, match=r"step_s|min_coverage"):
        balance_forecast(np.array([NOW_S]), np.array([1.0]), NOW_S, step_s, coverage)


def test_balance_at_hourly_steps() -> None:
    times = FIRST_S - np.arange(1, DAY_S, 600.0)
    first_s, forecast = balance_forecast(times, np.full(times.size, -250.0), NOW_S, 3600)
    assert first_s == NOW_S - NOW_S % 3600
    assert forecast.shape == (48,)
    assert (forecast == -250).all()


def test_a_12_h_hole_is_not_filled() -> None:
    """Bad measurements, a 12 h hole: unlike 2 h without data (interpolated, above), 12 h is
    not filled (no data is invented for it); the steps a day after the hole are not forecast
    (NaN, which the job does not store). With the last steps in the hole, today's offset
    from yesterday is unknown: yesterday's means as they were."""
    day = 1000.0 + 10 * np.arange(96)
    means = day.copy()
    means[40:88] = np.nan  # 12 h: half the day, as much as the forecast accepts
    forecast = forecast_from_means(means)
    hole = np.zeros(192, dtype=bool)
    hole[40:88] = hole[136:184] = True
    assert np.isnan(forecast[hole]).all()
    filled = day.copy()
    filled[40:88] = np.interp(np.arange(40, 88), [39, 88], [day[39], day[88]])
    assert np.allclose(forecast[~hole], np.array(recursion(filled.tolist()))[~hole])
    means[60:] = np.nan  # the item silent for the last 9 h
    forecast = forecast_from_means(means, min_coverage=0.4)
    assert np.isnan(forecast[40:96]).all()
    assert np.allclose(forecast[:40], day[:40])  # the means held a day, no offset
    assert np.allclose(forecast[96:136], day[:40])
