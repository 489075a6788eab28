"""Thermostatic heaters by their own search: a plan within 0.1 % of a bound the LP cannot give.

The LP relaxation of on/off heating tracks each band's bottom with fractional heating, so its
bound sits about 1 % below the best plan of a winter community; the heaters' dynamic
programme finds that plan and proves it within 0.1 % without a MILP.
"""

from __future__ import annotations

import numpy as np
import pytest

from elfe_ems.planner.colgen import generate_columns
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.devices import model_for
from elfe_ems.planner.devices.thermostatic_heater import ThermostaticHeaterModel
from elfe_ems.planner.model import import_weight_h
from elfe_ems.planner.polish import polish
from elfe_ems.planner.scenario import Scenario, ThermostaticHeaterSpec
from elfe_ems.sim.synthetic import community_scenario
from elfe_ems.timegrid import Grid

WINTER_8H = 1_736_924_400  # 2025-01-15 08:00 Europe/Paris


@pytest.fixture(scope="module")
def heaters() -> Scenario:
    return community_scenario(
        thermostatic_heaters=30, season="winter", round_start=WINTER_8H, seed=5
    )


def test_bound_above_the_lp_and_gap_within_a_thousandth(heaters: Scenario) -> None:
    grid = Grid(heaters.round_start, heaters.step_s, heaters.steps)
    blocks = [model_for(d, grid, heaters).block() for d in heaters.devices]
    net_w = np.asarray(heaters.net_load_w)
    lp_kwh = generate_columns(blocks, [], [], grid, net_w, 10.0).lower_bound_kwh
    plan, _ = solve(heaters, SolveOptions(time_limit_s=20, gap=1e-3, peak_tolerance=0))
    assert plan.solver.status == "optimal"
    assert plan.solver.gap <= 1e-3
    assert plan.solver.lower_bound_wh / 1000 > lp_kwh + 0.5 * (plan.import_wh / 1000 - lp_kwh)


def test_polish_never_raises_the_import(heaters: Scenario) -> None:
    grid = Grid(heaters.round_start, heaters.step_s, heaters.steps)
    models = [model_for(d, grid, heaters) for d in heaters.devices]
    blocks = [m.block() for m in models]
    start = [m.solution_from_decisions(m.asap_decisions()) for m in models]
    net_w = np.asarray(heaters.net_load_w)
    weight_h = import_weight_h(grid)

    def import_kwh(x: list[np.ndarray]) -> float:
        load_w = net_w + sum(b.balance_w.dot(xb) for b, xb in zip(blocks, x, strict=True))
        return float(np.maximum(load_w, 0) @ weight_h) / 1000

    polished = polish(models, blocks, list(range(len(models))), start, net_w, weight_h, np.inf)
    assert import_kwh(polished) < import_kwh(start)
    for model, x in zip(models, polished, strict=True):
        assert model._holds_band(model.decisions_from_solution(x))


def _misses_k(model: ThermostaticHeaterModel, decisions: np.ndarray) -> np.ndarray:
    below, above = model._misses_k(decisions)
    return np.asarray(below + above)


def test_heater_out_of_reach_holds_its_widened_band() -> None:
    """A band cut to 0.3 K (less than a step of heating moves the room) is out of reach: the
    heater's model is that of a reachable band (no miss columns), its band widened to the
    least-miss plan's temperatures; its own search and the plan miss the band at no step by
    more than that plan does, so by the least total."""
    scenario = community_scenario(
        thermostatic_heaters=3, season="winter", round_start=WINTER_8H, seed=5
    )
    first = scenario.devices[0]
    assert isinstance(first, ThermostaticHeaterSpec)
    narrow = first.model_copy(update={"comfort_max_c": [t + 0.3 for t in first.comfort_min_c]})
    scenario = scenario.model_copy(update={"devices": [narrow, *scenario.devices[1:]]})
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    model = model_for(narrow, grid, scenario)
    assert isinstance(model, ThermostaticHeaterModel)
    assert model.miss_budget_k > 0
    steps = grid.steps
    assert model.block().n_vars == 3 * steps  # on/off, temperatures, switches: no misses
    least = model.temperatures_c(model.least_heating)
    inside = (least >= model.low_c) & (least <= model.high_c)
    assert np.array_equal(model.held_low_c[inside], model.low_c[inside])
    assert np.array_equal(model.held_high_c[inside], model.high_c[inside])
    assert not inside.all()
    least_misses = _misses_k(model, model.least_heating)

    cost = np.concatenate([np.linspace(1.0, 2.0, steps), np.zeros(2 * steps)])
    found = model.cheapest_decisions(cost)
    assert found is not None
    assert np.all(_misses_k(model, found) <= least_misses + 1e-5)
    bound = model.cost_lower_bound(cost)
    assert bound is not None
    assert bound <= cost @ model.solution_from_decisions(found) + 1e-9

    plan, _ = solve(scenario, SolveOptions(time_limit_s=20, gap=1e-4, peak_tolerance=0))
    planned = np.asarray(plan.devices[0].decisions)
    assert np.all(_misses_k(model, planned) <= least_misses + 1e-5)
    assert model._total_miss_k(planned) <= model.miss_budget_k + 1e-4
    assert plan.solver.lower_bound_wh <= plan.import_wh


def test_heaters_in_summer_miss_no_step_more_than_they_must() -> None:
    """In July the generated rooms cannot be kept in their bands (too warm by day, too cold at
    night for the heater): every band is out of reach, each heater is planned within its
    widened band, and the plan imports no more than without the EMS."""
    july_8h = 1_751_436_000  # 2025-07-02 08:00 Europe/Paris
    scenario = community_scenario(
        homes=30, thermostatic_heaters=10, season="summer", round_start=july_8h, seed=3
    )
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    plan, _ = solve(scenario, SolveOptions(time_limit_s=5, gap=1e-4, peak_tolerance=0))
    by_id = {d.id: d for d in plan.devices}
    heaters = [d for d in scenario.devices if d.type == "thermostatic_heater"]
    for spec in heaters:
        model = model_for(spec, grid, scenario)
        assert isinstance(model, ThermostaticHeaterModel)
        assert model.miss_budget_k > 0
        planned = np.asarray(by_id[spec.id].decisions)
        assert np.all(_misses_k(model, planned) <= _misses_k(model, model.least_heating) + 1e-5)
        assert by_id[spec.id].warnings
    assert plan.import_wh <= plan.import_wh_asap + 1e-6
    assert plan.solver.lower_bound_wh <= plan.import_wh
