"""Scenario → plan: prepare the device models, build one MILP, solve it, decode the plan.

Pure: no database, no clock (except to measure itself), no network. There is always a plan:
an optimal or time-limited MILP solution, or else the greedy plan.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from elfe_ems.devices import DeviceModel, SkipDevice, model_for
from elfe_ems.planner.heuristic import greedy_decisions
from elfe_ems.planner.highs import solve_milp
from elfe_ems.planner.kpi import import_wh
from elfe_ems.planner.model import assemble, import_columns
from elfe_ems.scenario import DevicePlan, Plan, Scenario, SolverInfo
from elfe_ems.timegrid import Grid

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings: time limit [s] and relative MIP gap."""

    time_limit_s: float = 60.0
    gap: float = 1e-4


@dataclass(frozen=True)
class SolveStats:
    """Where the time went [ms], for summaries and benchmarks."""

    build_ms: float
    solve_ms: float
    n_vars: int
    n_rows: int
    n_nonzeros: int


def _prepare(scenario: Scenario, grid: Grid) -> list[DeviceModel | DevicePlan]:
    """A model per device, or the skipped device's plan when it cannot be planned."""
    prepared: list[DeviceModel | DevicePlan] = []
    for spec in scenario.devices:
        try:
            prepared.append(model_for(spec, grid, scenario))
        except SkipDevice as skip:
            log.warning("%s device %s (%s): skipped: %s", skip.tag, spec.id, spec.type, skip.reason)
            prepared.append(
                DevicePlan(
                    id=spec.id,
                    type=spec.type,
                    machine_type=spec.machine_type,
                    status="skipped",
                    decisions=[0] * grid.steps,
                    power_w=[0.0] * grid.steps,
                    warnings=[f"{skip.tag} skipped: {skip.reason}"],
                )
            )
    return prepared


def solve(scenario: Scenario, options: SolveOptions | None = None) -> tuple[Plan, SolveStats]:
    """The plan of a scenario, and how long each part took."""
    options = options or SolveOptions()
    began = time.perf_counter()
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    net_load_w = np.asarray(scenario.net_load_w, dtype=float)
    prepared = _prepare(scenario, grid)
    models = [p for p in prepared if isinstance(p, DeviceModel)]
    blocks = [m.block() for m in models]
    constants = [b.constant_w for b in blocks]
    base_load_w = net_load_w + np.sum(constants, axis=0) if blocks else net_load_w
    greedy = greedy_decisions(models, constants, base_load_w)
    milp = assemble(blocks, grid, base_load_w)
    flex_greedy = sum(
        (m.power_w(d) for m, d in zip(models, greedy, strict=True)), np.zeros(grid.steps)
    )
    start = np.concatenate(
        [import_columns(net_load_w + flex_greedy)]
        + [m.solution_from_decisions(d) for m, d in zip(models, greedy, strict=True)]
    )
    build_ms = (time.perf_counter() - began) * 1000

    result = solve_milp(milp, start, options.time_limit_s, options.gap)
    if result.x is None:
        log.warning("[WARN_IMPOSSIBLE] no MILP solution: the greedy plan is published")
        decisions, solver = greedy, SolverInfo(status="heuristic", solve_ms=result.solve_ms)
    else:
        decisions = [
            m.decisions_from_solution(result.x[milp.block_slice(i)]) for i, m in enumerate(models)
        ]
        solver = SolverInfo(status=result.status, solve_ms=result.solve_ms, gap=result.gap)

    planned = iter(zip(models, decisions, strict=True))
    device_plans = [
        p if isinstance(p, DevicePlan) else _device_plan(*next(planned)) for p in prepared
    ]
    flex_w = sum((np.asarray(d.power_w) for d in device_plans), np.zeros(grid.steps))
    flex_asap_w = sum((m.power_w(m.asap_decisions()) for m in models), np.zeros(grid.steps))
    plan = Plan(
        round_start=grid.round_start,
        step_s=grid.step_s,
        steps=grid.steps,
        import_wh=import_wh(net_load_w, flex_w, grid.step_h),
        import_wh_asap=import_wh(net_load_w, flex_asap_w, grid.step_h),
        net_load_with_flexible_w=(net_load_w + flex_w).tolist(),
        solver=solver,
        devices=device_plans,
    )
    stats = SolveStats(
        build_ms=build_ms,
        solve_ms=result.solve_ms,
        n_vars=milp.matrix.shape[1],
        n_rows=milp.matrix.shape[0],
        n_nonzeros=milp.matrix.nnz,
    )
    return plan, stats


def _device_plan(model: DeviceModel, decisions: np.ndarray) -> DevicePlan:
    for tag, text in model.outcome_warnings(decisions):
        model.warn(tag, text)
    return DevicePlan(
        id=model.spec.id,
        type=model.type,
        machine_type=model.spec.machine_type,
        status="planned",
        decisions=decisions.tolist(),
        power_w=model.power_w(decisions).tolist(),
        warnings=model.warnings,
    )
