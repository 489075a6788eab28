"""Machine cycles learned from measured power (``elfe_ems.learning.cycles``): a washing machine's
three days by hand, the end rule's edge cases, and recovery of random cycles as a property."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elfe_ems.learning.cycles import Cycle, CycleSettings, detect_cycles, to_step_profile

W0 = 1_700_001_000  # the window opens here
MIN = 60
HOUR = 3600
DAY = 86_400
DEFAULT = CycleSettings()


class Signal:
    """Power sampled every minute from ``W0``: standby noise (0..20 W, below the thresholds)
    with blocks of constant power written over it."""

    def __init__(self, duration_s: int, seed: int = 0) -> None:
        self.times = W0 + np.arange(0, duration_s, MIN)
        self.power = np.random.default_rng(seed).uniform(0, 20, self.times.size)

    def block(self, start_s: int, minutes: int, power_w: float) -> int:
        """``power_w`` for ``minutes`` from ``W0 + start_s``; returns the offset after it."""
        first = start_s // MIN
        self.power[first : first + minutes] = power_w
        return start_s + minutes * MIN

    def noise_mean(self, start_s: int, minutes: int) -> float:
        first = start_s // MIN
        return float(self.power[first : first + minutes].mean())


def test_washing_machine_three_days() -> None:
    signal = Signal(3 * DAY)
    signal.block(0, 30, 500)  # already running when the window opens: not learned
    a_s = 10 * HOUR
    end = signal.block(a_s, 20, 2000)
    end = signal.block(end, 40, 300)
    signal.block(end, 15, 500)
    signal.block(DAY + 3 * HOUR, 1, 200)  # a blip: its period's mean stays below 40 W
    b_s = DAY + 18 * HOUR + 7 * MIN
    end = signal.block(b_s, 30, 1800)
    end = signal.block(end, 30, 150)
    signal.block(end, 5, 700)  # the cycle ends 5 min into its 5th period
    tail = signal.noise_mean(end + 5 * MIN, 10)
    signal.block(2 * DAY + 23 * HOUR + 30 * MIN, 30, 1000)  # still running at the end

    cycles = detect_cycles(signal.times, signal.power, DEFAULT)

    assert cycles == [
        Cycle(W0 + a_s, W0 + a_s + 5 * 900, (2000, (5 * 2000 + 10 * 300) / 15, 300, 300, 500)),
        Cycle(W0 + b_s, W0 + b_s + 5 * 900, (1800, 1800, 150, 150, cycles[1].profile_w[4])),
    ]
    assert cycles[1].profile_w[4] == pytest.approx((5 * 700 + 10 * tail) / 15)
    assert cycles[0].profile_w[1] == pytest.approx(866.6666666666666)


def test_unsorted_and_duplicated_samples_give_the_same_cycles() -> None:
    signal = Signal(6 * HOUR, seed=3)
    signal.block(HOUR, 50, 1200)
    order = np.random.default_rng(3).permutation(signal.times.size)
    times = np.concatenate([signal.times[order], signal.times[:5]])
    power = np.concatenate([signal.power[order], signal.power[:5]])
    assert detect_cycles(times, power, DEFAULT) == detect_cycles(
        signal.times, signal.power, DEFAULT
    )
    assert len(detect_cycles(times, power, DEFAULT)) == 1


def pause_signal() -> Signal:
    """15 min at 1000 W, a 15 min pause at 0 W, 15 min at 1000 W, standby."""
    signal = Signal(4 * HOUR)
    signal.power[:] = 0
    end = signal.block(HOUR, 15, 1000)
    signal.block(end + 15 * MIN, 15, 1000)
    return signal


@pytest.mark.parametrize("quiet", [0, 1])
def test_one_quiet_period_ends_a_cycle(quiet: int) -> None:
    signal = pause_signal()
    cycles = detect_cycles(signal.times, signal.power, CycleSettings(quiet_periods=quiet))
    assert cycles == [
        Cycle(W0 + HOUR, W0 + HOUR + 900, (1000,)),
        Cycle(W0 + HOUR + 1800, W0 + HOUR + 2700, (1000,)),
    ]


def test_two_quiet_periods_keep_an_inner_pause() -> None:
    signal = pause_signal()
    cycles = detect_cycles(signal.times, signal.power, CycleSettings(quiet_periods=2))
    assert cycles == [Cycle(W0 + HOUR, W0 + HOUR + 2700, (1000, 0, 1000))]


def test_thresholds_and_period() -> None:
    signal = Signal(3 * HOUR)
    signal.power[:] = 0
    end = signal.block(HOUR, 10, 100)  # above a start of 50, and an end of 80
    signal.block(end, 10, 60)  # between: still running for an end threshold of 50
    rule = CycleSettings(threshold_start_w=50, threshold_end_w=80, period_s=300)
    assert detect_cycles(signal.times, signal.power, rule) == [
        Cycle(W0 + HOUR, W0 + HOUR + 600, (100, 100))
    ]
    rule = CycleSettings(threshold_start_w=50, threshold_end_w=50, period_s=300)
    assert detect_cycles(signal.times, signal.power, rule) == [
        Cycle(W0 + HOUR, W0 + HOUR + 1200, (100, 100, 60, 60))
    ]


def test_a_gap_in_a_cycle_loses_it_but_not_the_next(caplog: pytest.LogCaptureFixture) -> None:
    signal = Signal(8 * HOUR)
    signal.block(HOUR, 60, 1500)
    signal.block(5 * HOUR, 20, 800)
    # silent from 10 to 55 min: the last sample holds until 24 min, period [30, 45) is empty;
    # the samples after the gap are not a rise (the one before the gap was above too)
    silent = (signal.times >= W0 + HOUR + 10 * MIN) & (signal.times < W0 + HOUR + 55 * MIN)
    cycles = detect_cycles(signal.times[~silent], signal.power[~silent], DEFAULT)
    assert [c.start_s for c in cycles] == [W0 + 5 * HOUR]
    assert f"[WARN_IGNORED] cycle from {W0 + HOUR} left out: period 2 has no data" in caplog.text


def test_a_cycle_is_learned_once_its_quiet_period_is_known() -> None:
    signal = Signal(HOUR + 80 * MIN)
    signal.block(HOUR, 15, 900)
    # its quiet period [HOUR+15, HOUR+30 min) ends after the last sample (HOUR+79 min)
    assert detect_cycles(signal.times, signal.power, DEFAULT) == [
        Cycle(W0 + HOUR, W0 + HOUR + 900, (900,))
    ]
    signal = Signal(HOUR + 20 * MIN)
    signal.block(HOUR, 15, 900)
    assert detect_cycles(signal.times, signal.power, DEFAULT) == []
    later = W0 + HOUR + 30 * MIN
    assert detect_cycles(signal.times, signal.power, DEFAULT, end_s=later) == [
        Cycle(W0 + HOUR, W0 + HOUR + 900, (900,))
    ]


def test_nothing_to_learn() -> None:
    assert detect_cycles(np.array([]), np.array([]), DEFAULT) == []
    assert detect_cycles(np.array([W0, W0 + 60]), np.array([np.nan, 5.0]), DEFAULT) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"quiet_periods": -1},
        {"period_s": 0},
        {"threshold_start_w": math.nan},
        {"threshold_end_w": math.inf},
    ],
)
def test_bad_settings(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"threshold|quiet_periods"):
        CycleSettings(**bad)


# ---------------------------------------------------------------------------------------
# to_step_profile


def test_step_profile_by_hand() -> None:
    # 10-min periods: step 0 holds 10 min at 100 and 5 at 200; step 1 the rest
    assert to_step_profile([100, 200, 300], 600) == pytest.approx([133.333333, 266.666667])
    # 5-min periods: the last step holds 5 min at 90 spread over 15 min
    assert to_step_profile([30, 60, 90, 90], 300) == pytest.approx([60, 30])
    assert to_step_profile([1.5, 2.5], 900) == [1.5, 2.5]
    assert to_step_profile([], 600) == []
    with pytest.raises(ValueError, match="period_s"):
        to_step_profile([1.0], 0)
    with pytest.raises(ValueError, match="finite"):
        to_step_profile([math.nan], 900)


@settings(max_examples=150, deadline=None)
@given(
    profile=st.lists(st.floats(0, 5000, allow_nan=False), max_size=40),
    period_s=st.sampled_from([60, 300, 450, 600, 900, 1200, 1800, 3600, 777]),
    step_s=st.sampled_from([300, 900, 3600]),
)
def test_step_profile_preserves_energy(profile: list[float], period_s: int, step_s: int) -> None:
    steps = to_step_profile(profile, period_s, step_s)
    assert len(steps) == math.ceil(len(profile) * period_s / step_s)
    assert sum(steps) * step_s == pytest.approx(sum(profile) * period_s, rel=1e-9, abs=1e-6)
    if profile:
        assert max(steps) <= max(profile) * (1 + 1e-12)


# ---------------------------------------------------------------------------------------
# random cycles are recovered


phases = st.lists(
    st.tuples(st.integers(1, 60), st.floats(700, 3000, allow_nan=False)), min_size=1, max_size=3
)
machine_days = st.lists(st.tuples(st.integers(45, 300), phases), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(runs=machine_days, seed=st.integers(0, 1000))
def test_random_cycles_are_recovered(
    runs: list[tuple[int, list[tuple[int, float]]]], seed: int
) -> None:
    total_min = sum(idle + sum(m for m, _ in run) for idle, run in runs) + 45
    signal = Signal(total_min * MIN, seed)
    offset = 0
    expected = []  # (start, duration, energy [W·s])
    for idle, run in runs:
        offset += idle * MIN
        start = offset
        for minutes, power in run:
            offset = signal.block(offset, minutes, power)
        expected.append((start, offset - start, sum(m * MIN * p for m, p in run)))

    cycles = detect_cycles(signal.times, signal.power, DEFAULT)

    assert [c.start_s - W0 for c in cycles] == [start for start, _, _ in expected]
    for cycle, (_, duration_s, energy_ws) in zip(cycles, expected, strict=True):
        assert len(cycle.profile_w) == math.ceil(duration_s / 900)
        assert cycle.end_s == cycle.start_s + 900 * len(cycle.profile_w)
        # the last period may hold some standby (at most 20 W) after the cycle
        learned_ws = sum(cycle.profile_w) * 900
        assert energy_ws - 1e-6 <= learned_ws <= energy_ws + 20 * 900
