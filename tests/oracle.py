"""An independent oracle for plans, written from docs/spec text, not from ``elfe_ems``.

Everything here works on the raw scenario (the decoded JSON ``dict``) and on plain decision lists,
and re-derives from the specification (``docs/spec/scenario.md``) and the relaxations documented in
the device modules' docstrings:

- the power each device draws given its decisions (:func:`device_power_w`);
- the imported energy ``sum_k max(0, net + flex) * step_s / 3600`` (:func:`import_wh`);
- whether a device must be skipped (:func:`must_skip`);
- every constraint of every device (:func:`violations`): the plain constraints of the spec
  for a device without warnings, the documented relaxed constraints for a device with
  warnings, and the shape of the decisions (one start, one run, eco outside comfort periods)
  for every planned device.

Nothing here imports ``elfe_ems``: the tests compare the planner with this file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Device = Mapping[str, Any]
Scenario = Mapping[str, Any]

ENERGY_TOL_WH = 1e-6  # an EV target met within this is met
TEMP_TOL_K = 1e-4  # a band held within this is held (solver tolerances add up in T[k])
CEIL_TOL = 1e-9  # energy / (power * step_h) this close above an integer is that integer


class MalformedDecisionsError(ValueError):
    """Decisions that do not describe any run of the device (e.g. no start for a machine)."""


@dataclass(frozen=True)
class Horizon:
    """The time grid of a scenario: step k covers [round_start + k step_s, ... + step_s)."""

    round_start: int
    step_s: int
    steps: int

    @classmethod
    def of(cls, scenario: Scenario) -> Horizon:
        return cls(
            int(scenario["round_start"]),
            int(scenario.get("step_s", 900)),
            int(scenario.get("steps", 96)),
        )

    @property
    def end(self) -> int:
        return self.round_start + self.steps * self.step_s

    @property
    def step_h(self) -> float:
        return self.step_s / 3600

    def start_of(self, k: int) -> int:
        return self.round_start + k * self.step_s

    def first_step_at_or_after(self, t: int) -> int:
        """Smallest k (any sign) with start_of(k) >= t."""
        return -(-(t - self.round_start) // self.step_s)

    def steps_done_by(self, t: int) -> int:
        """Largest k (any sign) with start_of(k) <= t: steps 0..k-1 have ended by t."""
        return (t - self.round_start) // self.step_s

    def first_allowed(self, t: int) -> int:
        """First step starting at or after t, and not before the round start."""
        return max(0, self.first_step_at_or_after(t))


# ---------------------------------------------------------------------------------------
# decisions


def _single_start(decisions: Sequence[int]) -> int:
    ones = [k for k, d in enumerate(decisions) if d]
    if len(ones) != 1:
        raise MalformedDecisionsError(f"expected exactly one start, got {len(ones)} ones")
    return ones[0]


def _single_run(decisions: Sequence[int]) -> tuple[int, int]:
    """[first, end) of the one contiguous run of ones."""
    ones = [k for k, d in enumerate(decisions) if d]
    if not ones:
        raise MalformedDecisionsError("expected one run, got no step on")
    first, end = ones[0], ones[-1] + 1
    if len(ones) != end - first:
        raise MalformedDecisionsError(f"expected one contiguous run, got steps {ones}")
    return first, end


# ---------------------------------------------------------------------------------------
# power


def machine_power_w(h: Horizon, dev: Device, decisions: Sequence[int]) -> np.ndarray:
    start = _single_start(decisions)
    power = np.zeros(h.steps)
    for j, p in enumerate(dev["profile_w"]):
        if start + j < h.steps:
            power[start + j] = p
    return power


def water_heater_power_w(_h: Horizon, dev: Device, decisions: Sequence[int]) -> np.ndarray:
    return float(dev["power_w"]) * np.asarray(decisions, dtype=float)


def ev_to_full_wh(dev: Device) -> float:
    return (100 - dev["soc_pct"]) / 100 * dev["capacity_wh"]


def ev_owed_wh(dev: Device) -> float:
    return max(0.0, dev["target_soc_pct"] - dev["soc_pct"]) / 100 * dev["capacity_wh"]


def ev_deadline_passed(h: Horizon, dev: Device) -> bool:
    """The deadline is at or before the first time the car may start: it charges until full."""
    return dev["deadline"] <= h.start_of(h.first_allowed(dev["available_from"]))


def ev_charge_interval(h: Horizon, dev: Device, start: int) -> tuple[float, float]:
    """[begin, stop) in Unix seconds of the charge switched on at step ``start``."""
    begin = h.start_of(start)
    stop = begin + ev_to_full_wh(dev) / dev["power_w"] * 3600
    if not ev_deadline_passed(h, dev):
        stop = min(stop, dev["deadline"])
    return begin, max(begin, stop)


def ev_power_for_start(h: Horizon, dev: Device, start: int) -> np.ndarray:
    begin, stop = ev_charge_interval(h, dev, start)
    power = np.zeros(h.steps)
    for k in range(h.steps):
        lo, hi = max(begin, h.start_of(k)), min(stop, h.start_of(k + 1))
        if hi > lo:
            power[k] = dev["power_w"] * (hi - lo) / h.step_s
    return power


def ev_power_w(h: Horizon, dev: Device, decisions: Sequence[int]) -> np.ndarray:
    return ev_power_for_start(h, dev, _single_start(decisions))


def pilot_wire_power_w(_h: Horizon, dev: Device, decisions: Sequence[int]) -> np.ndarray:
    eco, comfort = float(dev["eco_power_w"]), float(dev["comfort_power_w"])
    return eco + (comfort - eco) * np.asarray(decisions, dtype=float)


def thermostatic_power_w(_h: Horizon, dev: Device, decisions: Sequence[int]) -> np.ndarray:
    return float(dev["power_w"]) * np.asarray(decisions, dtype=float)


_POWER = {
    "machine": machine_power_w,
    "water_heater": water_heater_power_w,
    "ev": ev_power_w,
    "pilot_wire_heater": pilot_wire_power_w,
    "thermostatic_heater": thermostatic_power_w,
}


def device_power_w(scenario: Scenario, dev: Device, decisions: Sequence[int]) -> np.ndarray:
    """Mean power [W] per step that ``dev`` draws under ``decisions`` (planned devices)."""
    h = Horizon.of(scenario)
    if len(decisions) != h.steps:
        raise MalformedDecisionsError(f"{len(decisions)} decisions for {h.steps} steps")
    return _POWER[dev["type"]](h, dev, decisions)


def import_wh(scenario: Scenario, flex_w: Sequence[float]) -> float:
    """Imported energy [Wh]: sum_k max(0, net_load_w[k] + flex_w[k]) * step_s / 3600."""
    h = Horizon.of(scenario)
    net = np.asarray(scenario["net_load_w"], dtype=float)
    return float(sum(max(0.0, n + f) for n, f in zip(net, flex_w, strict=True)) * h.step_h)


def plan_import_wh(scenario: Scenario, decisions: Mapping[int, Sequence[int] | None]) -> float:
    """Import of a plan given each device's decisions by id (``None``: skipped, no power)."""
    h = Horizon.of(scenario)
    flex = np.zeros(h.steps)
    for dev in scenario["devices"]:
        d = decisions[dev["id"]]
        if d is not None:
            flex += device_power_w(scenario, dev, d)
    return import_wh(scenario, flex)


