"""The planner's optimum equals an independent MILP's, written from the spec with scipy.

The reference formulation shares nothing with ``elfe_ems`` but the spec: every one-start
device (machine, water heater, EV) has one binary per step of the horizon, forbidden starts
bounded to 0, and its power curve per start from the oracle; pilot-wire heaters have one
binary per step (0 outside comfort periods); thermostatic heaters have one binary per step and
no temperature variables (the 1R1C recurrence is unrolled into the band rows); the import is a
continuous variable per step, at least ``net + flex`` and at least 0, in Wh.

Instances here have no relaxation (the plain spec), checked by the absence of warnings.
A separate test checks that a band out of reach is missed by the least amount.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

import oracle
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import Plan, parse_scenario

OPTIONS = SolveOptions(time_limit_s=10, gap=0, peak_tolerance=0)  # the optimum itself
REL_TOL = 1e-6
ABS_TOL_WH = 1e-3  # HiGHS's default absolute MIP gap is 1e-6 in the planner's kWh objective
RS = 1_888_889 * 900
STEP_S = 900

Raw = dict[str, Any]


# ---------------------------------------------------------------------------------------
# the reference MILP


class Reference:
    """The reference model of one scenario, built column by column."""

    def __init__(self, raw: Raw) -> None:
        self.raw = raw
        self.h = oracle.Horizon.of(raw)
        n = self.h.steps
        self.lower: list[float] = [0.0] * n  # the import columns e[k] [Wh] come first
        self.upper: list[float] = [np.inf] * n
        self.integral: list[int] = [0] * n
        self.cost: list[float] = [1.0] * n
        self.balance: list[tuple[int, int, float]] = []  # (step, column, W per unit)
        self.constant_w = np.zeros(n)
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self.decoders: dict[int, Any] = {}

    def binaries(self, allowed: list[bool]) -> list[int]:
        first = len(self.lower)
        self.lower += [0.0] * len(allowed)
        self.upper += [1.0 if a else 0.0 for a in allowed]
        self.integral += [1] * len(allowed)
        self.cost += [0.0] * len(allowed)
        return list(range(first, first + len(allowed)))

    def continuous(self, count: int) -> list[int]:
        first = len(self.lower)
        self.lower += [0.0] * count
        self.upper += [np.inf] * count
        self.integral += [0] * count
        self.cost += [0.0] * count
        return list(range(first, first + count))

    def one_start(self, dev: Raw, allowed: list[bool], curves: list[np.ndarray]) -> None:
        cols = self.binaries(allowed)
        for s, col in enumerate(cols):
            self.balance += [(k, col, float(w)) for k, w in enumerate(curves[s]) if w]
        self.rows.append(({c: 1.0 for c in cols}, 1.0, 1.0))

        def decode(x: np.ndarray, run: int = 1) -> list[int]:
            start = int(np.argmax(x[cols]))
            return [1 if start <= k < start + run else 0 for k in range(self.h.steps)]

        if dev["type"] == "water_heater":
            (run,) = oracle.water_heater_run_steps(self.h, dev)
            self.decoders[dev["id"]] = lambda x: decode(x, run)
        else:
            self.decoders[dev["id"]] = decode

    def machine(self, dev: Raw) -> None:
        h, length = self.h, len(dev["profile_w"])
        allowed = [
            h.start_of(s) >= dev["earliest_start"]
            and h.start_of(s + length) <= dev["latest_end"]
            and s + length <= h.steps
            for s in range(h.steps)
        ]
        curves = []
        for s in range(h.steps):
            curve = np.zeros(h.steps)
            for j, p in enumerate(dev["profile_w"]):
                if s + j < h.steps:
                    curve[s + j] = p
            curves.append(curve)
        self.one_start(dev, allowed, curves)

    def water_heater(self, dev: Raw) -> None:
        h = self.h
        (run,) = oracle.water_heater_run_steps(h, dev)
        allowed = [
            s + run <= h.steps
            and any(a <= h.start_of(s) and h.start_of(s + run) <= b for a, b in dev["windows"])
            for s in range(h.steps)
        ]
        curves = [
            np.array([dev["power_w"] if s <= k < s + run else 0.0 for k in range(h.steps)])
            for s in range(h.steps)
        ]
        self.one_start(dev, allowed, curves)

    def ev(self, dev: Raw) -> None:
        h = self.h
        allowed = [oracle.ev_start_allowed(h, dev, s) for s in range(h.steps)]
        self.one_start(dev, allowed, [oracle.ev_power_for_start(h, dev, s) for s in range(h.steps)])

    def pilot_wire_heater(self, dev: Raw) -> None:
        h = self.h
        periods = oracle.pilot_wire_periods(h, dev)
        covered = [any(a <= k < b for a, b, _ in periods) for k in range(h.steps)]
        cols = self.binaries(covered)
        extra = dev["comfort_power_w"] - dev["eco_power_w"]
        self.balance += [(k, c, extra) for k, c in enumerate(cols)]
        self.constant_w += dev["eco_power_w"]
        window = dev.get("window_steps", 4)
        least = dev.get("min_comfort_in_window", 3)
        for first, end, owed in periods:
            self.rows.append(({cols[k]: 1.0 for k in range(first, end)}, owed, np.inf))
            if end - first < window:
                need = end - first - (window - least)
                self.rows.append(({cols[k]: 1.0 for k in range(first, end)}, need, np.inf))
            for s in range(first, end - window + 1):
                self.rows.append(({cols[k]: 1.0 for k in range(s, s + window)}, least, np.inf))
        self.decoders[dev["id"]] = lambda x: [round(v) for v in x[cols]]

    def _band_terms(self, dev: Raw, u: list[int]) -> tuple[np.ndarray, list[dict[int, float]]]:
        """T[k+1] = free[k] + sum_j terms[k][j] u[j] (the recurrence unrolled)."""
        h = self.h
        a = math.exp(-h.step_s / (dev["r_k_per_w"] * dev["c_j_per_k"]))
        out = self.raw["outdoor_temp_c"]
        rise = (1 - a) * dev["r_k_per_w"] * dev["power_w"]
        free = np.empty(h.steps)
        terms = []
        for k in range(h.steps):
            free[k] = a ** (k + 1) * dev["initial_temp_c"] + sum(
                a ** (k - j) * (1 - a) * out[j] for j in range(k + 1)
            )
            terms.append({u[j]: a ** (k - j) * rise for j in range(k + 1)})
        return free, terms

    def thermostatic_heater(self, dev: Raw, with_miss: bool = False) -> list[int]:
        h = self.h
        u = self.binaries([True] * h.steps)
        self.balance += [(k, c, dev["power_w"]) for k, c in enumerate(u)]
        free, terms = self._band_terms(dev, u)
        miss = self.continuous(2 * h.steps) if with_miss else []
        for k in range(h.steps):
            row = dict(terms[k])
            if with_miss:  # T + lo - hi in the band
                row[miss[k]] = 1.0
                row[miss[h.steps + k]] = -1.0
            self.rows.append(
                (row, dev["comfort_min_c"][k] - free[k], dev["comfort_max_c"][k] - free[k])
            )
        self.decoders[dev["id"]] = lambda x: [round(v) for v in x[u]]
        return miss

    def solve(self, cost: list[float] | None = None, *, may_fail: bool = False) -> np.ndarray:
        """The reference optimum's columns; with ``may_fail``, an example HiGHS cannot solve
        (solve error even without presolve, seen on some least-miss models) is rejected
        instead of failing the test."""
        h, n_cols = self.h, len(self.lower)
        rows = list(self.rows)
        net = np.asarray(self.raw["net_load_w"], dtype=float) + self.constant_w
        by_step: list[dict[int, float]] = [{k: 1.0} for k in range(h.steps)]
        for k, col, w in self.balance:  # e[k] - step_h * flex[k] >= step_h * net[k]
            by_step[k][col] = by_step[k].get(col, 0.0) - h.step_h * w
        rows += [(by_step[k], h.step_h * net[k], np.inf) for k in range(h.steps)]
        matrix = np.zeros((len(rows), n_cols))
        for i, (coefs, _, _) in enumerate(rows):
            for col, value in coefs.items():
                matrix[i, col] += value
        problem = {
            "c": np.asarray(self.cost if cost is None else cost),
            "integrality": np.asarray(self.integral),
            "bounds": Bounds(self.lower, self.upper),
            "constraints": LinearConstraint(matrix, [r[1] for r in rows], [r[2] for r in rows]),
        }
        result = milp(**problem, options={"mip_rel_gap": 0, "time_limit": 60})
        if result.status == 4:  # HiGHS's presolve sometimes ends in "solve error": without it
            result = milp(
                **problem, options={"mip_rel_gap": 0, "time_limit": 60, "presolve": False}
            )
        if may_fail and not result.success:
            assume(False)
        assert result.success, result.message
        return result.x


def reference_optimum(raw: Raw) -> tuple[float, dict[int, list[int]]]:
    """The least import [Wh] by the reference model, and decisions that achieve it."""
    ref = Reference(raw)
    for dev in raw["devices"]:
        getattr(ref, dev["type"])(dev)
    x = ref.solve()
    decisions = {i: decode(x) for i, decode in ref.decoders.items()}
    for dev in raw["devices"]:  # the reference's own plan keeps the spec
        assert not oracle.violations(raw, dev, decisions[dev["id"]]), dev
    return oracle.plan_import_wh(raw, decisions), decisions


def least_miss_k(raw: Raw, dev: Raw) -> float:
    """The least total miss [K·step] of a thermostatic heater's band, alone."""
    ref = Reference({**raw, "devices": [dev]})
    miss = ref.thermostatic_heater(dev, with_miss=True)
    cost = [0.0] * len(ref.lower)
    for col in miss:
        cost[col] = 1.0
    x = ref.solve(cost, may_fail=True)
    return oracle.thermostatic_miss_k(raw, dev, ref.decoders[dev["id"]](x))


