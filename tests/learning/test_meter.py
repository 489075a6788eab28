"""Energy from a cumulative meter and from sampled power (``elfe_ems.learning.meter``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from elfe_ems.learning.meter import energy_from_meter_wh, energy_from_power_wh

T0 = 1_700_001_000
NAN = float("nan")


def meter(times: list[float] | np.ndarray, readings: list[float], **rules: float) -> float:
    return energy_from_meter_wh(
        np.array(times, dtype=float), np.array(readings, dtype=float), **rules
    )


def test_meter_by_hand() -> None:
    assert meter([0, 60, 120], [100, 150, 200]) == 100
    # reset to 0 between 120 and 180: counted from 0, so 200 + 50 + 30
    assert meter([0, 60, 120, 180, 240], [1000, 1100, 1200, 50, 80]) == 280
    # unsorted, with a NaN and a duplicate clock (1100 and 1300 at 60 s: 1200)
    assert meter([120, 0, 60, 90, 60], [1400, 1000, 1100, NAN, 1300]) == 400


def test_a_counter_that_goes_back_is_a_reset_only_when_it_can_be(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reset restarts from 0: the new reading is the interval's energy when a tank (at most
    36 kW) could have counted it. A counter of 12 345 kWh that goes back 0.1 kWh in 15 min
    is a glitch: counting the reading would make 12 MWh of it; it counts 0, and so does a
    jump up no tank could draw (a meter replaced by one with another count)."""
    quarter = 900.0
    times = [0, quarter, 2 * quarter, 3 * quarter]
    assert meter(times, [12_345_000, 12_346_000, 12_345_900, 12_346_400]) == 1000 + 500
    assert "[WARN_IGNORED] 1 of 3 meter intervals count more than 36000 W could" in caplog.text
    caplog.clear()
    assert meter(times, [12_345_000, 12_346_000, 400, 900]) == 1000 + 400 + 500  # a reset
    assert "meter intervals" not in caplog.text
    assert meter(times, [1000, 2000, 90_000, 90_500]) == 1000 + 500  # 88 kWh in 15 min
    assert meter(times, [1000, 2000, 1900, 2100], max_rate_w=1e12) == 1000 + 1900 + 200


def test_meter_too_few_readings() -> None:
    assert meter([], []) == 0.0
    assert meter([0], [5]) == 0.0
    assert meter([0, 60], [5, NAN]) == 0.0


def test_meter_negative_reading_left_out(caplog: pytest.LogCaptureFixture) -> None:
    assert meter([0, 60, 120], [100, -5, 130]) == 30
    assert "[WARN_IGNORED] 1 negative meter readings left out" in caplog.text


readings = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=50)
SLOW = 200_000.0  # readings this far apart [s]: 1e6 Wh in the time is below 36 kW


@settings(max_examples=100, deadline=None)
@given(values=readings)
def test_meter_without_reset_is_last_minus_first(values: list[float]) -> None:
    ordered = sorted(values)
    energy = meter(SLOW * np.arange(len(ordered)), ordered)
    assert energy == pytest.approx(ordered[-1] - ordered[0], rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(values=readings)
def test_meter_with_resets_counts_every_rise_and_every_restart(values: list[float]) -> None:
    energy = meter(SLOW * np.arange(len(values)), values)
    want = sum(b - a if b >= a else b for a, b in itertools.pairwise(values))
    assert energy == pytest.approx(want, rel=1e-9, abs=1e-6)
    assert energy >= 0


def test_power_by_hand() -> None:
    times = T0 + np.arange(-30, 3600, 60.0)
    energy_wh, share = energy_from_power_wh(times, np.full(times.size, 1000.0), T0, T0 + 3600)
    assert (energy_wh, share) == pytest.approx((1000, 1))
    # samples stop at 30 min (the last at 29.5 min holds 15 more): 44.5 min covered of 60
    early = times < T0 + 1800
    energy_wh, share = energy_from_power_wh(
        times[early], np.full(early.sum(), 1000.0), T0, T0 + 3600
    )
    assert (energy_wh, share) == pytest.approx((1000 * 44.5 / 60, 44.5 / 60))
    # with a hold of 60 s, a gap of 120 s loses 60 s
    times = T0 + np.array([0.0, 60, 180, 240])
    energy_wh, share = energy_from_power_wh(
        times, np.array([3600.0, 0, 7200, 3600]), T0, T0 + 300, 60
    )
    assert (energy_wh, share) == pytest.approx(((3600 * 60 + 7200 * 60 + 3600 * 60) / 3600, 0.8))


def test_power_empty_window() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        energy_from_power_wh(np.array([T0]), np.array([1.0]), T0, T0)
    assert energy_from_power_wh(np.array([]), np.array([]), T0, T0 + 60) == (0.0, 0.0)


@settings(max_examples=100, deadline=None)
@given(
    gaps=st.lists(st.floats(1, 900), min_size=1, max_size=40),
    lead=st.floats(0, 900),
    power=st.floats(-1e4, 1e4, allow_nan=False),
)
def test_constant_power_over_a_covered_window(gaps: list[float], lead: float, power: float) -> None:
    times = T0 - lead + np.cumsum([0.0, *gaps])
    end = float(times[-1])
    assume(end > T0)
    energy_wh, share = energy_from_power_wh(times, np.full(times.size, power), T0, end)
    assert share == pytest.approx(1)
    assert energy_wh == pytest.approx(power * (end - T0) / 3600, rel=1e-9, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    samples=st.lists(
        st.tuples(st.integers(-1000, 4000), st.floats(0, 5000, allow_nan=False)), max_size=30
    ),
    cut=st.integers(1, 2999),
)
def test_power_energy_adds_up_over_a_split_window(
    samples: list[tuple[int, float]], cut: int
) -> None:
    times = np.array([T0 + t for t, _ in samples], dtype=float)
    power = np.array([p for _, p in samples])
    whole = energy_from_power_wh(times, power, T0, T0 + 3000)
    first = energy_from_power_wh(times, power, T0, T0 + cut)
    second = energy_from_power_wh(times, power, T0 + cut, T0 + 3000)
    assert whole[0] == pytest.approx(first[0] + second[0], rel=1e-9, abs=1e-6)
    assert whole[1] * 3000 == pytest.approx(first[1] * cut + second[1] * (3000 - cut), abs=1e-6)
    assert 0 <= whole[1] <= 1
