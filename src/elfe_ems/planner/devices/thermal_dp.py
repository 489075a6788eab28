"""Cheapest on/off schedule of one room heater, by dynamic programming over its temperature.

The heater of :mod:`thermostatic_heater` evolves as ``T[k+1] = a T[k] + drive[k] + rise u[k]``
with ``u[k]`` in {0, 1}, and its band bounds every ``T[k+1]``. Given a cost ``on_cost[k]`` of
heating during step k, the planner asks for the cheapest schedule that holds the band: with
every other device fixed, the import a heater adds is exactly such a cost (its power hits one
step per decision), and with the balance duals of the LP it is the Lagrangian pricing problem.
A small MILP per heater answers both, in tens of milliseconds; this dynamic programme answers
in a few.

A band out of reach is the same programme with a soft band: a temperature may leave it by up
to ``slack_k``, and each kelvin outside costs ``miss_cost`` per step. With ``on_cost`` zero and
``miss_cost`` one, the cheapest schedule is the one that misses the band by the least total
(``sum_k max(0, low[k] - T[k+1]) + max(0, T[k+1] - high[k])`` [K·step]); its ``slack_k``, a
miss some schedule achieves, bounds the states worth keeping.

States are temperatures reached at the end of a step, at most ``buckets`` per step: the span
of the step's states (within the band and its slack) is cut into equal buckets and each keeps
its cheapest state. States missing the band by more than ``max_miss`` in all are dropped (a
miss budget).

- :func:`cheapest_schedule` keeps one real trajectory per bucket, so its schedule holds the
  band (within the slack) exactly; merging states may lose the optimum (by little: states of
  one bucket differ by a ``1/buckets`` of their span).
- :func:`cost_lower_bound` keeps per bucket the hull ``[lowest, highest]`` of its states'
  temperatures, their least cost and least miss, charging each interval the miss of its point
  nearest the band: every real trajectory stays inside one kept interval at no more cost and
  miss, so its least cost is a proven lower bound on every schedule's cost.

Both take an optional ``deadline`` (a :func:`time.perf_counter` instant), checked at every
step: past it they raise :class:`OutOfTime` (a heater's pre-computation within the solve's
time limit); without one they run to the end.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from elfe_ems.planner.devices.base import FloatArray, IntArray

TINY_K = 1e-12  # a bucket width for a band of zero width


class OutOfTime(Exception):  # noqa: N818 - it is a control signal, not an error
    """Raised when the ``deadline`` given to the programme passes before it ends."""


def _check(deadline: float | None) -> None:
    if deadline is not None and time.perf_counter() > deadline:
        raise OutOfTime


@dataclass(frozen=True)
class RoomDynamics:
    """One heater's recurrence and band (see the module docstring), temperatures in °C."""

    decay: float
    drive_c: FloatArray  # (1 - a) T_out[k]
    rise_k: float  # (1 - a) R P: what a step of heating adds
    initial_c: float
    low_c: FloatArray  # band bottom at the end of each step, tolerance included
    high_c: FloatArray  # band top at the end of each step, tolerance included
    slack_k: float = 0.0  # how far a temperature may leave the band (a soft band) [K]

    def kept_range_c(self, k: int) -> tuple[float, float]:
        """The temperatures a state may have at the end of step k: the band and its slack."""
        return self.low_c[k] - self.slack_k, self.high_c[k] + self.slack_k

    def miss_k(self, k: int, low_c: FloatArray, high_c: FloatArray) -> FloatArray:
        """Least miss of the band at the end of step k by a temperature within each interval
        ``[low_c, high_c]`` (a single temperature: ``low_c == high_c``) [K]."""
        # typed: numpy's stubs answer Any for arithmetic on arrays of unspecified dtype
        miss: FloatArray = np.maximum(0.0, self.low_c[k] - high_c) + np.maximum(
            0.0, low_c - self.high_c[k]
        )
        return miss


def _buckets(low_c: FloatArray, high_c: FloatArray, buckets: int) -> IntArray:
    """The bucket of each state (interval ``[low_c, high_c]``, by its lower end) among
    ``buckets`` equal ones over the span of the states."""
    bottom = low_c.min()
    width = max((high_c.max() - bottom) / buckets, TINY_K)
    # the truncation of a quotient >= 0: its floor
    bucket: IntArray = ((low_c - bottom) / width).astype(np.int64)  # typed: stubs say Any
    return bucket


def best_per_bucket(
    key: IntArray, costs: FloatArray, misses: FloatArray, temps: FloatArray
) -> IntArray:
    """The index of each bucket's best state, buckets in increasing ``key`` (``key >= 0``):
    the cheapest, then the least miss, then the coolest (then the first). As
    ``np.lexsort((temps, misses, costs, key))`` and the first of each bucket, without a sort:
    each criterion narrows the candidates to their bucket's least (``np.minimum.at`` over one
    slot per key), until one a bucket is left."""
    slots = int(key.max()) + 1
    candidates = np.arange(len(key))
    for values in (costs, misses, temps):
        slot, value = key[candidates], values[candidates]
        least = np.full(slots, np.inf)
        np.minimum.at(least, slot, value)
        candidates = candidates[value == least[slot]]
        occupied = least < np.inf
        if len(candidates) == np.count_nonzero(occupied):  # one a bucket: no tie left
            chosen = np.empty(slots, dtype=np.int64)
            chosen[key[candidates]] = candidates
            best: IntArray = chosen[occupied]
            return best
    first = np.full(slots, len(key))
    np.minimum.at(first, key[candidates], candidates)  # the first of equals
    chosen_first: IntArray = first[first < len(key)]  # typed: numpy's stubs answer Any
    return chosen_first