def plan_of(raw: Raw) -> Plan:
    plan, _ = solve(parse_scenario(raw), OPTIONS)
    return plan


def assert_same_optimum(raw: Raw) -> None:
    plan = plan_of(raw)
    for d in plan.devices:
        assert d.status == "planned", d
        assert not d.warnings, d
    best, decisions = reference_optimum(raw)
    assert plan.import_wh == pytest.approx(best, rel=REL_TOL, abs=ABS_TOL_WH), (
        f"planner {plan.import_wh} Wh, reference optimum {best} Wh with {decisions}"
    )


# ---------------------------------------------------------------------------------------
# hand-written instances


def at(step: int, offset_s: int = 0) -> int:
    return RS + step * STEP_S + offset_s


def scenario(net: list[float], devices: list[Raw], outdoor: list[float] | None = None) -> Raw:
    raw: Raw = {
        "format": "elfe-ems.scenario/1",
        "round_start": RS,
        "step_s": STEP_S,
        "steps": len(net),
        "net_load_w": net,
        "devices": [{"id": i + 1, **d} for i, d in enumerate(devices)],
    }
    if outdoor is not None:
        raw["outdoor_temp_c"] = outdoor
    return raw


def band_around(outdoor: list[float], dev: Raw, u: list[int], margin: float) -> Raw:
    grid = {"round_start": RS, "step_s": STEP_S, "steps": len(u), "outdoor_temp_c": outdoor}
    temps = oracle.thermostatic_temperatures_c(grid, dev, u)
    return {
        **dev,
        "comfort_min_c": [t - margin for t in temps],
        "comfort_max_c": [t + margin for t in temps],
    }


