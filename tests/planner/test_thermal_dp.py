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
    TINY_K,
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


# ------------------------------------------------ the programme as it was, the oracle of speed-ups
# A verbatim copy of the numpy programme before it was made faster (issue 15), less the
# deadline: the faster one must answer the same schedule and the same bound on every room.


def reference_buckets(low_c: np.ndarray, high_c: np.ndarray, buckets: int) -> np.ndarray:
    bottom = low_c.min()
    width = max((high_c.max() - bottom) / buckets, TINY_K)
    key: np.ndarray = np.floor((low_c - bottom) / width).astype(np.int64)
    return key


def reference_best_per_bucket(
    key: np.ndarray, costs: np.ndarray, misses: np.ndarray, temps: np.ndarray
) -> np.ndarray:
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    new_bucket = np.concatenate([[True], sorted_key[1:] != sorted_key[:-1]])
    starts = np.flatnonzero(new_bucket)
    bucket = np.cumsum(new_bucket) - 1
    best = np.ones(len(order), dtype=bool)
    for values in (costs[order], misses[order], temps[order]):
        candidate = np.where(best, values, np.inf)
        best &= candidate == np.minimum.reduceat(candidate, starts)[bucket]
    chosen = np.flatnonzero(best)
    chosen = chosen[np.concatenate([[True], bucket[chosen][1:] != bucket[chosen][:-1]])]
    first: np.ndarray = order[chosen]
    return first