def cheapest_schedule(
    room: RoomDynamics,
    on_cost: FloatArray,
    buckets: int = 256,
    miss_cost: float = 0.0,
    max_miss: float = np.inf,
    deadline: float | None = None,
) -> IntArray | None:
    """A schedule of least found cost ``sum(on_cost * u) + miss_cost * miss`` that keeps the
    room within the band and its slack, missing the band by at most ``max_miss`` in all; None
    when the search loses every state (a band that only merged-away trajectories could hold).
    Raises :class:`OutOfTime` past ``deadline``."""
    steps = len(on_cost)
    temps = np.array([room.initial_c])
    costs = misses = np.zeros(1)
    parents: list[IntArray] = []
    heats: list[IntArray] = []
    for k in range(steps):
        _check(deadline)
        rest = room.decay * temps + room.drive_c[k]
        size = len(temps)
        temps = np.concatenate([rest, rest + room.rise_k])
        misses = np.concatenate([misses, misses])
        costs = np.concatenate([costs, costs + on_cost[k]])
        _charge_miss(room, k, temps, temps, costs, misses, miss_cost)
        bottom, top = room.kept_range_c(k)
        inside = np.flatnonzero((temps >= bottom) & (temps <= top) & (misses <= max_miss))
        if len(inside) == 0:
            return None
        temps, costs, misses = temps[inside], costs[inside], misses[inside]
        first = best_per_bucket(_buckets(temps, temps, buckets), costs, misses, temps)
        temps, costs, misses = temps[first], costs[first], misses[first]
        heat, parent = np.divmod(inside[first], size)
        parents.append(parent)
        heats.append(heat)
    schedule = np.zeros(steps, dtype=np.int64)
    state = int(np.argmin(costs))
    for k in range(steps - 1, -1, -1):
        schedule[k] = heats[k][state]
        state = int(parents[k][state])
    return schedule


def _charge_miss(
    room: RoomDynamics,
    k: int,
    lows: FloatArray,
    highs: FloatArray,
    costs: FloatArray,
    misses: FloatArray,
    miss_cost: float,
) -> None:
    """Add step ``k``'s miss of the band by the states ``[lows, highs]`` [K] to ``misses``
    and its price to ``costs``, in place; only for a soft band (within a hard one, no state
    kept misses it)."""
    if room.slack_k > 0:
        step_miss = room.miss_k(k, lows, highs)
        misses += step_miss
        costs += miss_cost * step_miss


def cost_lower_bound(
    room: RoomDynamics,
    on_cost: FloatArray,
    buckets: int = 256,
    miss_cost: float = 0.0,
    max_miss: float = np.inf,
    deadline: float | None = None,
) -> float:
    """A proven lower bound on ``sum(on_cost * u) + miss_cost * miss`` over the schedules that
    keep the room within the band and its slack and miss the band by at most ``max_miss`` in
    all (``inf`` when none does). A merged interval keeps the least cost and the least miss of
    its states: it is no worse than any of them on either. Raises :class:`OutOfTime` past
    ``deadline``."""
    lows = highs = np.array([room.initial_c])
    costs = misses = np.zeros(1)
    for k in range(len(on_cost)):
        _check(deadline)
        low_rest = room.decay * lows + room.drive_c[k]
        high_rest = room.decay * highs + room.drive_c[k]
        bottom, top = room.kept_range_c(k)
        lows = np.maximum(np.concatenate([low_rest, low_rest + room.rise_k]), bottom)
        highs = np.minimum(np.concatenate([high_rest, high_rest + room.rise_k]), top)
        misses = np.concatenate([misses, misses])
        costs = np.concatenate([costs, costs + on_cost[k]])
        _charge_miss(room, k, lows, highs, costs, misses, miss_cost)
        inside = (lows <= highs) & (misses <= max_miss)
        if not inside.any():
            return np.inf
        lows, highs, costs, misses = lows[inside], highs[inside], costs[inside], misses[inside]
        key = _buckets(lows, highs, buckets)
        slots = int(key.max()) + 1
        least_low, least_cost, least_miss = (np.full(slots, np.inf) for _ in range(3))
        most_high = np.full(slots, -np.inf)
        np.minimum.at(least_low, key, lows)
        np.maximum.at(most_high, key, highs)
        np.minimum.at(least_cost, key, costs)
        np.minimum.at(least_miss, key, misses)
        present = least_low < np.inf
        lows, highs = least_low[present], most_high[present]
        costs, misses = least_cost[present], least_miss[present]
    return float(costs.min())
