"""A thermostatic heater's pre-computation (the least miss of a band out of reach) runs within
the solve's time limit (issue 13).

The model settles such a band when it is built, by the deadline the planner gives it (a share
of the time limit); the time it takes counts against the limit. Past the deadline, or when that
search fails, the least heating found so far stands (the thermostat's at worst) and the band
is missed by at most its miss: a valid plan, tagged ``[WARN_CONSTRAINT]`` (time) or
``[WARN_IMPOSSIBLE]`` (failure). No assert here is on speed: the budgets are checked by what
runs (the heater's MILP, its time limit, the search's time limit), not by how long it took.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import Any

import numpy as np
import pytest

import oracle
from elfe_ems.planner import core
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.devices import thermal_dp, thermostatic_heater
from elfe_ems.planner.devices.thermostatic_heater import ThermostaticHeaterModel
from elfe_ems.planner.model import is_feasible
from elfe_ems.planner.scenario import Scenario, ThermostaticHeaterSpec, parse_scenario
from elfe_ems.planner.search import SearchOptions
from elfe_ems.sim.synthetic import community_scenario
from elfe_ems.timegrid import Grid

WINTER_8H = 1_736_924_400  # 2025-01-15 08:00 Europe/Paris
# a = 1/2, Tout = 10, R P = 20 K: off T/2 + 5, on T/2 + 15; no schedule holds [24, 24.5]
NARROW = {
    "id": 1,
    "type": "thermostatic_heater",
    "power_w": 2000.0,
    "r_k_per_w": 0.01,
    "c_j_per_k": 900 / (0.01 * math.log(2)),
    "initial_temp_c": 20.0,
    "comfort_min_c": [24.0] * 6,
    "comfort_max_c": [24.5] * 6,
}
OUTDOOR = [10.0] * 6


def narrow_model(deadline: float | None) -> ThermostaticHeaterModel:
    grid = Grid(round_start=9000, step_s=900, steps=len(OUTDOOR))
    return ThermostaticHeaterModel(ThermostaticHeaterSpec(**NARROW), grid, OUTDOOR, deadline)


@pytest.fixture
def milp_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The options of every run of the heater's own MILP (scipy's ``milp``), which still runs."""
    calls: list[dict[str, Any]] = []
    real_milp = thermostatic_heater.milp

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(dict(kwargs.get("options") or {}))
        return real_milp(*args, **kwargs)

    monkeypatch.setattr(thermostatic_heater, "milp", spy)
    return calls


def winter_with_narrow_bands() -> Scenario:
    """Four winter heaters, the odd ones with a 0.3 K band: out of reach, and so hard that
    their least miss takes the dynamic programme's finest levels and then the MILP (seconds
    with time to spare; see test_thermostatic_least_miss.py)."""
    scenario = community_scenario(
        thermostatic_heaters=4, season="winter", round_start=WINTER_8H, seed=3
    )
    devices = [
        d.model_copy(update={"comfort_max_c": [t + 0.3 for t in d.comfort_min_c]})
        if isinstance(d, ThermostaticHeaterSpec) and d.id % 2
        else d
        for d in scenario.devices
    ]
    return scenario.model_copy(update={"devices": devices})


