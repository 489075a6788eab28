"""Heaters by their schedules: the choice block of a schedule pool, and the column generation
over schedules (Dantzig-Wolfe), whose bound must hold for every schedule, found or not.

The bound is checked against the true optimum of small communities, by enumerating every
schedule of every heater (no solver shared with the planner)."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elfe_ems.planner.colgen import generate_columns
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.devices import model_for
from elfe_ems.planner.devices.thermostatic_heater import ThermostaticHeaterModel
from elfe_ems.planner.model import import_weight_h, is_choice
from elfe_ems.planner.scenario import Scenario, parse_scenario
from elfe_ems.planner.schedules import SchedulePool
from elfe_ems.timegrid import Grid

ROUND_START = 1_700_000_100 // 900 * 900
STEPS = 10


def heater(power_w: float, initial_c: float, low_c: float, width_k: float) -> dict:
    return {
        "type": "thermostatic_heater",
        "power_w": power_w,
        "r_k_per_w": 0.01,
        "c_j_per_k": 2.0e6,
        "initial_temp_c": initial_c,
        "comfort_min_c": [low_c] * STEPS,
        "comfort_max_c": [low_c + width_k] * STEPS,
    }


def community(net_w: list[float], heaters: list[dict]) -> Scenario:
    return parse_scenario(
        {
            "format": "elfe-ems.scenario/1",
            "round_start": ROUND_START,
            "step_s": 900,
            "steps": STEPS,
            "net_load_w": net_w,
            "outdoor_temp_c": [5.0] * STEPS,
            "devices": [{"id": i + 1, **h} for i, h in enumerate(heaters)],
        }
    )


def models_of(scenario: Scenario) -> list[ThermostaticHeaterModel]:
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    models = [model_for(d, grid, scenario) for d in scenario.devices]
    assert all(isinstance(m, ThermostaticHeaterModel) for m in models)
    return models  # type: ignore[return-value]  # checked just above


def true_optimum_kwh(scenario: Scenario, models: list[ThermostaticHeaterModel]) -> float:
    """The least import over every combination of every heater's valid schedules."""
    every = np.array(list(itertools.product([0, 1], repeat=STEPS)))
    valid = [every[[m._holds_held_band(u) for u in every]] for m in models]
    assert all(len(v) for v in valid)
    net_w = np.asarray(scenario.net_load_w)
    best = np.inf
    power = [v * m.spec.power_w for v, m in zip(valid, models, strict=True)]
    # the load of every combination of the first heaters, then each of the last one's
    partial = [net_w]
    for p in power[:-1]:
        partial = [load + row for load in partial for row in p]
    loads = np.asarray(partial)[:, None, :] + power[-1][None, :, :]
    best = float(np.maximum(loads, 0).sum(axis=2).min())
    return best * 0.25 / 1000


def test_a_pool_is_a_choice_block_of_distinct_schedules() -> None:
    scenario = community([1000.0] * STEPS, [heater(2000, 19.0, 18.0, 2.0)])
    (model,) = models_of(scenario)
    first = model.least_heating
    pool = SchedulePool(model, model.block(), [first, first.copy()])
    assert len(pool) == 1
    other = 1 - first
    assert pool.add(other)
    assert not pool.add(other)
    block = pool.choice_block()
    assert is_choice(block)
    for j in range(len(pool)):
        assert np.array_equal(block.balance_w.column(j), model.power_w(pool.decisions[j]))
        own_cost = model.block().tiebreak_cost @ pool.solution(j)
        assert block.tiebreak_cost[j] == pytest.approx(own_cost)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    net=st.lists(st.integers(-3000, 3000).map(float), min_size=STEPS, max_size=STEPS),
    spans=st.lists(
        st.tuples(st.floats(15.0, 21.0), st.floats(17.0, 20.0), st.floats(0.2, 2.5)),
        min_size=2,
        max_size=2,
    ),
)
def test_the_bound_over_schedules_holds_for_every_schedule(
    net: list[float], spans: list[tuple[float, float, float]]
) -> None:
    """Bands sometimes out of reach (a cold start, a band narrower than a step of heating):
    the column generation's bound over the heaters' schedules is never above the true optimum,
    never below the LP relaxation's, and the planner's plan is at the true optimum or above."""
    scenario = community(net, [heater(1500, start, low, width) for start, low, width in spans])
    logging.disable(logging.WARNING)
    try:
        models = models_of(scenario)
    finally:
        logging.disable(logging.NOTSET)
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    blocks = [m.block() for m in models]
    net_w = np.asarray(net)
    weight_h = import_weight_h(grid)
    lp_kwh = generate_columns(blocks, [], [], grid, net_w, 10.0, weight_h).lower_bound_kwh
    pools = {
        i: SchedulePool(m, b, [m.least_heating])
        for i, (m, b) in enumerate(zip(models, blocks, strict=True))
    }
    dw = generate_columns(blocks, [], [], grid, net_w, 10.0, weight_h, searched=pools)
    best_kwh = true_optimum_kwh(scenario, models)
    assert dw.converged
    assert dw.lower_bound_kwh <= best_kwh + 1e-9
    assert dw.lower_bound_kwh >= lp_kwh - 1e-9
    plan, _ = solve(scenario, SolveOptions(time_limit_s=10, gap=0, peak_tolerance=0))
    assert plan.import_wh / 1000 >= best_kwh - 1e-9
    assert plan.solver.lower_bound_wh / 1000 <= best_kwh + 1e-9


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    net=st.lists(st.integers(-3000, 3000).map(float), min_size=STEPS, max_size=STEPS),
    lows=st.lists(st.floats(17.0, 20.0), min_size=2, max_size=2),
)
def test_the_bound_holds_when_the_search_finds_nothing(net: list[float], lows: list[float]) -> None:
    """With the heaters' search blinded (it finds no schedule), the master holds only the
    least heating; the bound rests on the heaters' proven lower bounds alone and must still
    hold for every schedule (a bound taking the master as converged would not)."""
    scenario = community(net, [heater(1500, low + 0.5, low, 2.0) for low in lows])
    models = models_of(scenario)
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    blocks = [m.block() for m in models]
    pools = {}
    for i, (m, b) in enumerate(zip(models, blocks, strict=True)):
        m.cheapest_decisions = lambda _cost: None  # type: ignore[method-assign]
        pools[i] = SchedulePool(m, b, [m.least_heating])
    net_w = np.asarray(net)
    dw = generate_columns(blocks, [], [], grid, net_w, 10.0, import_weight_h(grid), searched=pools)
    assert dw.converged
    assert dw.lower_bound_kwh <= true_optimum_kwh(scenario, models) + 1e-9