SURPLUS_MIDDAY = [600, 500, 400, -800, -1500, -2200, -2000, -900, 300, 700, 800, 900]
EVENING = [
    200,
    -300,
    -1800,
    -2500,
    -2500,
    -1200,
    400,
    900,
    1500,
    1800,
    1200,
    800,
    600,
    500,
    400,
    300,
]
OUTDOOR = [2.0, 1.5, 1.0, 1.0, 2.0, 4.0, 6.0, 8.0, 9.0, 9.5, 9.0, 7.0, 5.0, 4.0, 3.0, 2.5]
THERMO = {
    "type": "thermostatic_heater",
    "power_w": 1500,
    "r_k_per_w": 0.012,
    "c_j_per_k": 2.5e6,
    "initial_temp_c": 19.0,
}
HAND_WRITTEN = {
    "two machines share the surplus": scenario(
        SURPLUS_MIDDAY,
        [
            {
                "type": "machine",
                "profile_w": [2000, 800, 1200],
                "earliest_start": at(0),
                "latest_end": at(12),
            },
            {
                "type": "machine",
                "profile_w": [1800, 1800],
                "earliest_start": at(1, 300),
                "latest_end": at(9, 450),
            },
        ],
    ),
    "water heater and EV against a deadline": scenario(
        EVENING,
        [
            {
                "type": "water_heater",
                "power_w": 2200,
                "energy_wh": 1500,
                "windows": [[at(0), at(4)], [at(6, -200), at(15)]],
            },
            {
                "type": "ev",
                "power_w": 3700,
                "capacity_wh": 40_000,
                "soc_pct": 55,
                "target_soc_pct": 62.5,
                "available_from": at(1, -120),
                "deadline": at(11, 400),
            },
            {
                "type": "ev",
                "power_w": 7400,
                "capacity_wh": 50_000,
                "soc_pct": 93,
                "target_soc_pct": 95,
                "available_from": at(0),
                "deadline": at(30),
            },
        ],
    ),
    "pilot-wire and thermostatic heaters": scenario(
        EVENING,
        [
            {
                "type": "pilot_wire_heater",
                "eco_power_w": 300,
                "comfort_power_w": 1400,
                "comfort_periods": [
                    {"start": at(1), "end": at(9), "min_comfort_steps": 5},
                    {"start": at(11, 300), "end": at(13), "min_comfort_steps": 1},
                ],
            },
            band_around(OUTDOOR, THERMO, [1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1], 0.6),
        ],
        OUTDOOR,
    ),
    "one of every type": scenario(
        EVENING,
        [
            {
                "type": "machine",
                "profile_w": [500, 2100, 300],
                "earliest_start": at(2),
                "latest_end": at(16),
            },
            {
                "type": "water_heater",
                "power_w": 1800,
                "energy_wh": 2000,
                "windows": [[at(0), at(8)]],
            },
            {
                "type": "ev",
                "power_w": 2300,
                "capacity_wh": 20_000,
                "soc_pct": 40,
                "target_soc_pct": 50,
                "available_from": at(0),
                "deadline": at(14),
            },
            {
                "type": "pilot_wire_heater",
                "eco_power_w": 200,
                "comfort_power_w": 1000,
                "comfort_periods": [{"start": at(4), "end": at(7), "min_comfort_steps": 3}],
                "window_steps": 4,
                "min_comfort_in_window": 2,
            },
            band_around(OUTDOOR, THERMO, [1, 0] * 8, 0.4),
        ],
        OUTDOOR,
    ),
    # the best plan starts the EV in the last step before its deadline and puts the heater's
    # comfort in the surplus; a stale warm start once came back as "optimal" instead
    "EV with nothing owed and a pilot-wire heater": scenario(
        [0.0] * 10 + [-1000.0, 0.0],
        [
            {
                "type": "ev",
                "power_w": 1000.0,
                "capacity_wh": 5000.0,
                "soc_pct": 0.0,
                "target_soc_pct": 0.0,
                "available_from": at(0),
                "deadline": at(12),
            },
            {
                "type": "pilot_wire_heater",
                "eco_power_w": 0.0,
                "comfort_power_w": 500.0,
                "comfort_periods": [{"start": at(0), "end": at(11), "min_comfort_steps": 0}],
                "window_steps": 4,
                "min_comfort_in_window": 2,
            },
        ],
    ),
}


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_hand_written_instances(name: str) -> None:
    assert_same_optimum(HAND_WRITTEN[name])


