"""The after-the-fact checks of a task: the users' constraints, read from their requests and
programmes (not from what the round made of them), against what the devices did.

A constraint is broken when:

- a machine did not run, or ended after its wanted end or earlier than ``max_wait`` before
  it, when it could have (its programming time plus its cycle is within that window);
- a car left with less than its target charge when it could have reached it;
- a pilot-wire heater gave fewer comfort steps in a comfort period (a run of programme
  quarter hours within the task) than ``ceil((100 - pourcentage_eco_force) % x steps)``, or
  more than one eco step in 4 consecutive ones (fewer than ``steps - 1`` comfort steps in a
  period shorter than 4).

Reported on their own: comfort missed [K·h], the time integral of how far each thermostatic
heater's room is below the bottom of its band (set point less its half band, the set point of
the programme at each step's end), measured at the end of each quarter hour; and the hot water
missing at the end of the day [Wh]: a tank is planned with the energy it drew over the last
24 h (the spec's rule), so a day that uses more than the day before leaves it short until the
next off-peak window.
"""

from __future__ import annotations

import math

import numpy as np

from elfe_ems.sim.plant import Trace, asap_machine_start, car_reachable_wh
from elfe_ems.sim.world import World
from elfe_ems.timegrid import STEP_S, STEPS

STEP_H = STEP_S / 3600
ENERGY_SLACK_WH = 1.0  # rounding of the charge bookkeeping
PILOT_WINDOW_STEPS = 4
PILOT_MAX_ECO_IN_WINDOW = 1


def broken_constraints(world: World, trace: Trace) -> list[str]:
    """One line per broken user constraint (empty when all were kept)."""
    return [
        *_machines(world, trace),
        *_cars(world, trace),
        *_pilots(world, trace),
    ]


def _machines(world: World, trace: Trace) -> list[str]:
    machines = {m.id: m for m in world.community.machines}
    broken = []
    for request in world.requests.machines:
        cycle_s = len(machines[request.device_id].profile_w) * STEP_S
        start = trace.machine_starts.get(request.device_id)
        earliest_end = asap_machine_start(request, cycle_s // STEP_S) + cycle_s
        if earliest_end > request.wanted_end_s:
            continue  # it could not have been done in time
        if start is None:
            broken.append(f"machine {request.device_id}: never ran")
        elif not earliest_end <= start + cycle_s <= request.wanted_end_s:
            broken.append(
                f"machine {request.device_id}: ended at {start + cycle_s}, outside "
                f"[{earliest_end}, {request.wanted_end_s}]"
            )
    return broken


def _cars(world: World, trace: Trace) -> list[str]:
    cars = {c.id: c for c in world.community.cars}
    broken = []
    for request in world.requests.cars:
        car = cars[request.device_id]
        target_wh = request.target_soc_pct / 100 * car.capacity_wh
        if car_reachable_wh(request, car.power_w, car.capacity_wh) < target_wh:
            continue
        charged = trace.car_energy_wh[request.device_id]
        if charged < target_wh - ENERGY_SLACK_WH:
            broken.append(
                f"car {request.device_id}: left at {100 * charged / car.capacity_wh:.1f} %, "
                f"target {request.target_soc_pct:g} %"
            )
    return broken


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, end)`` of each run of True in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(int), [0])))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _pilots(world: World, trace: Trace) -> list[str]:
    starts = world.start_s + STEP_S * np.arange(STEPS)
    broken = []
    for heater in world.community.pilot_wire_heaters:
        comfort = trace.pilot_comfort[heater.id]
        for first, end in _runs(world.in_comfort(heater.programme, starts)):
            if first == 0 or end == STEPS:
                continue  # a period cut by the task's bounds is not judged
            given = comfort[first:end]
            owed = math.ceil(round((100 - heater.forced_eco_pct) * given.size / 100, 9))
            window = min(PILOT_WINDOW_STEPS, given.size)
            sums = np.convolve(given, np.ones(window, dtype=int), mode="valid")
            where = f"pilot-wire heater {heater.id}, period from {int(starts[first])}"
            if given.sum() < owed:
                broken.append(
                    f"{where}: {int(given.sum())} comfort steps of {given.size}, owed {owed}"
                )
            if sums.min() < window - PILOT_MAX_ECO_IN_WINDOW:
                eco = window - int(sums.min())
                broken.append(f"{where}: {eco} eco steps in {window} consecutive ones")
    return broken


def hot_water_missing_wh(trace: Trace) -> float:
    """The hot water the tanks still lack at the end of the task [Wh]."""
    return float(sum(trace.tank_deficit_wh.values()))


def comfort_missed_kh(world: World, trace: Trace) -> float:
    """How far the rooms were below their bands, integrated over the task [K·h]."""
    ends = world.start_s + STEP_S * (np.arange(STEPS) + 1)
    missed = 0.0
    for heater in world.community.thermostatic_heaters:
        setpoint = np.where(
            world.in_comfort(heater.programme, ends), heater.comfort_c, heater.eco_c
        )
        below = setpoint - heater.half_band_k - trace.room_temp_c[heater.id]
        missed += float(np.maximum(below, 0.0).sum()) * STEP_H
    return missed
