"""The reference of the planner benchmark: HiGHS alone on the full MILP.

Every device's whole block in one model (no column generation, no search of the heaters'
own), warm-started from the same greedy plan as the planner, with the same time limit and
gap option. Its lower bound is HiGHS's own dual bound. The quality goals compare the planner
with it in the same benchmark run.
"""

from __future__ import annotations

import numpy as np

from elfe_ems.planner.devices import DeviceModel, SkipDevice, model_for
from elfe_ems.planner.heuristic import greedy_decisions
from elfe_ems.planner.highs import new_solver, run_mip
from elfe_ems.planner.kpi import import_wh
from elfe_ems.planner.model import assemble, import_columns
from elfe_ems.planner.scenario import Scenario
from elfe_ems.timegrid import Grid


def solve_plain(scenario: Scenario, time_limit_s: float, gap: float) -> dict:
    """Import [kWh], lower bound [kWh], relative gap and HiGHS's status of the plain MILP."""
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    models: list[DeviceModel] = []
    for spec in scenario.devices:
        try:
            models.append(model_for(spec, grid, scenario))
        except SkipDevice:
            continue
    blocks = [m.block() for m in models]
    net_load_w = np.asarray(scenario.net_load_w, dtype=float)
    base_load_w = net_load_w + sum((b.constant_w for b in blocks), np.zeros(grid.steps))
    greedy = greedy_decisions(models, [b.constant_w for b in blocks], base_load_w)
    start = [m.solution_from_decisions(d) for m, d in zip(models, greedy, strict=True)]
    milp = assemble(blocks, grid, base_load_w)
    flex_w = sum(
        (b.balance_w.dot(x) for b, x in zip(blocks, start, strict=True)), np.zeros(grid.steps)
    )
    warm = np.concatenate([import_columns(base_load_w + flex_w), *start])
    result = run_mip(new_solver(milp), warm, time_limit_s, gap)
    x = warm if result.x is None else result.x
    power_w = sum(
        (
            m.power_w(m.decisions_from_solution(x[milp.block_slice(i)]))
            for i, m in enumerate(models)
        ),
        np.zeros(grid.steps),
    )
    plan_kwh = import_wh(net_load_w, power_w, grid.step_h) / 1000
    bound_kwh = max(0.0, result.dual_bound)
    return {
        "import_kwh": plan_kwh,
        "bound_kwh": bound_kwh,
        "gap": max(0.0, (plan_kwh - bound_kwh) / plan_kwh) if plan_kwh > 0 else 0.0,
        "status": "optimal" if result.optimal else "feasible",
        "vars": milp.matrix.shape[1],
        "rows": milp.matrix.shape[0],
        "nonzeros": milp.matrix.nnz,
    }