# ---------------------------------------------------------------------------------------
# generated instances (no relaxation needed)


@st.composite
def plain_machine(draw: st.DrawFn, steps: int) -> Raw:
    length = draw(st.integers(1, 4))
    first = draw(st.integers(0, steps - length))
    off = draw(st.sampled_from([0, 0, -draw(st.integers(1, STEP_S - 1))]))
    earliest = at(first, off)  # rounds up to step ``first``
    last_end = draw(st.integers(first + length, steps + 3))
    return {
        "type": "machine",
        "profile_w": draw(
            st.lists(st.integers(100, 2500).map(float), min_size=length, max_size=length)
        ),
        "earliest_start": earliest,
        "latest_end": at(last_end, draw(st.sampled_from([0, 0, draw(st.integers(1, STEP_S - 1))]))),
    }


@st.composite
def plain_water_heater(draw: st.DrawFn, steps: int) -> Raw:
    windows = []
    for _ in range(draw(st.integers(1, 2))):
        first = draw(st.integers(0, steps - 1))
        end = draw(st.integers(first + 1, steps + 2))
        windows.append([at(first, -draw(st.integers(0, 400))), at(end, draw(st.integers(0, 400)))])
    longest = max(min(steps, (b - RS) // STEP_S) - -(-(a - RS) // STEP_S) for a, b in windows)
    run = draw(st.integers(1, max(1, longest)))
    power = float(draw(st.integers(800, 3000)))
    fraction = draw(st.floats(0.05, 0.95))
    return {
        "type": "water_heater",
        "power_w": power,
        "energy_wh": power * STEP_S / 3600 * (run - fraction),
        "windows": windows,
    }


@st.composite
def plain_ev(draw: st.DrawFn, steps: int) -> Raw:
    power = float(draw(st.integers(1000, 7400)))
    capacity = float(draw(st.integers(5000, 60_000)))
    soc = draw(st.floats(0, 95))
    first = draw(st.integers(0, steps // 2))
    available = at(first, -draw(st.sampled_from([0, 0, 450])))
    deadline = at(draw(st.integers(first + 1, steps + 6)), draw(st.sampled_from([0, 0, 300])))
    target_by = min(deadline, at(steps))
    reachable_wh = power * (target_by - at(first)) / 3600
    most = min(100 - soc, reachable_wh / capacity * 100)
    return {
        "type": "ev",
        "power_w": power,
        "capacity_wh": capacity,
        "soc_pct": soc,
        "target_soc_pct": soc + most * draw(st.floats(0, 0.95)),
        "available_from": available,
        "deadline": deadline,
    }


@st.composite
def plain_pilot_wire(draw: st.DrawFn, steps: int) -> Raw:
    periods = []
    for _ in range(draw(st.integers(1, 2))):
        first = draw(st.integers(0, steps - 1))
        end = draw(st.integers(first + 1, steps + 2))
        owed = draw(st.integers(0, min(end, steps) - first))
        periods.append({"start": at(first), "end": at(end), "min_comfort_steps": owed})
    dev: Raw = {
        "type": "pilot_wire_heater",
        "eco_power_w": float(draw(st.integers(0, 800))),
        "comfort_power_w": float(draw(st.integers(500, 2500))),
        "comfort_periods": periods,
    }
    if draw(st.booleans()):
        dev["window_steps"] = window = draw(st.integers(1, 5))
        dev["min_comfort_in_window"] = draw(st.integers(0, window))
    return dev


@st.composite
def plain_thermostatic(draw: st.DrawFn, steps: int, outdoor: list[float]) -> Raw:
    dev = {
        "type": "thermostatic_heater",
        "power_w": float(draw(st.integers(500, 3000))),
        "r_k_per_w": draw(st.floats(0.004, 0.03)),
        "c_j_per_k": draw(st.floats(5e5, 1e7)),
        "initial_temp_c": draw(st.floats(15, 22)),
    }
    u = draw(st.lists(st.integers(0, 1), min_size=steps, max_size=steps))
    return band_around(outdoor, dev, u, draw(st.floats(0.05, 2)))


@st.composite
def plain_scenarios(draw: st.DrawFn) -> Raw:
    steps = draw(st.integers(12, 16))
    net = draw(st.lists(st.integers(-3000, 3000).map(float), min_size=steps, max_size=steps))
    outdoor = draw(st.lists(st.floats(-3, 12), min_size=steps, max_size=steps))
    kinds = draw(
        st.lists(
            st.sampled_from(["machine", "water_heater", "ev", "pilot_wire", "thermostatic"]),
            min_size=2,
            max_size=5,
        )
    )
    devices = []
    for kind in kinds:
        if kind == "thermostatic":
            devices.append(draw(plain_thermostatic(steps, outdoor)))
        else:
            make = {
                "machine": plain_machine,
                "water_heater": plain_water_heater,
                "ev": plain_ev,
                "pilot_wire": plain_pilot_wire,
            }[kind]
            devices.append(draw(make(steps)))
    return scenario(net, devices, outdoor)


@st.composite
def heater_scenarios(draw: st.DrawFn) -> Raw:
    """Two to five thermostatic heaters, sometimes with a machine, on a net load with surplus
    and deficit: the heaters are coupled through the import."""
    steps = draw(st.integers(12, 16))
    net = draw(st.lists(st.integers(-4000, 3000).map(float), min_size=steps, max_size=steps))
    outdoor = draw(st.lists(st.floats(-3, 12), min_size=steps, max_size=steps))
    devices = [draw(plain_thermostatic(steps, outdoor)) for _ in range(draw(st.integers(2, 5)))]
    if draw(st.booleans()):
        devices.append(draw(plain_machine(steps)))
    return scenario(net, devices, outdoor)


def assert_optimal_above_its_bound(raw: Raw) -> None:
    plan = plan_of(raw)
    assume(all(d.status == "planned" and not d.warnings for d in plan.devices))
    best, decisions = reference_optimum(raw)
    assert plan.import_wh == pytest.approx(best, rel=REL_TOL, abs=ABS_TOL_WH), (
        f"planner {plan.import_wh} Wh, reference optimum {best} Wh with {decisions}"
    )
    assert plan.solver.lower_bound_wh is not None
    assert plan.solver.lower_bound_wh <= best * (1 + REL_TOL) + ABS_TOL_WH


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_scenarios())
def test_generated_instances(raw: Raw) -> None:
    assert_optimal_above_its_bound(raw)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heater_scenarios())
def test_generated_heater_communities(raw: Raw) -> None:
    assert_optimal_above_its_bound(raw)


# ---------------------------------------------------------------------------------------
# a band out of reach is missed by the least amount


def assert_missed_least(raw: Raw) -> None:
    """The plan misses the band of the scenario's one heater by the least possible amount."""
    (device,) = plan_of(raw).devices
    least = least_miss_k(raw, raw["devices"][0])
    missed = oracle.thermostatic_miss_k(raw, raw["devices"][0], device.decisions)
    assert missed <= least * (1 + 1e-5) + 1e-4, (missed, least, device.warnings)
    if least > 1e-3:  # clearly out of reach: said so, with the least miss in K·h
        (warning,) = device.warnings
        stated = re.search(r"([0-9.]+) K·h", warning)
        assert stated, warning
        assert float(stated.group(1)) == pytest.approx(least * STEP_S / 3600, abs=0.006)
    elif least < 1e-9:  # reachable: a hard band, no warning
        assert not device.warnings, (least, device)


def test_band_out_of_reach_in_a_cold_spell() -> None:
    """A heater too weak for a band with a 22 °C peak (found by the generated test below)."""
    low = [17.0, 17.0, 18.0, 20.0, 17.0, 17.0, 17.75, 19.0, 22.0, 17.0, 17.0, 20.0, 17.0]
    dev = {
        "type": "thermostatic_heater",
        "power_w": 2346.0,
        "r_k_per_w": 0.01,
        "c_j_per_k": 500_000.0,
        "initial_temp_c": 14.0,
        "comfort_min_c": low,
        "comfort_max_c": [t + 1.0 for t in low],
    }
    assert_missed_least(scenario([0.0] * 13, [dev], [0.0] * 13))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_band_out_of_reach_is_missed_least(data: st.DataObject) -> None:
    steps = data.draw(st.integers(8, 14))
    outdoor = data.draw(st.lists(st.floats(-3, 12), min_size=steps, max_size=steps))
    low = data.draw(st.lists(st.floats(17, 23), min_size=steps, max_size=steps))
    width = data.draw(st.floats(0, 1.5))
    dev = {
        "type": "thermostatic_heater",
        "power_w": float(data.draw(st.integers(500, 2500))),
        "r_k_per_w": data.draw(st.floats(0.004, 0.03)),
        "c_j_per_k": data.draw(st.floats(5e5, 1e7)),
        "initial_temp_c": data.draw(st.floats(14, 22)),
        "comfort_min_c": low,
        "comfort_max_c": [t + width for t in low],
    }
    net = data.draw(st.lists(st.integers(-3000, 3000).map(float), min_size=steps, max_size=steps))
    assert_missed_least(scenario(net, [dev], outdoor))
