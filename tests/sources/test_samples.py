"""Step means of sampled signals (``elfe_ems.sources.samples``): hand-checked cases and properties
against a naive sample-by-sample integration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elfe_ems.sources.samples import (
    clean_samples,
    fill_gaps,
    long_gaps,
    step_integrals,
    step_means,
)

T0 = 1_700_001_000  # on the 900 s grid
NAN = float("nan")


def close(actual: np.ndarray, expected: list[float]) -> bool:
    return bool(np.allclose(actual, expected, rtol=1e-12, atol=1e-9, equal_nan=True))


# ---------------------------------------------------------------------------------------
# hand-checked


def test_hold_until_next_sample_then_gap() -> None:
    # 1 on [0,100), 3 on [100,1000) (next sample is 4000 s later: held 900 s), 5 from 4000
    means = step_means(T0 + np.array([0, 100, 5000]), np.array([1.0, 3, 5]), T0, 6)
    assert close(means, [(100 + 3 * 800) / 900, 3, NAN, NAN, NAN, 5])


def test_sample_before_start_holds_into_first_step() -> None:
    times = T0 + np.array([-300, 300])
    means = step_means(times, np.array([10.0, 20]), T0, 1)
    assert close(means, [(10 * 300 + 20 * 600) / 900])
    # too old: its hold of 200 s ends before the step
    means = step_means(times, np.array([10.0, 20]), T0, 1, max_hold_s=200)
    assert close(means, [20])


def test_partly_covered_step_is_mean_of_covered_time() -> None:
    integral, covered = step_integrals(T0 + np.array([600.0]), np.array([8.0]), T0, 2, 900, 600)
    assert close(covered, [300, 300])
    assert close(integral, [2400, 2400])
    assert close(step_means(T0 + np.array([600.0]), np.array([8.0]), T0, 2, 900, 600), [8, 8])


def test_unsorted_duplicates_and_non_finite(caplog: pytest.LogCaptureFixture) -> None:
    times = T0 + np.array([450, 0, 450, 200, 300, np.nan])
    values = np.array([30, 10, 50, np.inf, NAN, 7])
    means = step_means(times, values, T0, 1)
    # 10 on [0,450), mean of the two samples at 450 (40) on [450,900)
    assert close(means, [(10 * 450 + 40 * 450) / 900])
    assert "[WARN_IGNORED] 3 of 6 samples are not finite" in caplog.text


def test_clean_samples_sorts_and_merges() -> None:
    t, v = clean_samples(np.array([3, 1, 3, 2]), np.array([1.0, 2, 4, 8]))
    assert t.tolist() == [1, 2, 3]
    assert v.tolist() == [2, 8, 2.5]


def test_no_samples_or_no_steps() -> None:
    assert close(step_means(np.array([]), np.array([]), T0, 3), [NAN, NAN, NAN])
    assert step_means(np.array([T0]), np.array([1.0]), T0, 0).shape == (0,)


@pytest.mark.parametrize(
    ("steps", "step_s", "max_hold_s"), [(-1, 900, 900), (2, 0, 900), (2, 900, 0), (2, 900, NAN)]
)
def test_bad_arguments(steps: int, step_s: int, max_hold_s: float) -> None:
    with pytest.raises(ValueError, match="need steps"):
        step_means(np.array([T0]), np.array([1.0]), T0, steps, step_s, max_hold_s)


def test_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same length"):
        step_means(np.array([T0, T0 + 1]), np.array([1.0]), T0, 1)


def test_long_gaps() -> None:
    values = np.array([NAN, 1, NAN, NAN, NAN, 2, NAN, np.inf, 3, NAN, NAN, NAN])
    assert long_gaps(values, 2).tolist() == [0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1]
    assert not long_gaps(values, 3).any()
    assert long_gaps(np.array([NAN, NAN]), 1).all()
    assert long_gaps(np.array([]), 1).size == 0


def test_fill_gaps() -> None:
    assert fill_gaps(np.array([NAN, 1, NAN, 3, NAN, NAN])).tolist() == [1, 1, 2, 3, 3, 3]
    assert fill_gaps(np.array([4.0, np.inf, 0])).tolist() == [4, 2, 0]
    for bad in ([NAN, NAN], []):
        with pytest.raises(ValueError, match="no finite value"):
            fill_gaps(np.array(bad))


# ---------------------------------------------------------------------------------------
# properties


def naive_integrals(
    times: list[float], values: list[float], start: float, steps: int, step_s: float, hold: float
) -> tuple[list[float], list[float]]:
    """Sample by sample and step by step, from the definition (duplicates averaged)."""
    merged: dict[float, list[float]] = {}
    for t, v in zip(times, values, strict=True):
        merged.setdefault(t, []).append(v)
    ordered = sorted(merged)
    integral, covered = [0.0] * steps, [0.0] * steps
    for i, t in enumerate(ordered):
        value = sum(merged[t]) / len(merged[t])
        until = min(ordered[i + 1], t + hold) if i + 1 < len(ordered) else t + hold
        for k in range(steps):
            lo, hi = start + k * step_s, start + (k + 1) * step_s
            overlap = max(0.0, min(until, hi) - max(t, lo))
            integral[k] += value * overlap
            covered[k] += overlap
    return integral, covered


offsets = st.lists(st.integers(-2000, 5000), min_size=0, max_size=30)
powers = st.floats(-5000, 5000, allow_nan=False)
holds = st.sampled_from([1.0, 60.0, 450.0, 900.0, 2000.0])


@settings(max_examples=200, deadline=None)
@given(offsets=offsets, data=st.data(), hold=holds, step_s=st.sampled_from([60, 300, 900]))
def test_matches_naive_integration(
    offsets: list[int], data: st.DataObject, hold: float, step_s: int
) -> None:
    values = data.draw(st.lists(powers, min_size=len(offsets), max_size=len(offsets)))
    steps = 3000 // step_s
    times = [T0 + o for o in offsets]
    integral, covered = step_integrals(np.array(times), np.array(values), T0, steps, step_s, hold)
    want_integral, want_covered = naive_integrals(times, values, T0, steps, step_s, hold)
    assert np.allclose(covered, want_covered, atol=1e-6)
    assert np.allclose(integral, want_integral, rtol=1e-9, atol=1e-3)


@settings(max_examples=150, deadline=None)
@given(offsets=offsets, level=powers, hold=holds)
def test_constant_signal_gives_that_constant_where_covered(
    offsets: list[int], level: float, hold: float
) -> None:
    means = step_means(T0 + np.array(offsets), np.full(len(offsets), level), T0, 5, 900, hold)
    covered = means[np.isfinite(means)]
    assert np.allclose(covered, level, rtol=1e-12, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(offsets=offsets.filter(bool), data=st.data(), hold=holds)
def test_mean_within_sample_range_and_order_free(
    offsets: list[int], data: st.DataObject, hold: float
) -> None:
    values = np.array(data.draw(st.lists(powers, min_size=len(offsets), max_size=len(offsets))))
    times = T0 + np.array(offsets)
    means = step_means(times, values, T0, 4, 900, hold)
    finite = means[np.isfinite(means)]
    slack = 1e-9 * (1 + np.abs(values).max())
    assert (finite >= values.min() - slack).all()
    assert (finite <= values.max() + slack).all()
    order = np.random.default_rng(len(offsets)).permutation(len(offsets))
    assert np.allclose(
        step_means(times[order], values[order], T0, 4, 900, hold), means, equal_nan=True
    )


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.one_of(powers, st.just(NAN)), min_size=1, max_size=40))
def test_fill_gaps_keeps_known_values_and_stays_within_them(values: list[float]) -> None:
    raw = np.array(values)
    known = np.isfinite(raw)
    if not known.any():
        with pytest.raises(ValueError, match="no finite value"):
            fill_gaps(raw)
        return
    filled = fill_gaps(raw)
    assert np.isfinite(filled).all()
    assert (filled[known] == raw[known]).all()
    assert filled.min() >= raw[known].min() - 1e-9
    assert filled.max() <= raw[known].max() + 1e-9
