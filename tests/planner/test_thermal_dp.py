"""The heaters' dynamic programme against brute force over every on/off schedule.

Small rooms (8-10 steps, so 256-1024 schedules) with bands drawn around a trajectory (so
some schedule holds them) and non-negative costs: the schedule found holds the band and costs
no less than the best one; the lower bound is no more than the best one's cost, and with
enough buckets both meet it. The same for soft bands (often out of reach): the least miss, and
the least cost within a miss budget.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elfe_ems.planner.devices.thermal_dp import (
    RoomDynamics,
    best_per_bucket,
    cheapest_schedule,
    cost_lower_bound,
)

TOL = 1e-9


def temperatures_c(room: RoomDynamics, u: np.ndarray) -> np.ndarray:
    temps, temp = [], room.initial_c
    for k, on in enumerate(u):
        temp = room.decay * temp + room.drive_c[k] + room.rise_k * on
        temps.append(temp)
    return np.array(temps)


def holds(room: RoomDynamics, u: np.ndarray) -> bool:
    temps = temperatures_c(room, u)
    return bool(np.all(temps >= room.low_c - TOL) and np.all(temps <= room.high_c + TOL))


def brute_force(room: RoomDynamics, cost: np.ndarray) -> float:
    """The least cost of a schedule that holds the band (inf when none does)."""
    steps = len(cost)
    return min(
        (
            float(cost @ u)
            for u in (np.array(bits) for bits in itertools.product((0, 1), repeat=steps))
            if holds(room, u)
        ),
        default=np.inf,
    )


@st.composite
def rooms(draw: st.DrawFn) -> tuple[RoomDynamics, np.ndarray]:
    steps = draw(st.integers(8, 10))
    decay = draw(st.floats(0.8, 0.99))
    outdoor = np.array(draw(st.lists(st.floats(-5, 12), min_size=steps, max_size=steps)))
    rise = draw(st.floats(0.1, 3.0))
    initial = draw(st.floats(15, 22))
    room = RoomDynamics(
        decay, (1 - decay) * outdoor, rise, initial, np.zeros(steps), np.zeros(steps)
    )
    u = np.array(draw(st.lists(st.integers(0, 1), min_size=steps, max_size=steps)))
    temps = temperatures_c(room, u)
    below = np.array(draw(st.lists(st.floats(0, 1.5), min_size=steps, max_size=steps)))
    above = np.array(draw(st.lists(st.floats(0, 1.5), min_size=steps, max_size=steps)))
    cost = np.array(draw(st.lists(st.floats(0, 10), min_size=steps, max_size=steps)))
    band = RoomDynamics(decay, room.drive_c, rise, initial, temps - below, temps + above)
    return band, cost


@settings(max_examples=60, deadline=None)
@given(rooms(), st.sampled_from([4, 32, 1024]))
def test_schedule_holds_the_band_and_bound_is_below_the_best(
    case: tuple[RoomDynamics, np.ndarray], buckets: int
) -> None:
    room, cost = case
    best = brute_force(room, cost)
    assert np.isfinite(best)  # the band was drawn around a schedule
    bound = cost_lower_bound(room, cost, buckets)
    assert bound <= best + 1e-9
    schedule = cheapest_schedule(room, cost, buckets)
    if schedule is not None:
        assert holds(room, schedule)
        assert float(cost @ schedule) >= best - 1e-9


@settings(max_examples=30, deadline=None)
@given(rooms())
def test_fine_buckets_find_the_best(case: tuple[RoomDynamics, np.ndarray]) -> None:
    """With more buckets than schedules, no two states share one: both are exact."""
    room, cost = case
    best = brute_force(room, cost)
    schedule = cheapest_schedule(room, cost, 2**20)
    assert schedule is not None
    assert abs(float(cost @ schedule) - best) <= 1e-9
    assert abs(cost_lower_bound(room, cost, 2**20) - best) <= 1e-9


def test_a_band_no_schedule_holds() -> None:
    room = RoomDynamics(0.9, np.full(4, 0.5), 1.0, 20.0, np.full(4, 30.0), np.full(4, 31.0))
    assert cheapest_schedule(room, np.ones(4)) is None
    assert cost_lower_bound(room, np.ones(4)) == np.inf


def misses_k(room: RoomDynamics, u: np.ndarray) -> float:
    """Total miss of the band [K·step] under ``u``."""
    temps = temperatures_c(room, u)
    return float((np.maximum(0, room.low_c - temps) + np.maximum(0, temps - room.high_c)).sum())


def every_schedule(steps: int) -> list[np.ndarray]:
    return [np.array(bits) for bits in itertools.product((0, 1), repeat=steps)]


@st.composite
def narrow_rooms(draw: st.DrawFn) -> tuple[RoomDynamics, np.ndarray]:
    """Rooms whose band is often out of reach (narrower than a step's move), with the
    least miss as the soft band's slack, and non-negative costs."""
    room, cost = draw(rooms())
    width = draw(st.floats(0, 0.5))
    low = room.low_c + draw(st.floats(-1, 1))
    band = RoomDynamics(room.decay, room.drive_c, room.rise_k, room.initial_c, low, low + width)
    least = min(misses_k(band, u) for u in every_schedule(len(cost)))
    soft = RoomDynamics(
        band.decay, band.drive_c, band.rise_k, band.initial_c, band.low_c, band.high_c, least
    )
    return soft, cost


@settings(max_examples=60, deadline=None)
@given(narrow_rooms(), st.sampled_from([4, 32, 1024]))
def test_least_miss_is_bounded_and_found(
    case: tuple[RoomDynamics, np.ndarray], buckets: int
) -> None:
    """Cost = the miss: the bound is below the least miss, the schedule's miss above it, and
    both meet it with enough buckets."""
    room, cost = case
    least = room.slack_k
    zero = np.zeros(len(cost))
    budget = least + 1e-9
    assert cost_lower_bound(room, zero, buckets, 1.0, budget) <= least + 1e-9
    schedule = cheapest_schedule(room, zero, buckets, 1.0, budget)
    if schedule is not None:
        assert misses_k(room, schedule) >= least - 1e-9
    fine = cheapest_schedule(room, zero, 2**20, 1.0, budget)
    assert fine is not None
    assert misses_k(room, fine) == pytest.approx(least, abs=1e-9)
    assert cost_lower_bound(room, zero, 2**20, 1.0, budget) == pytest.approx(least, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(narrow_rooms(), st.sampled_from([4, 32, 1024]), st.floats(0, 2))
def test_cost_within_a_miss_budget(
    case: tuple[RoomDynamics, np.ndarray], buckets: int, extra_k: float
) -> None:
    """The cheapest schedule missing the band by at most a budget: the bound is below the
    best such schedule's cost, a schedule found keeps within the budget."""
    room, cost = case
    budget = room.slack_k + extra_k
    within = [u for u in every_schedule(len(cost)) if misses_k(room, u) <= budget]
    best = min(float(cost @ u) for u in within)
    wide = RoomDynamics(
        room.decay, room.drive_c, room.rise_k, room.initial_c, room.low_c, room.high_c, budget
    )
    assert cost_lower_bound(wide, cost, buckets, max_miss=budget + 1e-9) <= best + 1e-9
    schedule = cheapest_schedule(wide, cost, buckets, max_miss=budget + 1e-9)
    if schedule is not None:
        assert misses_k(room, schedule) <= budget + 1e-9
        assert float(cost @ schedule) >= best - 1e-9


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 20),
            st.sampled_from([0.0, 0.5, 1.0, 1.25]),
            st.sampled_from([0.0, 0.1, 0.2]),
            st.sampled_from([18.0, 18.5, 19.0, 19.25]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_best_per_bucket_is_the_lexicographic_first(
    states: list[tuple[int, float, float, float]],
) -> None:
    """Each bucket keeps its cheapest state, then least miss, then coolest, then first: as a
    lexicographic sort (many ties: few values drawn)."""
    key, costs, misses, temps = (np.asarray(column) for column in zip(*states, strict=True))
    order = np.lexsort((temps, misses, costs, key))
    expected = order[np.concatenate([[True], key[order][1:] != key[order][:-1]])]
    assert np.array_equal(best_per_bucket(key, costs, misses, temps), expected)
