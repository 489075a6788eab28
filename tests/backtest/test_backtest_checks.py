"""The independent checks on hand-made requests and traces."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from elfe_ems.backtest.checks import broken_constraints, comfort_missed_kh, hot_water_missing_wh
from elfe_ems.sim.plant import Trace
from elfe_ems.sim.world import CarRequest, MachineRequest, Requests, World
from elfe_ems.timegrid import STEP_S, STEPS

H = 3600


def _with(world: World, machines: tuple = (), cars: tuple = ()) -> World:
    return replace(world, requests=Requests(machines, cars, {}))


def _machine_world(world: World) -> tuple[World, MachineRequest, int]:
    machine = world.community.machines[0]
    request = MachineRequest(machine.id, world.start_s + 8 * H, world.start_s + 19 * H, 2 * H)
    return _with(world, machines=(request,)), request, len(machine.profile_w) * STEP_S


def test_machine_on_time_is_kept(summer_world: World) -> None:
    world, request, cycle_s = _machine_world(summer_world)
    for end in (request.wanted_end_s, request.wanted_end_s - 2 * H):  # the window's bounds
        trace = Trace(machine_starts={request.device_id: end - cycle_s})
        assert broken_constraints(world, trace) == []


@pytest.mark.parametrize("end_h", [19.25, 16.75])  # 15 min late, 15 min too early
def test_machine_outside_its_window_is_broken(summer_world: World, end_h: float) -> None:
    world, request, cycle_s = _machine_world(summer_world)
    start = world.start_s + round(end_h * H) - cycle_s
    (line,) = broken_constraints(world, Trace(machine_starts={request.device_id: start}))
    assert line.startswith(f"machine {request.device_id}: ended at")


def test_machine_that_never_ran_is_broken(summer_world: World) -> None:
    world, request, _ = _machine_world(summer_world)
    assert broken_constraints(world, Trace()) == [f"machine {request.device_id}: never ran"]


def test_machine_that_could_not_be_on_time_is_not_counted(summer_world: World) -> None:
    machine = summer_world.community.machines[0]
    late = MachineRequest(machine.id, summer_world.start_s + 8 * H, summer_world.start_s + 8 * H, 0)
    assert broken_constraints(_with(summer_world, machines=(late,)), Trace()) == []


def test_car_below_its_target_is_broken(summer_world: World) -> None:
    car = summer_world.community.cars[0]
    request = CarRequest(
        car.id, summer_world.start_s + 7 * H, summer_world.start_s + 19 * H, 30, 60
    )
    world = _with(summer_world, cars=(request,))
    target_wh = 0.6 * car.capacity_wh
    assert broken_constraints(world, Trace(car_energy_wh={car.id: target_wh})) == []
    (line,) = broken_constraints(world, Trace(car_energy_wh={car.id: target_wh - 100}))
    assert line.startswith(f"car {car.id}: left at")


def _pilot_trace(world: World, comfort: np.ndarray) -> Trace:
    return Trace(
        pilot_comfort={h.id: comfort.copy() for h in world.community.pilot_wire_heaters},
        room_temp_c={h.id: np.full(STEPS, 30.0) for h in world.community.thermostatic_heaters},
    )


def test_pilot_wire_comfort_owed(winter_world: World) -> None:
    world = _with(winter_world)
    heater = world.community.pilot_wire_heaters[0]
    assert broken_constraints(world, _pilot_trace(world, np.ones(STEPS, dtype=bool))) == []
    in_period = world.in_comfort(heater.programme, world.start_s + STEP_S * np.arange(STEPS))
    assert in_period.any()
    # eco on two steps in a row inside a period: more than 1 eco step in 4
    first = int(np.flatnonzero(in_period)[0])
    comfort = np.ones(STEPS, dtype=bool)
    comfort[first : first + 2] = False
    lines = broken_constraints(world, _pilot_trace(world, comfort))
    where = f"pilot-wire heater {heater.id}, period from {world.start_s + first * STEP_S}"
    assert f"{where}: 2 eco steps in 4 consecutive ones" in lines
    # no comfort at all: every period of every heater is short of what it owes
    lines = broken_constraints(world, _pilot_trace(world, np.zeros(STEPS, dtype=bool)))
    assert any(line.startswith(where) and ", owed " in line for line in lines)


def test_comfort_missed(winter_world: World) -> None:
    heaters = winter_world.community.thermostatic_heaters
    assert heaters
    warm = {h.id: np.full(STEPS, 30.0) for h in heaters}
    assert comfort_missed_kh(winter_world, Trace(room_temp_c=warm)) == 0
    cold = dict(warm)
    heater = heaters[0]
    cold[heater.id] = np.full(STEPS, 30.0)
    cold[heater.id][:4] = heater.eco_c - heater.half_band_k - 1  # eco at noon: 1 K below, 1 h
    ends = winter_world.start_s + STEP_S * np.arange(1, 5)
    assert not winter_world.in_comfort(heater.programme, ends).any()
    assert comfort_missed_kh(winter_world, Trace(room_temp_c=cold)) == pytest.approx(1.0)


def test_hot_water_missing() -> None:
    assert hot_water_missing_wh(Trace(tank_deficit_wh={1: 0.0, 2: 250.0})) == 250