# ---------------------------------------------------------------------------------------
# which devices are left to a later round


def _water_heater_windows(h: Horizon, dev: Device) -> list[tuple[int, int]]:
    """Windows as [first step, end step) inside the horizon, empty ones dropped."""
    cut = []
    for start, end in dev["windows"]:
        first = h.first_allowed(start)
        last = min(h.steps, h.steps_done_by(end))
        if last > first:
            cut.append((first, last))
    return cut


def water_heater_run_steps(h: Horizon, dev: Device) -> set[int]:
    """Acceptable run lengths: ceil(energy / (power * step_h)), allowing float noise."""
    ratio = dev["energy_wh"] / (dev["power_w"] * h.step_h)
    accepted = {max(1, math.ceil(ratio))}
    nearest = round(ratio)
    if nearest >= 1 and abs(ratio - nearest) <= CEIL_TOL * max(1.0, ratio):
        accepted.add(nearest)
    return accepted


def _water_heater_waits(h: Horizon, dev: Device) -> bool:
    """No window holds the run within the horizon, but one that goes on past the horizon would
    (a later round sees further)."""
    run = min(water_heater_run_steps(h, dev))
    spans = [(h.first_allowed(s), h.steps_done_by(e)) for s, e in dev["windows"]]
    spans = [(a, b) for a, b in spans if min(h.steps, b) > a]
    return not any(min(h.steps, b) - a >= run for a, b in spans) and any(
        b - a >= run for a, b in spans
    )


def must_skip(scenario: Scenario, dev: Device) -> bool:
    """The device cannot be planned in this round (spec + module docstrings)."""
    h = Horizon.of(scenario)
    kind = dev["type"]
    if kind == "machine":
        first = h.first_allowed(dev["earliest_start"])
        # its cycle cannot end in the horizon, unless it is longer than the horizon and may
        # start now (then it starts now, cut at the horizon)
        return first + len(dev["profile_w"]) > h.steps and first > 0
    if kind == "water_heater":
        return (
            dev["energy_wh"] == 0
            or dev["power_w"] == 0
            or not _water_heater_windows(h, dev)
            or _water_heater_waits(h, dev)
        )
    if kind == "ev":
        return (
            dev["capacity_wh"] == 0
            or dev["soc_pct"] >= 100
            or dev["power_w"] == 0
            or h.first_allowed(dev["available_from"]) >= h.steps
        )
    return False  # heaters are planned every round


