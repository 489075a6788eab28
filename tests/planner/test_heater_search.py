"""Thermostatic heaters by their own search: a plan within 0.1 % of a bound the LP cannot give.

The LP relaxation of on/off heating tracks each band's bottom with fractional heating, so its
bound sits about 1 % below the best plan of a winter community; the heaters' dynamic
programme finds that plan and proves it within 0.1 % without a MILP.
"""

from __future__ import annotations

import numpy as np
import pytest

from elfe_ems.devices import model_for
from elfe_ems.planner import SolveOptions, solve
from elfe_ems.planner.colgen import generate_columns
from elfe_ems.planner.model import import_weight_h
from elfe_ems.planner.polish import polish
from elfe_ems.scenario import Scenario
from elfe_ems.synthetic import community_scenario
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
