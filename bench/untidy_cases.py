"""Untidy, realistic planning rounds for the benchmark: named, seeded case builders.

A case (:class:`UntidyCase`) is a variant, a community size, the local date and hour of the
round's start (Europe/Paris, DST-aware through :mod:`zoneinfo`) and a seed. :func:`build`
generates the community with :func:`elfe_ems.sim.synthetic.community_scenario` under the
weather of Rennes (:func:`elfe_ems.sim.synthetic.brittany_weather`) for that date, then
applies the variant, a transform of the generated scenario (``model_copy(update=...)`` on the
specs). The generator's season follows the date: "winter" (heaters present) from October to
April, "summer" (no heaters) from May to September, unless the variant forces them. Every
scenario is validated again through the pydantic models at the end (``model_copy`` does not
validate), and the same case always gives the same JSON: the variants draw from their own
random stream, seeded by the case's seed and the variant's name.

Variants (:data:`VARIANTS`; ``one-type:<type>`` takes one of :data:`DEVICE_TYPES`):

- ``base``: the community as generated, with the weather of Rennes.
- ``cold-start``: every thermostatic heater starts 3-5 K (seeded) below its band's bottom,
  out of reach for hours (winter dates only).
- ``summer-heaters``: a summer round that keeps its heaters (the winter counts, passed
  explicitly): rooms sit above their bands, which the planner must relax (summer dates only).
- ``tight-ev``: every EV's deadline is just after it can reach its target: its
  ``available_from`` plus its charge time rounded up to a step, plus one step (two starts).
- ``long-cycles``: every machine's programme is stretched in time to 4-8 h (the same energy,
  at a proportionally lower power), in a window 1-3 h longer than the cycle, ending at the
  generated ``latest_end`` (moved later, or earlier to the horizon's end, when it must).
- ``huge-surplus``: five times the PV: net load = household load - 5 x PV (the same homes,
  kWp and draws: the weather's ``pv_w_per_kwp`` is scaled by five).
- ``zero-flex``: every device has exactly one valid plan: a machine's window is its cycle
  (from its first allowed step), a water heater's one window is its run (at the start of its
  longest window in the horizon), an EV's deadline is the earliest instant it reaches its
  target (to the second, inside a step), a pilot-wire heater owes comfort on every step of its
  comfort periods; thermostatic heaters are removed.
- ``one-type:<type>``: only the generated devices of one type.
- ``forecast-hole``: a 6 h hole (seeded start) in the net-load forecast, filled flat with the
  last value before it (a persistence fill).

Run as a script to write one case's scenario (e.g. to keep a failing case in
``bench/cases``)::

    python bench/untidy_cases.py cold-start 300 2025-01-23 6 --seed 12 -o case.scenario.json
"""

from __future__ import annotations

import argparse
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from elfe_ems.planner.scenario import (
    AnyDeviceSpec,
    ComfortPeriod,
    EvSpec,
    MachineSpec,
    PilotWireHeaterSpec,
    Scenario,
    ThermostaticHeaterSpec,
    WaterHeaterSpec,
    parse_scenario,
)
from elfe_ems.sim.synthetic import (
    DEVICES_PER_HOME,
    HEATERS,
    Season,
    Weather,
    brittany_weather,
    community_scenario,
)
from elfe_ems.timegrid import STEP_S, STEPS, Grid
from elfe_ems.timegrid.local import local_instant

TZ = ZoneInfo("Europe/Paris")
SUMMER_MONTHS = (5, 6, 7, 8, 9)  # no heating: the generator's "summer"
DEVICE_TYPES = ("machine", "water_heater", "ev", "pilot_wire_heater", "thermostatic_heater")
COLD_START_K = (3.0, 5.0)  # below the band's bottom
LONG_CYCLE_STEPS = (16, 32)  # 4-8 h
LONG_CYCLE_FREEDOM_STEPS = (4, 12)  # 1-3 h
SURPLUS_PV_SCALE = 5.0
HOLE_STEPS = 24  # 6 h