# ---------------------------------------------------------------------------------------
# constraints


def _machine(scenario: Scenario, dev: Device, decisions: Sequence[int], relaxed: bool) -> list[str]:
    h = Horizon.of(scenario)
    start = _single_start(decisions)
    length = len(dev["profile_w"])
    if not relaxed:  # the spec as written
        problems = []
        if h.start_of(start) < dev["earliest_start"]:
            problems.append(f"starts at step {start}, before earliest_start")
        if h.start_of(start + length) > dev["latest_end"]:
            problems.append(f"cycle from step {start} ends after latest_end")
        if start + length > h.steps:
            problems.append(f"cycle from step {start} ends after the horizon")
        return problems
    first = h.first_allowed(dev["earliest_start"])
    if length > h.steps:  # started now, cut at the horizon
        allowed = range(0, 1)
    elif dev["latest_end"] <= h.round_start or h.steps_done_by(dev["latest_end"]) - first < length:
        allowed = range(first, first + 1)  # as soon as allowed
    else:
        allowed = range(first, min(h.steps_done_by(dev["latest_end"]), h.steps) - length + 1)
    return [] if start in allowed else [f"relaxed: start {start} not in {allowed}"]


def _water_heater(
    scenario: Scenario, dev: Device, decisions: Sequence[int], relaxed: bool
) -> list[str]:
    h = Horizon.of(scenario)
    first, end = _single_run(decisions)
    lengths = water_heater_run_steps(h, dev)
    inside = [
        (a, b)
        for a, b in dev["windows"]
        if a <= h.start_of(first) and h.start_of(end) <= b and end <= h.steps
    ]
    if not relaxed:
        problems = []
        if end - first not in lengths:
            problems.append(f"run of {end - first} steps, expected {sorted(lengths)}")
        if not inside:
            problems.append(f"run [{first}, {end}) is not inside one window within the horizon")
        return problems
    cut = _water_heater_windows(h, dev)
    longest = max(b - a for a, b in cut)
    if min(lengths) <= longest:  # it fits: the plain rule
        return _water_heater(scenario, dev, decisions, relaxed=False)
    if end - first == longest and (first, end) in cut:
        return []
    return [f"relaxed: run [{first}, {end}) is not the longest window of {cut}"]


def ev_reaches_target(h: Horizon, dev: Device, start: int) -> bool:
    target_by = min(dev["deadline"], h.end)
    begin, stop = ev_charge_interval(h, dev, start)
    charged_wh = dev["power_w"] * max(0.0, min(stop, target_by) - begin) / 3600
    return charged_wh >= ev_owed_wh(dev) - ENERGY_TOL_WH


def ev_start_allowed(h: Horizon, dev: Device, start: int) -> bool:
    """The car is there (from ``available_from``, strictly before its ``deadline``: a start
    must leave time to charge) and the charge from ``start`` reaches the target by
    min(deadline, horizon end)."""
    t = h.start_of(start)
    return dev["available_from"] <= t < dev["deadline"] and ev_reaches_target(h, dev, start)


def _ev(scenario: Scenario, dev: Device, decisions: Sequence[int], relaxed: bool) -> list[str]:
    h = Horizon.of(scenario)
    start = _single_start(decisions)
    if not relaxed:
        problems = []
        if h.start_of(start) < dev["available_from"]:
            problems.append(f"starts at step {start}, before available_from")
        if h.start_of(start) >= dev["deadline"]:
            problems.append(f"starts at step {start}, after the car has left")
        if not ev_reaches_target(h, dev, start):
            problems.append(f"start at step {start} misses the target by min(deadline, end)")
        return problems
    first = h.first_allowed(dev["available_from"])
    reachable = [s for s in range(first, h.steps) if ev_start_allowed(h, dev, s)]
    if ev_deadline_passed(h, dev) or not reachable:  # charges from the first allowed step
        return [] if start == first else [f"relaxed: start {start}, expected {first}"]
    return [] if start in reachable else [f"relaxed: start {start} not in {reachable}"]


def pilot_wire_periods(h: Horizon, dev: Device) -> list[tuple[int, int, int]]:
    """Comfort periods as ([first, end) steps, comfort owed), snapped outward, cut."""
    periods = []
    for p in dev["comfort_periods"]:
        first = max(0, h.steps_done_by(p["start"]))
        end = min(h.steps, h.first_step_at_or_after(p["end"]))
        if end > first:
            periods.append((first, end, p["min_comfort_steps"]))
    return periods