def reference_cheapest_schedule(
    room: RoomDynamics,
    on_cost: np.ndarray,
    buckets: int,
    miss_cost: float = 0.0,
    max_miss: float = np.inf,
) -> np.ndarray | None:
    steps = len(on_cost)
    temps = np.array([room.initial_c])
    costs = misses = np.zeros(1)
    parents: list[np.ndarray] = []
    heats: list[np.ndarray] = []
    for k in range(steps):
        rest = room.decay * temps + room.drive_c[k]
        size = len(temps)
        temps = np.concatenate([rest, rest + room.rise_k])
        step_miss = room.miss_k(k, temps, temps)
        misses = np.concatenate([misses, misses]) + step_miss
        costs = np.concatenate([costs, costs + on_cost[k]]) + miss_cost * step_miss
        bottom, top = room.kept_range_c(k)
        inside = np.flatnonzero((temps >= bottom) & (temps <= top) & (misses <= max_miss))
        if len(inside) == 0:
            return None
        temps, costs, misses = temps[inside], costs[inside], misses[inside]
        key = reference_buckets(temps, temps, buckets)
        first = reference_best_per_bucket(key, costs, misses, temps)
        temps, costs, misses = temps[first], costs[first], misses[first]
        parents.append(inside[first] % size)
        heats.append(inside[first] // size)
    schedule = np.zeros(steps, dtype=np.int64)
    state = int(np.argmin(costs))
    for k in range(steps - 1, -1, -1):
        schedule[k] = heats[k][state]
        state = int(parents[k][state])
    return schedule


def reference_cost_lower_bound(
    room: RoomDynamics,
    on_cost: np.ndarray,
    buckets: int,
    miss_cost: float = 0.0,
    max_miss: float = np.inf,
) -> float:
    lows = highs = np.array([room.initial_c])
    costs = misses = np.zeros(1)
    for k in range(len(on_cost)):
        low_rest = room.decay * lows + room.drive_c[k]
        high_rest = room.decay * highs + room.drive_c[k]
        bottom, top = room.kept_range_c(k)
        lows = np.maximum(np.concatenate([low_rest, low_rest + room.rise_k]), bottom)
        highs = np.minimum(np.concatenate([high_rest, high_rest + room.rise_k]), top)
        step_miss = room.miss_k(k, lows, highs)
        misses = np.concatenate([misses, misses]) + step_miss
        costs = np.concatenate([costs, costs + on_cost[k]]) + miss_cost * step_miss
        inside = (lows <= highs) & (misses <= max_miss)
        if not inside.any():
            return np.inf
        lows, highs, costs, misses = lows[inside], highs[inside], costs[inside], misses[inside]
        key = reference_buckets(lows, highs, buckets)
        order = np.argsort(key, kind="stable")
        key, lows, highs = key[order], lows[order], highs[order]
        costs, misses = costs[order], misses[order]
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        lows = np.minimum.reduceat(lows, starts)
        highs = np.maximum.reduceat(highs, starts)
        costs = np.minimum.reduceat(costs, starts)
        misses = np.minimum.reduceat(misses, starts)
    return float(costs.min())


@st.composite
def day_rooms(draw: st.DrawFn) -> tuple[RoomDynamics, np.ndarray, float, float]:
    """Rooms of up to a day of quarter hours (or on a lattice of temperatures, where ties are
    many): a band drawn around a random trajectory (so some schedule holds it), or a flat one
    with a comfort period (of zero width at times), often out of reach from the start; hard
    or soft. Costs as prices, duals (negative too)
    or few values (ties); a miss cost and a miss budget."""
    steps = draw(st.sampled_from([96, 96, 48]) | st.integers(1, 96))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        decay = draw(st.floats(0.8, 0.999))
        drive = (1 - decay) * (draw(st.floats(-10, 25)) + np.cumsum(rng.normal(0, 0.5, steps)))
        rise, initial = draw(st.floats(0.02, 2.0)), draw(st.floats(10, 25))
    else:  # a lattice: exact sums, so different schedules reach the same temperature (ties)
        decay, drive = 1.0, rng.integers(-2, 2, steps) * np.float64(0.25)
        rise, initial = 0.5, float(draw(st.integers(16, 22)))
    if draw(st.booleans()):
        free = RoomDynamics(decay, drive, rise, initial, np.zeros(steps), np.zeros(steps))
        temps = temperatures_c(free, rng.integers(0, 2, steps))
        low = temps - rng.uniform(0, draw(st.floats(0, 3)), steps)
        high = temps + rng.uniform(0, draw(st.floats(0, 3)), steps)
    else:
        low = np.full(steps, draw(st.floats(15, 20)))
        start, end = sorted(rng.integers(0, steps + 1, 2))
        low[start:end] += draw(st.floats(0, 3))
        high = low + draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 4.0]))
    slack = draw(st.sampled_from([0.0, 0.0, 0.1, 1.0, 5.0, 15.0]))
    room = RoomDynamics(decay, drive, rise, initial, low, high, slack)
    kind = draw(st.sampled_from(["price", "dual", "ones", "zeros", "few"]))
    cost = {
        "price": rng.uniform(0.0, 0.4, steps),
        "dual": rng.normal(0.0, 1.0, steps),
        "ones": np.ones(steps),
        "zeros": np.zeros(steps),
        "few": rng.integers(0, 3, steps).astype(float),
    }[kind]
    miss_cost = draw(st.sampled_from([0.0, 1.0, 0.3]))
    max_miss = draw(st.sampled_from([np.inf, slack * steps / 4, slack * steps]))
    return room, cost, miss_cost, max_miss


@settings(max_examples=150, deadline=None)
@given(day_rooms(), st.sampled_from([1, 4, 32, 256, 1024]))
def test_the_same_answers_as_the_programme_it_replaced(
    case: tuple[RoomDynamics, np.ndarray, float, float], buckets: int
) -> None:
    """The same schedule (ties broken alike) and the same bound, to the bit, as the copy
    above of the programme before it was made faster."""
    room, cost, miss_cost, max_miss = case
    expected = reference_cheapest_schedule(room, cost, buckets, miss_cost, max_miss)
    schedule = cheapest_schedule(room, cost, buckets, miss_cost, max_miss)
    assert (schedule is None) == (expected is None)
    if schedule is not None and expected is not None:
        assert np.array_equal(schedule, expected)
    bound = cost_lower_bound(room, cost, buckets, miss_cost, max_miss)
    assert bound == reference_cost_lower_bound(room, cost, buckets, miss_cost, max_miss)