@dataclass(frozen=True)
class UntidyCase:
    """One round to plan: a variant of a seeded community of ``homes`` homes whose round
    starts at ``hour``:00 local time on ``day``."""

    variant: str
    homes: int
    day: date
    hour: int
    seed: int

    @property
    def name(self) -> str:
        return f"{self.variant}/{self.homes}/{self.day.isoformat()}T{self.hour:02d}:00/s{self.seed}"

    @property
    def round_start(self) -> int:
        """The round's start [Unix s]: the local wall-clock hour of the day."""
        return local_instant(self.day, self.hour * 3600, TZ)

    @property
    def season(self) -> Season:
        """The generator's season of the date: heaters from October to April."""
        return "summer" if self.day.month in SUMMER_MONTHS else "winter"

    def to_json(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "homes": self.homes,
            "day": self.day.isoformat(),
            "hour": self.hour,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UntidyCase:
        return cls(
            str(data["variant"]),
            int(data["homes"]),
            date.fromisoformat(data["day"]),
            int(data["hour"]),
            int(data["seed"]),
        )


Rng = np.random.Generator
Variant = Callable[[UntidyCase, Rng], Scenario]


def build(case: UntidyCase) -> Scenario:
    """The case's scenario, validated (the same case always gives the same scenario)."""
    kind, _, option = case.variant.partition(":")
    if kind not in VARIANTS or (kind == "one-type") != bool(option):
        raise ValueError(f"unknown variant {case.variant!r}")
    rng = np.random.default_rng([case.seed, zlib.crc32(case.variant.encode())])
    scenario = VARIANTS[kind](case, rng)
    return parse_scenario(scenario.model_dump(mode="json"), case.name)


def generated(case: UntidyCase, *, heaters: bool = False, pv_scale: float = 1.0) -> Scenario:
    """The case's community under the weather of Rennes (PV scaled by ``pv_scale``); with
    ``heaters``, the winter heater counts whatever the season."""
    grid = Grid(case.round_start, STEP_S, STEPS)
    weather = brittany_weather(grid)
    weather = Weather(weather.outdoor_temp_c, pv_scale * weather.pv_w_per_kwp)
    counts = {f"{kind}s": math.floor(DEVICES_PER_HOME[kind] * case.homes + 0.5) for kind in HEATERS}
    return community_scenario(
        case.homes,
        **(counts if heaters else {}),
        season=case.season,
        round_start=grid.round_start,
        seed=case.seed,
        weather=weather,
    )


def _with_devices(scenario: Scenario, devices: list[AnyDeviceSpec]) -> Scenario:
    return scenario.model_copy(update={"devices": devices})


def _grid(scenario: Scenario) -> Grid:
    return Grid(scenario.round_start, scenario.step_s, scenario.steps)


# ------------------------------------------------------------------------------ variants


def base(case: UntidyCase, _rng: Rng) -> Scenario:
    """The community as generated, with the weather of Rennes."""
    return generated(case)


def cold_start(case: UntidyCase, rng: Rng) -> Scenario:
    """Every thermostatic heater starts 3-5 K below its band's bottom (winter only)."""
    if case.season != "winter":
        raise ValueError(f"{case.name}: cold-start is a winter variant (heaters on)")
    scenario = generated(case)
    devices: list[AnyDeviceSpec] = [
        _cold(d, rng) if isinstance(d, ThermostaticHeaterSpec) else d for d in scenario.devices
    ]
    return _with_devices(scenario, devices)


def _cold(heater: ThermostaticHeaterSpec, rng: Rng) -> ThermostaticHeaterSpec:
    below_k = rng.uniform(*COLD_START_K)
    return heater.model_copy(update={"initial_temp_c": round(heater.comfort_min_c[0] - below_k, 2)})


def summer_heaters(case: UntidyCase, _rng: Rng) -> Scenario:
    """A summer round with the winter heater counts: rooms above their bands."""
    if case.season != "summer":
        raise ValueError(f"{case.name}: summer-heaters is a summer variant")
    return generated(case, heaters=True)


def _charge_steps(ev: EvSpec) -> int:
    """Steps to charge from ``soc_pct`` to ``target_soc_pct``, rounded up."""
    owed_wh = max(0.0, ev.target_soc_pct - ev.soc_pct) / 100 * ev.capacity_wh
    return math.ceil(owed_wh / ev.power_w * 3600 / STEP_S - 1e-9) if ev.power_w else 0


def tight_ev(case: UntidyCase, _rng: Rng) -> Scenario:
    """Every EV's deadline one step after the earliest its charge can end, on the grid."""
    scenario = generated(case)
    devices: list[AnyDeviceSpec] = [
        d.model_copy(update={"deadline": d.available_from + (_charge_steps(d) + 1) * STEP_S})
        if isinstance(d, EvSpec)
        else d
        for d in scenario.devices
    ]
    return _with_devices(scenario, devices)


def stretched_profile(profile_w: list[float], steps: int) -> list[float]:
    """``profile_w`` stretched in time to ``steps`` steps, keeping its energy: each new step
    takes the energy of its share of the old cycle (cumulative energy interpolated)."""
    cumulative = np.concatenate([[0.0], np.cumsum(profile_w)])
    old = np.linspace(0.0, len(profile_w), steps + 1)
    energy = np.diff(np.interp(old, np.arange(len(profile_w) + 1), cumulative))
    return [round(float(w), 1) for w in energy]


def _long_cycle(machine: MachineSpec, grid: Grid, rng: Rng) -> MachineSpec:
    steps = int(rng.integers(LONG_CYCLE_STEPS[0], LONG_CYCLE_STEPS[1] + 1))
    window_s = (steps + int(rng.integers(*LONG_CYCLE_FREEDOM_STEPS, endpoint=True))) * STEP_S
    latest_end = min(max(machine.latest_end, grid.round_start + window_s), grid.end)
    return machine.model_copy(
        update={
            "profile_w": stretched_profile(machine.profile_w, steps),
            "earliest_start": latest_end - window_s,
            "latest_end": latest_end,
        }
    )


def long_cycles(case: UntidyCase, rng: Rng) -> Scenario:
    """Every machine's programme stretched to 4-8 h, in a window 1-3 h longer."""
    scenario = generated(case)
    grid = _grid(scenario)
    devices: list[AnyDeviceSpec] = [
        _long_cycle(d, grid, rng) if isinstance(d, MachineSpec) else d for d in scenario.devices
    ]
    return _with_devices(scenario, devices)


def huge_surplus(case: UntidyCase, _rng: Rng) -> Scenario:
    """Five times the PV: net load = household load - 5 x PV."""
    return generated(case, pv_scale=SURPLUS_PV_SCALE)


def _machine_fixed(machine: MachineSpec, grid: Grid) -> MachineSpec:
    first = max(0, grid.first_step_from(machine.earliest_start))
    start = grid.time_of(min(first, grid.steps - len(machine.profile_w)))
    return machine.model_copy(
        update={"earliest_start": start, "latest_end": start + len(machine.profile_w) * STEP_S}
    )


def _water_heater_fixed(heater: WaterHeaterSpec, grid: Grid) -> WaterHeaterSpec:
    run = math.ceil(heater.energy_wh / (heater.power_w * grid.step_h) - 1e-9)
    cut = [(max(s, grid.round_start), min(e, grid.end)) for s, e in heater.windows]
    start = max(cut, key=lambda window: window[1] - window[0])[0]
    start = grid.time_of(grid.first_step_from(start))
    return heater.model_copy(update={"windows": [(start, start + run * STEP_S)]})


def _ev_fixed(ev: EvSpec) -> EvSpec:
    owed_wh = max(0.0, ev.target_soc_pct - ev.soc_pct) / 100 * ev.capacity_wh
    charge_s = max(STEP_S, math.ceil(owed_wh / ev.power_w * 3600))
    return ev.model_copy(update={"deadline": ev.available_from + charge_s})


def _pilot_wire_fixed(heater: PilotWireHeaterSpec) -> PilotWireHeaterSpec:
    periods = [
        ComfortPeriod(start=p.start, end=p.end, min_comfort_steps=-(-(p.end - p.start) // STEP_S))
        for p in heater.comfort_periods
    ]
    return heater.model_copy(update={"comfort_periods": periods})


def _fixed(device: AnyDeviceSpec, grid: Grid) -> AnyDeviceSpec:
    if isinstance(device, MachineSpec):
        return _machine_fixed(device, grid)
    if isinstance(device, WaterHeaterSpec):
        return _water_heater_fixed(device, grid)
    if isinstance(device, EvSpec):
        return _ev_fixed(device)
    if isinstance(device, PilotWireHeaterSpec):
        return _pilot_wire_fixed(device)
    raise TypeError(f"device {device.id}: {device.type} has no single plan here")


def zero_flex(case: UntidyCase, _rng: Rng) -> Scenario:
    """Every device with exactly one valid plan; thermostatic heaters removed."""
    scenario = generated(case)
    grid = _grid(scenario)
    devices = [
        _fixed(d, grid) for d in scenario.devices if not isinstance(d, ThermostaticHeaterSpec)
    ]
    return _with_devices(scenario, devices)


def one_type(case: UntidyCase, _rng: Rng) -> Scenario:
    """Only the generated devices of one type (``one-type:<type>``)."""
    kind = case.variant.partition(":")[2]
    if kind not in DEVICE_TYPES:
        raise ValueError(f"{case.name}: no device type {kind!r} (one of {DEVICE_TYPES})")
    scenario = generated(case)
    return _with_devices(scenario, [d for d in scenario.devices if d.type == kind])


def forecast_hole(case: UntidyCase, rng: Rng) -> Scenario:
    """A 6 h hole in the net-load forecast, filled flat with the last value before it."""
    scenario = generated(case)
    first = int(rng.integers(1, scenario.steps - HOLE_STEPS + 1))
    net_load_w = list(scenario.net_load_w)
    net_load_w[first : first + HOLE_STEPS] = [net_load_w[first - 1]] * HOLE_STEPS
    return scenario.model_copy(update={"net_load_w": net_load_w})


VARIANTS: dict[str, Variant] = {
    "base": base,
    "cold-start": cold_start,
    "summer-heaters": summer_heaters,
    "tight-ev": tight_ev,
    "long-cycles": long_cycles,
    "huge-surplus": huge_surplus,
    "zero-flex": zero_flex,
    "one-type": one_type,
    "forecast-hole": forecast_hole,
}
VARIANT_NAMES = [name for name in VARIANTS if name != "one-type"] + [
    f"one-type:{kind}" for kind in DEVICE_TYPES
]


def main() -> None:
    """Write one case's scenario as JSON."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("variant", choices=VARIANT_NAMES)
    parser.add_argument("homes", type=int)
    parser.add_argument("day", type=date.fromisoformat, help="local date, YYYY-MM-DD")
    parser.add_argument("hour", type=int, help="local hour of the round's start")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    case = UntidyCase(args.variant, args.homes, args.day, args.hour, args.seed)
    args.output.write_text(build(case).model_dump_json(indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