def _pilot_wire_runs(
    dev: Device, decisions: Sequence[int], first: int, end: int, relaxed: bool
) -> list[str]:
    """The window rule on a period: at most ``window - least`` eco steps in any ``window``
    consecutive steps of it (the whole period when shorter), the period in progress at the
    round start going on from its ``applied_before`` steps. Relaxed: a run whose applied steps
    leave too few comfort steps needs comfort on all its planned steps instead."""
    window = dev.get("window_steps", 4)
    least = dev.get("min_comfort_in_window", 3)
    applied = list(dev.get("applied_before") or []) if first == 0 else []
    values = applied + list(decisions[first:end])  # values[i] is step first - len(applied) + i
    if len(values) < window:
        runs = [(0, len(values), max(0, len(values) - (window - least)))]
    else:
        runs = [(i, i + window, least) for i in range(len(values) - window + 1)]
    problems = []
    for i, j, rule in runs:
        need = rule
        if relaxed:  # the applied comfort steps of the run and all its planned steps
            need = min(rule, sum(values[i : min(j, len(applied))]) + j - max(i, len(applied)))
        if sum(values[i:j]) < need:
            s, e = i - len(applied) + first, j - len(applied) + first
            problems.append(f"run [{s}, {e}): {sum(values[i:j])} comfort steps, need {need}")
    return problems


def _pilot_wire(
    scenario: Scenario, dev: Device, decisions: Sequence[int], relaxed: bool
) -> list[str]:
    h = Horizon.of(scenario)
    periods = pilot_wire_periods(h, dev)
    covered = {k for first, end, _ in periods for k in range(first, end)}
    problems = [
        f"comfort at step {k}, outside every period"
        for k in range(h.steps)
        if decisions[k] and k not in covered
    ]
    for first, end, owed in periods:
        need_owed = min(owed, end - first) if relaxed else owed
        given = sum(decisions[first:end])
        if given < need_owed:
            problems.append(f"period [{first}, {end}): {given} comfort steps, {need_owed} owed")
        problems += _pilot_wire_runs(dev, decisions, first, end, relaxed)
    return problems


def thermostatic_temperatures_c(scenario: Scenario, dev: Device, u: Sequence[int]) -> np.ndarray:
    """T[k+1] for k = 0..steps-1 by the 1R1C recurrence."""
    h = Horizon.of(scenario)
    a = math.exp(-h.step_s / (dev["r_k_per_w"] * dev["c_j_per_k"]))
    temps = np.empty(h.steps)
    t = dev["initial_temp_c"]
    for k in range(h.steps):
        t = a * t + (1 - a) * (
            scenario["outdoor_temp_c"][k] + dev["r_k_per_w"] * dev["power_w"] * u[k]
        )
        temps[k] = t
    return temps


def thermostatic_miss_k(scenario: Scenario, dev: Device, u: Sequence[int]) -> float:
    """Total miss of the band [K·step] under ``u``."""
    temps = thermostatic_temperatures_c(scenario, dev, u)
    low = np.maximum(0.0, np.asarray(dev["comfort_min_c"]) - temps)
    high = np.maximum(0.0, temps - np.asarray(dev["comfort_max_c"]))
    return float((low + high).sum())


def _thermostatic(scenario: Scenario, dev: Device, u: Sequence[int], relaxed: bool) -> list[str]:
    if relaxed:  # the band is missed by the least amount: not checked here
        return []
    temps = thermostatic_temperatures_c(scenario, dev, u)
    return [
        f"T[{k + 1}] = {t:.6f} outside [{lo}, {hi}]"
        for k, (t, lo, hi) in enumerate(
            zip(temps, dev["comfort_min_c"], dev["comfort_max_c"], strict=True)
        )
        if t < lo - TEMP_TOL_K or t > hi + TEMP_TOL_K
    ]


_CHECKS = {
    "machine": _machine,
    "water_heater": _water_heater,
    "ev": _ev,
    "pilot_wire_heater": _pilot_wire,
    "thermostatic_heater": _thermostatic,
}


def violations(
    scenario: Scenario, dev: Device, decisions: Sequence[int], relaxed: bool = False
) -> list[str]:
    """Every constraint ``decisions`` break, as readable lines (empty: all hold).

    ``relaxed=False``: the plain constraints of the spec (a device planned without warnings).
    ``relaxed=True``: the documented relaxations (a device planned with warnings). Either way
    the decisions must be 0/1, one per step, and describe one run of the device.
    """
    h = Horizon.of(scenario)
    if len(decisions) != h.steps:
        return [f"{len(decisions)} decisions for {h.steps} steps"]
    if any(d not in (0, 1) for d in decisions):
        return [f"decisions are not 0/1: {list(decisions)}"]
    try:
        return _CHECKS[dev["type"]](scenario, dev, decisions, relaxed)
    except MalformedDecisionsError as error:
        return [str(error)]
