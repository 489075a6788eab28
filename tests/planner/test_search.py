"""The search around the MILP: fallback, bound, statuses, tie-break at no import cost."""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any

import pytest

import elfe_ems.planner.search as search_module
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import parse_scenario

VALLEY = [800.0, 800.0, 800.0, -1500.0, -1500.0, -1500.0, 800.0, 800.0, 800.0, 800.0]


def _community(ems: Any) -> dict[str, Any]:
    """Two machines, a water heater, an EV and a pilot-wire heater on 10 steps."""
    return ems.scenario(
        VALLEY,
        [
            {
                "id": 1,
                "type": "machine",
                "profile_w": [1000.0, 500.0],
                "earliest_start": ems.at(1),
                "latest_end": ems.at(9),
            },
            {
                "id": 2,
                "type": "machine",
                "profile_w": [700.0],
                "earliest_start": ems.at(0),
                "latest_end": ems.at(10),
            },
            {
                "id": 3,
                "type": "water_heater",
                "power_w": 1000.0,
                "energy_wh": 500.0,
                "windows": [[ems.at(0), ems.at(10)]],
            },
            {
                "id": 4,
                "type": "ev",
                "power_w": 2000.0,
                "capacity_wh": 2000.0,
                "soc_pct": 50.0,
                "target_soc_pct": 100.0,
                "available_from": ems.at(0),
                "deadline": ems.at(10),
            },
            {
                "id": 5,
                "type": "pilot_wire_heater",
                "eco_power_w": 200.0,
                "comfort_power_w": 1200.0,
                "comfort_periods": [{"start": ems.at(2), "end": ems.at(8), "min_comfort_steps": 4}],
            },
        ],
    )


def test_solver_failure_publishes_the_greedy_plan(
    ems: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(search_module, "run_mip", broken)
    monkeypatch.setattr(search_module, "generate_columns", broken)
    with caplog.at_level(logging.WARNING):
        plan = ems.plan(_community(ems))
    assert plan.solver.status == "heuristic"
    assert "[WARN_IMPOSSIBLE]" in caplog.text
    assert all(d.status == "planned" for d in plan.devices)
    machine = ems.device(plan, 1)
    start = machine.decisions.index(1)
    assert 1 <= start <= 7  # within its window: starts at or after step 1, ends by step 9
    assert sum(machine.decisions) == 1
    heater = ems.device(plan, 5)
    assert sum(heater.decisions[2:8]) >= 4
    # the greedy plan is never worse than starting everything as early as allowed here
    assert plan.import_wh <= plan.import_wh_asap + 1e-9


def test_optimal_plan_reports_a_proven_gap_within_the_option(ems: Any) -> None:
    plan = ems.plan(_community(ems))
    assert plan.solver.status == "optimal"
    assert plan.solver.gap is not None
    assert 0 <= plan.solver.gap <= 1e-4
    assert plan.import_wh <= plan.import_wh_asap


def test_gap_option_is_honoured(ems: Any) -> None:
    raw = _community(ems)
    exact, _ = solve(parse_scenario(raw), SolveOptions(gap=0.0))
    loose, _ = solve(parse_scenario(raw), SolveOptions(gap=0.5))
    assert exact.solver.gap == pytest.approx(0.0, abs=1e-9)
    assert loose.solver.gap is not None
    assert loose.solver.gap <= 0.5
    assert exact.import_wh <= loose.import_wh + 1e-6


def test_tie_break_never_costs_import(ems: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _community(ems)
    with_tie_break, _ = solve(parse_scenario(raw), SolveOptions(gap=0.0))
    monkeypatch.setattr(search_module.Search, "_tie_break", lambda _self, x, _peak: x)
    without, _ = solve(parse_scenario(raw), SolveOptions(gap=0.0))
    assert with_tie_break.import_wh <= without.import_wh + 1e-6


def test_same_input_gives_the_same_plan(ems: Any) -> None:
    raw = _community(ems)
    first = ems.plan(raw)
    second = ems.plan(raw)
    assert [d.decisions for d in first.devices] == [d.decisions for d in second.devices]


def test_full_milp_without_a_solution_keeps_the_restricted_plan(
    ems: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_generate, real_run = search_module.generate_columns, search_module.run_mip
    calls: list[int] = []

    def no_bound(*args: Any) -> Any:  # an unproven plan, so the full MILP is tried
        return dataclasses.replace(real_generate(*args), lower_bound_kwh=-math.inf)

    def second_fails(*args: Any) -> Any:
        calls.append(1)
        result = real_run(*args)
        return dataclasses.replace(result, x=None) if len(calls) == 2 else result

    monkeypatch.setattr(search_module, "generate_columns", no_bound)
    monkeypatch.setattr(search_module, "run_mip", second_fails)
    plan = ems.plan(_community(ems))
    assert len(calls) >= 2  # the restricted MILP, then the full one
    assert plan.solver.status == "feasible"  # not the greedy fallback
    assert plan.import_wh <= plan.import_wh_asap
