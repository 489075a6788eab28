"""What the control daemon's decisions make the devices do."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from elfe_ems.sim.community import power_item
from elfe_ems.sim.plant import Plant
from elfe_ems.sim.world import CarRequest, MachineRequest, Requests, World
from elfe_ems.sources.coordination import MODE_PILOTED
from elfe_ems.timegrid import STEP_S, STEPS

H = 3600


def _piloted(world: World) -> World:
    """Every device piloted (none in manual mode)."""
    community = world.community
    kinds = ("machines", "water_heaters", "cars", "pilot_wire_heaters", "thermostatic_heaters")
    return replace(
        world,
        community=replace(
            community,
            **{
                k: tuple(replace(d, mode=MODE_PILOTED) for d in getattr(community, k))
                for k in kinds
            },
        ),
    )


def _run(plant: Plant, decide: dict[int, list[int | None]]) -> None:
    for k in range(STEPS):
        time_s = plant.world.start_s + k * STEP_S
        plant.step(time_s, lambda device, k=k: decide.get(device, [None] * STEPS)[k])


def test_a_started_machine_runs_its_whole_cycle(summer_world: World) -> None:
    world = _piloted(summer_world)
    machine = world.community.machines[0]
    request = MachineRequest(machine.id, world.start_s + 8 * H, world.start_s + 20 * H, 4 * H)
    world = replace(world, requests=Requests((request,), (), {}))
    plant = Plant(world, piloted=True)
    assert plant.rows(world.start_s).machines == ()  # not programmed yet
    (row,) = plant.rows(request.programmed_s).machines
    assert (row.device_id, row.wanted_end, row.max_wait_s) == (
        machine.id,
        request.wanted_end_s,
        4 * H,
    )
    start = 40  # a 1 at step 40 only: the cycle runs on whatever the later columns say
    _run(plant, {machine.id: [1 if k == start else 0 for k in range(STEPS)]})
    assert plant.trace.machine_starts == {machine.id: world.start_s + start * STEP_S}
    cycle = np.asarray(machine.profile_w)
    assert plant.trace.flexible_w[start : start + cycle.size] == pytest.approx(cycle)
    assert plant.rows(world.start_s + 50 * STEP_S).machines == ()  # started: manual mode


def test_without_ems_a_machine_starts_as_early_as_allowed(summer_world: World) -> None:
    machine = summer_world.community.machines[0]
    request = MachineRequest(
        machine.id, summer_world.start_s + 8 * H, summer_world.start_s + 20 * H, H
    )
    world = replace(summer_world, requests=replace(summer_world.requests, machines=(request,)))
    plant = Plant(world, piloted=False)
    assert plant.rows(request.programmed_s).machines == ()
    _run(plant, {})
    cycle_s = len(machine.profile_w) * STEP_S
    assert plant.trace.machine_starts[machine.id] == request.wanted_end_s - H - cycle_s


def test_a_car_charges_until_full_or_gone(summer_world: World) -> None:
    world = _piloted(summer_world)
    car = world.community.cars[0]
    request = CarRequest(car.id, world.start_s + 6 * H, world.start_s + 18 * H, 50, 80)
    plant = Plant(replace(world, requests=Requests((), (request,), {})), piloted=True)
    (row,) = plant.rows(request.plugged_s).evs
    assert (row.soc_pct, row.target_soc_pct, row.deadline) == (50, 80, request.departure_s)
    _run(plant, {car.id: [1] * STEPS})
    charged_h = (car.capacity_wh / 2) / car.power_w
    assert plant.trace.car_energy_wh[car.id] == pytest.approx(
        min(car.capacity_wh, car.capacity_wh / 2 + car.power_w * 12)
    )
    energy_wh = plant.trace.flexible_w.sum() * STEP_S / 3600
    assert energy_wh == pytest.approx(min(charged_h, 12) * car.power_w)
    assert not plant.trace.flexible_w[: 6 * 4].any()  # not before it is plugged in


def test_a_tank_heats_while_on_and_not_full(summer_world: World) -> None:
    world = _piloted(summer_world)
    tank = world.community.water_heaters[0]
    plant = Plant(replace(world, requests=Requests((), (), {tank.id: 1000.0})), piloted=True)
    measured = plant.measurements(world.start_s, [10.0] * STEPS).water_heater_energy_wh
    assert measured[power_item(tank.id)] == pytest.approx(tank.daily_energy_wh)  # the warm-up
    _run(plant, {tank.id: [1] * 8 + [0] * (STEPS - 8)})
    assert plant.trace.flexible_w.sum() * STEP_S / 3600 == pytest.approx(1000)
    assert plant.trace.tank_deficit_wh[tank.id] == 0
    assert plant.tank_switched_on[tank.id] == world.start_s
    later = plant.measurements(world.start_s + 16 * H, [10.0] * STEPS)
    assert later.water_heater_energy_wh[power_item(tank.id)] == pytest.approx(1000)


def test_a_room_follows_its_model(winter_world: World) -> None:
    world = _piloted(winter_world)
    heater = world.community.thermostatic_heaters[0]
    plant = Plant(world, piloted=True)
    start_c = plant.room_now_c[heater.id]
    _run(plant, {heater.id: [1] * 4 + [0] * (STEPS - 4)})
    decay = np.exp(-STEP_S / (heater.r_k_per_w * heater.c_j_per_k))
    temp_c = start_c
    for k in range(4):
        outdoor = world.outdoor_temp_c[world.index(world.start_s + k * STEP_S)]
        temp_c = decay * temp_c + (1 - decay) * (outdoor + heater.r_k_per_w * heater.power_w)
    assert plant.trace.room_temp_c[heater.id][3] == pytest.approx(temp_c)
    assert plant.trace.room_temp_c[heater.id][4] < temp_c  # off, and colder outside


def test_a_thermostat_holds_its_room_without_ems(winter_world: World) -> None:
    plant = Plant(winter_world, piloted=False)
    _run(plant, {})
    for heater in winter_world.community.thermostatic_heaters:
        temps = plant.trace.room_temp_c[heater.id]
        assert temps.min() > heater.eco_c - heater.half_band_k - 0.3
        assert temps.max() < heater.comfort_c + heater.half_band_k