def test_budget_of_zero_runs_no_search_and_keeps_the_thermostat(
    milp_calls: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """A deadline already passed: no MILP, the least-heating thermostat stands, the band is
    missed by at most its miss, and the relaxation is tagged and logged."""
    with caplog.at_level(logging.WARNING):
        model = narrow_model(deadline=time.perf_counter() - 1.0)
    assert milp_calls == []
    thermostat = model._thermostat(model._lowest_holdable_c())
    assert not model._holds_band(thermostat)
    assert model.least_heating.tolist() == thermostat.tolist()
    assert model.miss_budget_k == pytest.approx(model._total_miss_k(thermostat))
    (warning,) = model.warnings
    assert warning.startswith("[WARN_CONSTRAINT] comfort band not settled (the time limit ran")
    assert f"{model.miss_budget_k * 0.25:.2f} K·h" in warning
    assert any(
        r.levelno == logging.WARNING and r.getMessage().startswith("[WARN_CONSTRAINT] device 1")
        for r in caplog.records
    )
    # the fallback is a plan of the block: the heuristic plan, and the only one the block needs
    greedy = model.greedy_decisions(np.zeros(6))
    assert greedy.tolist() == thermostat.tolist()
    assert is_feasible(model.block(), model.solution_from_decisions(greedy))


def test_without_deadline_the_band_is_settled_as_before(milp_calls: list[dict[str, Any]]) -> None:
    """The same heater without a deadline (a model built directly) or with time to spare: its
    least miss, proven, less than the thermostat's; each MILP run (if any) gets the usual
    second."""
    for deadline in (None, time.perf_counter() + 3600.0):
        model = narrow_model(deadline)
        thermostat = model._thermostat(model._lowest_holdable_c())
        assert model.miss_budget_k < model._total_miss_k(thermostat) - 1e-6
        (warning,) = model.warnings
        assert "comfort band out of reach: missed by the least possible" in warning
    assert all(
        options["time_limit"] == thermostatic_heater.LEAST_MISS_TIME_LIMIT_S
        for options in milp_calls
    )


def test_the_milp_gets_at_most_the_time_left(
    monkeypatch: pytest.MonkeyPatch, milp_calls: list[dict[str, Any]]
) -> None:
    """With the programme at one coarse level its bound cannot prove the least miss, so the
    MILP runs: with the time left to the deadline as its limit, not its usual second."""
    monkeypatch.setattr(thermostatic_heater, "LEAST_MISS_BUCKETS", (4,))
    model = narrow_model(deadline=time.perf_counter() + 0.5)
    assert milp_calls
    assert all(0 < options["time_limit"] <= 0.5 for options in milp_calls)
    assert model.miss_budget_k > 0


def test_deadline_stops_the_dynamic_programme() -> None:
    grid = Grid(round_start=9000, step_s=900, steps=len(OUTDOOR))
    model = ThermostaticHeaterModel(ThermostaticHeaterSpec(**NARROW), grid, OUTDOOR)
    room, zeros = model._room(model.low_c, model.high_c, slack_k=10.0), np.zeros(len(OUTDOOR))
    passed = time.perf_counter() - 1.0
    with pytest.raises(thermal_dp.OutOfTime):
        thermal_dp.cheapest_schedule(room, zeros, 64, 1.0, deadline=passed)
    with pytest.raises(thermal_dp.OutOfTime):
        thermal_dp.cost_lower_bound(room, zeros, 64, 1.0, deadline=passed)
    later = time.perf_counter() + 3600.0
    assert thermal_dp.cheapest_schedule(room, zeros, 64, 1.0, deadline=later) is not None
    assert thermal_dp.cost_lower_bound(room, zeros, 64, 1.0, deadline=later) == (
        thermal_dp.cost_lower_bound(room, zeros, 64, 1.0)
    )


def test_a_failed_search_still_plans_the_heater(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The least-miss search raises: the solve still publishes a plan, the heater planned by
    its thermostat within the band's relaxation, tagged [WARN_IMPOSSIBLE] with the error."""

    def broken(*_: object) -> tuple[float, bool]:
        raise RuntimeError("least-miss search broke")

    monkeypatch.setattr(ThermostaticHeaterModel, "_least_miss", broken)
    raw = {
        "format": "elfe-ems.scenario/1",
        "round_start": 9000,
        "step_s": 900,
        "steps": 6,
        "net_load_w": [500.0, -3000.0, 800.0, 800.0, -1000.0, 300.0],
        "outdoor_temp_c": OUTDOOR,
        "devices": [NARROW],
    }
    with caplog.at_level(logging.WARNING):
        plan, _ = solve(parse_scenario(raw), SolveOptions(time_limit_s=5))
    (record,) = [r for r in caplog.records if r.getMessage().startswith("[WARN_IMPOSSIBLE]")]
    assert record.exc_info is not None
    assert "least-miss search broke" in str(record.exc_info[1])
    (device,) = plan.devices
    assert device.status == "planned"
    assert oracle.violations(raw, NARROW, device.decisions, relaxed=True) == []
    (warning,) = device.warnings
    assert warning.startswith("[WARN_IMPOSSIBLE] comfort band not settled (its search failed)")
    kh = float(re.findall(r"([0-9.]+) K·h", warning)[0])
    assert oracle.thermostatic_miss_k(raw, NARROW, device.decisions) * 0.25 <= kh + 0.005


def test_tiny_time_limit_still_plans_every_heater(milp_calls: list[dict[str, Any]]) -> None:
    """At 0.05 s, the narrow bands' least miss cannot be settled (its finest levels alone take
    far longer): each heater still gets a valid plan, the band held where no warning says
    otherwise, else missed by no more than the warning states; the heaters' MILP never runs."""
    scenario = winter_with_narrow_bands()
    plan, _ = solve(scenario, SolveOptions(time_limit_s=0.05))
    raw = scenario.model_dump(mode="json", exclude_none=True)
    specs = {d["id"]: d for d in raw["devices"]}
    assert plan.solver.status in ("optimal", "feasible", "heuristic")
    heaters = [d for d in plan.devices if d.type == "thermostatic_heater"]
    assert len(heaters) == 4
    for device in heaters:
        spec = specs[device.id]
        assert device.status == "planned"
        assert oracle.violations(raw, spec, device.decisions, relaxed=bool(device.warnings)) == []
        assert device.power_w == [spec["power_w"] * u for u in device.decisions]
        if device.id % 2 == 0:  # a band within reach is held, with no warning
            assert device.warnings == []
            continue
        (warning,) = device.warnings
        assert warning.startswith("[WARN_CONSTRAINT] comfort band ")
        kh = float(re.findall(r"([0-9.]+) K·h", warning)[0])
        assert oracle.thermostatic_miss_k(raw, spec, device.decisions) * 0.25 <= kh + 0.005
    assert milp_calls == []


def test_the_preparation_counts_against_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A heater's pre-computation that takes 0.3 s leaves the search at most the rest of the
    time limit."""
    real_least_miss = ThermostaticHeaterModel._least_miss

    def slow(self: ThermostaticHeaterModel, deadline: float | None = None) -> tuple[float, bool]:
        time.sleep(0.3)
        return real_least_miss(self, deadline)

    searched: list[SearchOptions] = []
    real_search = core.Search

    def search(*args: Any) -> Any:
        searched.append(args[-1])
        return real_search(*args)

    monkeypatch.setattr(ThermostaticHeaterModel, "_least_miss", slow)
    monkeypatch.setattr(core, "Search", search)
    scenario = parse_scenario(
        {
            "format": "elfe-ems.scenario/1",
            "round_start": 9000,
            "step_s": 900,
            "steps": 6,
            "net_load_w": [500.0] * 6,
            "outdoor_temp_c": OUTDOOR,
            "devices": [NARROW],
        }
    )
    plan, _ = solve(scenario, SolveOptions(time_limit_s=5.0))
    assert plan.devices[0].status == "planned"
    (options,) = searched
    assert options.time_limit_s <= 5.0 - 0.3
