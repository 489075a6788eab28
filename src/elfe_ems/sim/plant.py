"""The community's devices in a backtest: their state from round to round, what a round can
read of them, and what the control daemon's decisions make them do.

The plant plays the control daemon (commande) and the physics for one task:

- each quarter hour the decision in force for every piloted device (``decide``: the latest
  published row's column, :meth:`~elfe_ems.publish.in_force.PlanHistory.applied_decision`) is
  applied; ``None`` (no row says anything) leaves the device to itself;
- a machine or car that gets a 1 starts (commande then puts it in manual mode: it leaves the
  round's rows until its next request); a machine runs its whole cycle, a car charges at its
  power until full or unplugged;
- a tank heats while its decision is 1 and it is not full (its thermostat); a pilot-wire
  heater is in comfort on a 1, eco on a 0; a thermostatic heater heats on a 1, and its room
  follows its 1R1C model with the true outdoor temperature;
- without EMS (``piloted=False``), and for devices in manual mode, every device runs as early
  as its user allows: a machine starts at the earliest start its window allows, a car charges
  from its plug-in, a tank heats from the start of each off-peak window until full, a
  pilot-wire heater follows its programme, a thermostat holds its room around the
  programme's set point (switching on below it less a quarter of the band, off above it plus
  a quarter, checked every minute, as in the demo's history).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from elfe_ems.round.inputs import Measurements
from elfe_ems.sim.community import (
    MODE_MANUAL,
    PilotWireHeater,
    ThermostaticHeater,
    WaterHeater,
    deci_kelvin,
    hours_s,
    power_item,
    temperature_item,
)
from elfe_ems.sim.synthetic import Programme
from elfe_ems.sim.world import CarRequest, MachineRequest, World
from elfe_ems.sources.coordination import (
    CoordinationRows,
    DeviceEntry,
    EvRow,
    MachineRow,
    OffPeakWindowRow,
    PilotWireHeaterRow,
    ProgrammePeriod,
    ThermostaticHeaterRow,
    WaterHeaterRow,
)
from elfe_ems.sources.coordination import Programme as ProgrammeRows
from elfe_ems.timegrid import DAY_S, STEP_S, STEPS

STEP_H = STEP_S / 3600
THERMOSTAT_SUBSTEP_S = 60
WARMUP_HEAT_BEFORE_S = 10 * 3600
"""Each tank heated its daily energy this long before the task (a night's off-peak heating):
the energy its meter shows over the last 24 h at the task's start."""

Decide = Callable[[int], int | None]


@dataclass
class Trace:
    """What happened over the task, for the checks and the accounting."""

    flexible_w: np.ndarray = field(default_factory=lambda: np.zeros(STEPS))
    machine_starts: dict[int, int] = field(default_factory=dict)  # device id -> start [Unix s]
    car_energy_wh: dict[int, float] = field(default_factory=dict)  # device id -> in battery
    pilot_comfort: dict[int, np.ndarray] = field(default_factory=dict)  # device id -> per step
    room_temp_c: dict[int, np.ndarray] = field(default_factory=dict)  # at each step's end
    tank_deficit_wh: dict[int, float] = field(default_factory=dict)


def rows_programme(programme: Programme) -> ProgrammeRows:
    """A community heater's programme as the coordination rows hold it."""

    def periods(hours: tuple[tuple[float, float], ...]) -> tuple[ProgrammePeriod, ProgrammePeriod]:
        first, second = (ProgrammePeriod(True, hours_s(a), hours_s(b)) for a, b in hours)
        return first, second

    return ProgrammeRows(periods(programme.weekday_h), periods(programme.weekend_h))


def _in_window(second_of_day: int, windows_s: tuple[tuple[int, int], ...]) -> bool:
    return any(
        (a <= second_of_day < b) if a < b else (second_of_day >= a or second_of_day < b)
        for a, b in windows_s
    )


class Plant:
    """The devices of one task, stepped quarter hour by quarter hour (see the module doc)."""

    def __init__(self, world: World, piloted: bool) -> None:
        self.world = world
        self.piloted = piloted
        community = world.community
        self.trace = Trace()
        self.step_index = 0
        self.machines = {m.id: m for m in community.machines}
        self.machine_requests = {r.device_id: r for r in world.requests.machines}
        self.cars = {c.id: c for c in community.cars}
        self.car_requests = {r.device_id: r for r in world.requests.cars}
        self.car_started: set[int] = set()
        self.trace.car_energy_wh = {
            r.device_id: r.soc_pct / 100 * self.cars[r.device_id].capacity_wh
            for r in world.requests.cars
        }
        self.tanks = {t.id: t for t in community.water_heaters}
        self.trace.tank_deficit_wh = dict(world.requests.tank_use_wh)
        self.tank_heat_wh: dict[int, list[tuple[int, float]]] = {
            t.id: [(world.start_s - WARMUP_HEAT_BEFORE_S, t.daily_energy_wh)]
            for t in self.tanks.values()
        }
        self.tank_on: dict[int, bool] = dict.fromkeys(self.tanks, False)
        self.tank_switched_on: dict[int, int | None] = dict.fromkeys(self.tanks)
        bounds = world.start_s + STEP_S * np.arange(STEPS + 1)
        heaters: tuple[PilotWireHeater | ThermostaticHeater, ...] = (
            *community.pilot_wire_heaters,
            *community.thermostatic_heaters,
        )
        self.comfort = {h.id: world.in_comfort(h.programme, bounds) for h in heaters}
        """Whether each step bound of the task is in a comfort period, by heater."""
        self.pilots = {p.id: p for p in community.pilot_wire_heaters}
        self.trace.pilot_comfort = {p: np.zeros(STEPS, dtype=bool) for p in self.pilots}
        self.rooms = {h.id: h for h in community.thermostatic_heaters}
        self.room_now_c = {
            h.id: h.comfort_c if self.comfort[h.id][0] else h.eco_c for h in self.rooms.values()
        }
        self.room_heating = dict.fromkeys(self.rooms, False)
        self.trace.room_temp_c = {h: np.zeros(STEPS) for h in self.rooms}

    # what a round reads ------------------------------------------------------------------

    def _is_piloted(self, mode: int) -> bool:
        return self.piloted and mode != MODE_MANUAL

    def rows(self, time_s: int) -> CoordinationRows:
        """The coordination rows a round starting at ``time_s`` reads: the piloted devices,
        machines and cars only with a request not started yet."""
        machines = tuple(
            MachineRow(
                device_id=m.id,
                machine_type=m.type_id,
                row_id=m.id,
                wanted_end=r.wanted_end_s,
                max_wait_s=r.max_wait_s,
                cycle_id=m.id,
                cycle_name="cycle",
                cycle_found=True,
                power_item_id=power_item(m.id),
            )
            for m in self.machines.values()
            if self._is_piloted(m.mode)
            and (r := self.machine_requests.get(m.id)) is not None
            and r.programmed_s <= time_s
            and m.id not in self.trace.machine_starts
        )
        evs = tuple(
            EvRow(
                device_id=c.id,
                machine_type=c.type_id,
                row_id=c.id,
                soc_pct=100 * self.trace.car_energy_wh[c.id] / c.capacity_wh,
                target_soc_pct=cr.target_soc_pct,
                deadline=cr.departure_s,
                power_w=c.power_w,
                capacity_wh=c.capacity_wh,
            )
            for c in self.cars.values()
            if self._is_piloted(c.mode)
            # its own name: a comprehension's := binds in the method, where r is a machine's
            and (cr := self.car_requests.get(c.id)) is not None
            and cr.plugged_s <= time_s < cr.departure_s
            and c.id not in self.car_started
        )
        tanks = tuple(
            WaterHeaterRow(
                device_id=t.id,
                machine_type=t.type_id,
                row_id=t.id,
                last_switched_on=self.tank_switched_on[t.id],
                volume_l=t.volume_l,
                power_w=t.power_w,
                power_item_id=power_item(t.id),
                windows=tuple(OffPeakWindowRow(n, a, b) for n, (a, b) in enumerate(t.windows_s)),
            )
            for t in self.tanks.values()
            if self._is_piloted(t.mode)
        )
        rooms = tuple(
            ThermostaticHeaterRow(
                device_id=h.id,
                machine_type=h.type_id,
                row_id=h.id,
                eco_dk=deci_kelvin(h.eco_c),
                comfort_dk=deci_kelvin(h.comfort_c),
                half_band_dk=round(h.half_band_k * 10),
                power_w=h.power_w,
                thermal_model_id=h.model_id,
                temperature_item_id=temperature_item(h.id),
                programme=rows_programme(h.programme),
            )
            for h in self.rooms.values()
            if self._is_piloted(h.mode)
        )
        pilots = tuple(
            PilotWireHeaterRow(
                device_id=p.id,
                machine_type=p.type_id,
                row_id=p.id,
                eco_power_w=p.eco_power_w,
                comfort_power_w=p.comfort_power_w,
                forced_eco_pct=p.forced_eco_pct,
                programme=rows_programme(p.programme),
            )
            for p in self.pilots.values()
            if self._is_piloted(p.mode)
        )
        return CoordinationRows(
            machines=machines,
            water_heaters=tanks,
            evs=evs,
            thermostatic_heaters=rooms,
            pilot_wire_heaters=pilots,
            devices=tuple(
                DeviceEntry(d.id, d.type_id, d.mode) for d in self.world.community.devices()
            ),
        )

    def measurements(self, time_s: int, outdoor_temp_c: list[float]) -> Measurements:
        """What the store holds for a round at ``time_s``: the learned cycles (the true
        ones: every machine has run before), each tank's energy over the last 24 h, each room's
        temperature (unrounded: a room held on its band's bottom would read below it) and the
        weather forecast's outdoor temperature."""
        return Measurements(
            cycle_profiles_w={power_item(m.id): list(m.profile_w) for m in self.machines.values()},
            water_heater_energy_wh={
                power_item(t): sum(wh for at, wh in heat if time_s - DAY_S <= at < time_s)
                for t, heat in self.tank_heat_wh.items()
            },
            room_temp_c={temperature_item(h): c for h, c in self.room_now_c.items()},
            outdoor_temp_c=outdoor_temp_c,
        )

    def thermal_models(self) -> dict[int, tuple[float, float]]:
        """R [K/W] and C [J/K] of each room's model, by model id."""
        return {h.model_id: (h.r_k_per_w, h.c_j_per_k) for h in self.rooms.values()}

    # one quarter hour ------------------------------------------------------------------

    def step(self, time_s: int, decide: Decide) -> None:
        """Apply the decisions in force over the step beginning at ``time_s``."""
        k = self.step_index
        power = sum(self._machine_w(m, time_s, decide) for m in self.machines)
        power += sum(self._car_w(c, time_s, decide) for c in self.car_requests)
        power += sum(self._tank_w(t, time_s, decide) for t in self.tanks.values())
        for heater in self.pilots.values():
            decision = decide(heater.id) if self._is_piloted(heater.mode) else None
            comfort = self.comfort[heater.id][k] if decision is None else decision == 1
            self.trace.pilot_comfort[heater.id][k] = comfort
            power += heater.comfort_power_w if comfort else heater.eco_power_w
        power += sum(self._room_w(h, time_s, decide) for h in self.rooms.values())
        self.trace.flexible_w[k] = power
        self.step_index += 1

    def _machine_w(self, device_id: int, time_s: int, decide: Decide) -> float:
        machine, request = self.machines[device_id], self.machine_requests.get(device_id)
        start = self.trace.machine_starts.get(device_id)
        if request is not None and start is None and request.programmed_s <= time_s:
            if self._is_piloted(machine.mode):
                starts = decide(device_id) == 1
            else:
                starts = time_s >= asap_machine_start(request, len(machine.profile_w))
            if starts:
                start = self.trace.machine_starts[device_id] = time_s
        if start is None:
            return 0.0
        k = (time_s - start) // STEP_S
        return machine.profile_w[k] if k < len(machine.profile_w) else 0.0

    def _car_w(self, device_id: int, time_s: int, decide: Decide) -> float:
        car, request = self.cars[device_id], self.car_requests[device_id]
        if not request.plugged_s <= time_s < request.departure_s:
            return 0.0
        if device_id not in self.car_started and (
            not self._is_piloted(car.mode) or decide(device_id) == 1
        ):
            self.car_started.add(device_id)
        if device_id not in self.car_started:
            return 0.0
        energy = self.trace.car_energy_wh[device_id]
        added = min(car.power_w * STEP_H, car.capacity_wh - energy)
        self.trace.car_energy_wh[device_id] = energy + added
        return added / STEP_H

    def _tank_w(self, tank: WaterHeater, time_s: int, decide: Decide) -> float:
        if self._is_piloted(tank.mode):
            on = decide(tank.id) == 1
        else:
            local = datetime.fromtimestamp(time_s, self.world.tz)
            on = _in_window(local.hour * 3600 + local.minute * 60, tank.windows_s)
        if on and not self.tank_on[tank.id]:
            self.tank_switched_on[tank.id] = time_s  # what commande records
        self.tank_on[tank.id] = on
        if not on:
            return 0.0
        heat = min(tank.power_w * STEP_H, self.trace.tank_deficit_wh[tank.id])
        self.trace.tank_deficit_wh[tank.id] -= heat
        self.tank_heat_wh[tank.id].append((time_s, heat))
        return heat / STEP_H

    def _room_w(self, heater: ThermostaticHeater, time_s: int, decide: Decide) -> float:
        """The room over the step (true outdoor temperature), and the heater's mean power."""
        outdoor_c = float(self.world.outdoor_temp_c[self.world.index(time_s)])
        temp_c = self.room_now_c[heater.id]
        decision = decide(heater.id) if self._is_piloted(heater.mode) else None
        rise_k = heater.r_k_per_w * heater.power_w
        tau_s = heater.r_k_per_w * heater.c_j_per_k
        if decision is not None:
            decay = np.exp(-STEP_S / tau_s)
            temp_c = decay * temp_c + (1 - decay) * (outdoor_c + rise_k * decision)
            on_share = float(decision)
        else:  # its own thermostat, minute by minute
            in_comfort = self.comfort[heater.id][self.step_index]
            setpoint = heater.comfort_c if in_comfort else heater.eco_c
            quarter = heater.half_band_k / 2
            decay = np.exp(-THERMOSTAT_SUBSTEP_S / tau_s)
            heating, on_minutes = self.room_heating[heater.id], 0
            for _ in range(STEP_S // THERMOSTAT_SUBSTEP_S):
                heating = temp_c < setpoint - quarter or (heating and temp_c < setpoint + quarter)
                on_minutes += heating
                temp_c = decay * temp_c + (1 - decay) * (outdoor_c + rise_k * heating)
            self.room_heating[heater.id] = heating
            on_share = on_minutes * THERMOSTAT_SUBSTEP_S / STEP_S
        self.room_now_c[heater.id] = float(temp_c)
        self.trace.room_temp_c[heater.id][self.step_index] = temp_c
        return heater.power_w * on_share


def asap_machine_start(request: MachineRequest, cycle_steps: int) -> int:
    """The earliest start the user allows: when programmed, or later so as to end no earlier
    than ``max_wait`` before the wanted end."""
    earliest_end = request.wanted_end_s - request.max_wait_s
    return max(request.programmed_s, earliest_end - cycle_steps * STEP_S)


def car_reachable_wh(request: CarRequest, power_w: float, capacity_wh: float) -> float:
    """The most a car can hold at its departure, charged from its plug-in [Wh]."""
    hours = (request.departure_s - request.plugged_s) / 3600
    return min(capacity_wh, request.soc_pct / 100 * capacity_wh + power_w * hours)
