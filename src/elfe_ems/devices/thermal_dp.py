"""Cheapest on/off schedule of one room heater, by dynamic programming over its temperature.

The heater of :mod:`thermostatic_heater` evolves as ``T[k+1] = a T[k] + drive[k] + rise u[k]``
with ``u[k]`` in {0, 1}, and its band bounds every ``T[k+1]``. Given a cost ``on_cost[k]`` of
heating during step k, the planner asks for the cheapest schedule that holds the band: with
every other device fixed, the import a heater adds is exactly such a cost (its power hits one
step per decision), and with the balance duals of the LP it is the Lagrangian pricing problem.
A small MILP per heater answers both, in tens of milliseconds; this dynamic programme answers
in a few.

States are temperatures reached at the end of a step, at most ``buckets`` per step: the band
is cut into equal buckets and each keeps its cheapest state.

- :func:`cheapest_schedule` keeps one real trajectory per bucket, so its schedule holds the
  band exactly; merging states may lose the optimum (by little: states of one bucket differ
  by a ``1/buckets`` of the band).
- :func:`cost_lower_bound` keeps per bucket the hull ``[lowest, highest]`` of its states'
  temperatures and their least cost: every real trajectory stays inside one kept interval at
  no more cost, so its least cost is a proven lower bound on every schedule's cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from elfe_ems.devices.base import FloatArray, IntArray

TINY_K = 1e-12  # a bucket width for a band of zero width


@dataclass(frozen=True)
class RoomDynamics:
    """One heater's recurrence and band (see the module docstring), temperatures in °C."""

    decay: float
    drive_c: FloatArray  # (1 - a) T_out[k]
    rise_k: float  # (1 - a) R P: what a step of heating adds
    initial_c: float
    low_c: FloatArray  # band bottom at the end of each step, tolerance included
    high_c: FloatArray  # band top at the end of each step, tolerance included

    def _buckets(self, k: int, temps_c: FloatArray, buckets: int) -> IntArray:
        width = max((self.high_c[k] - self.low_c[k]) / buckets, TINY_K)
        return np.floor((temps_c - self.low_c[k]) / width).astype(np.int64)


def cheapest_schedule(
    room: RoomDynamics, on_cost: FloatArray, buckets: int = 256
) -> IntArray | None:
    """A schedule of least found cost ``sum(on_cost * u)`` that holds the band; None when the
    search loses every state (a band that only merged-away trajectories could hold)."""
    steps = len(on_cost)
    temps = np.array([room.initial_c])
    costs = np.zeros(1)
    parents: list[IntArray] = []
    heats: list[IntArray] = []
    for k in range(steps):
        rest = room.decay * temps + room.drive_c[k]
        size = len(temps)
        temps = np.concatenate([rest, rest + room.rise_k])
        costs = np.concatenate([costs, costs + on_cost[k]])
        inside = np.flatnonzero((temps >= room.low_c[k]) & (temps <= room.high_c[k]))
        if len(inside) == 0:
            return None
        temps, costs = temps[inside], costs[inside]
        key = room._buckets(k, temps, buckets)
        order = np.lexsort((temps, costs, key))  # per bucket: cheapest, then coolest
        first = order[np.concatenate([[True], key[order][1:] != key[order][:-1]])]
        temps, costs = temps[first], costs[first]
        parents.append(inside[first] % size)
        heats.append(inside[first] // size)
    schedule = np.zeros(steps, dtype=np.int64)
    state = int(np.argmin(costs))
    for k in range(steps - 1, -1, -1):
        schedule[k] = heats[k][state]
        state = int(parents[k][state])
    return schedule


def cost_lower_bound(room: RoomDynamics, on_cost: FloatArray, buckets: int = 256) -> float:
    """A proven lower bound on ``sum(on_cost * u)`` over the schedules that hold the band
    (``inf`` when none does)."""
    lows = highs = np.array([room.initial_c])
    costs = np.zeros(1)
    for k in range(len(on_cost)):
        low_rest = room.decay * lows + room.drive_c[k]
        high_rest = room.decay * highs + room.drive_c[k]
        lows = np.maximum(np.concatenate([low_rest, low_rest + room.rise_k]), room.low_c[k])
        highs = np.minimum(np.concatenate([high_rest, high_rest + room.rise_k]), room.high_c[k])
        costs = np.concatenate([costs, costs + on_cost[k]])
        inside = lows <= highs
        if not inside.any():
            return np.inf
        lows, highs, costs = lows[inside], highs[inside], costs[inside]
        key = room._buckets(k, lows, buckets)
        order = np.argsort(key, kind="stable")
        key, lows, highs, costs = key[order], lows[order], highs[order], costs[order]
        starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        lows = np.minimum.reduceat(lows, starts)
        highs = np.maximum.reduceat(highs, starts)
        costs = np.minimum.reduceat(costs, starts)
    return float(costs.min())
