"""Scenario → plan: prepare the device models, search the plan, decode it.

Pure: no database, no clock (except to measure itself), no network. There is always a plan.

The start is each device's previous decisions when they still hold, else the greedy plan
(always feasible); the search (:mod:`search`) improves it within the time limit and proves
a lower bound; the plan is decoded from its power curves.

Time limit: the device models are prepared first, their expensive work (a thermostatic
heater's least miss of a band out of reach) by a deadline of :data:`PREPARE_SHARE` of the time
limit, past which a model falls back to a valid plan of its own (logged with its tag); the
time the preparation and the start plan took counts against the limit, and the search gets
what is left, less :data:`DECODE_S_PER_DEVICE` a device for the decoding of the plan.

Status: ``optimal`` when the plan's primary objective is within the relative gap of the
proven lower bound (before the peak stage, which may raise it by its tolerance), ``feasible``
when the time ran out first, ``heuristic`` when the solver failed and the start plan is
published.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from elfe_ems.notices.catalogue import skipped
from elfe_ems.notices.collector import grouped, note
from elfe_ems.planner.devices import Block, DeviceModel, SkipDevice, model_for
from elfe_ems.planner.heuristic import greedy_decisions
from elfe_ems.planner.kpi import import_wh
from elfe_ems.planner.model import import_weight_h, is_feasible
from elfe_ems.planner.savings import DeviceCurves, explain_savings
from elfe_ems.planner.scenario import DevicePlan, Plan, Savings, Scenario, SolverInfo
from elfe_ems.planner.search import Search, SearchOptions, relative_gap
from elfe_ems.timegrid import Grid

log = logging.getLogger(__name__)

PREPARE_SHARE = 0.5  # of the time limit, at most, for the device models' preparation
DECODE_S_PER_DEVICE = 1e-4  # kept from the search for the plan's decoding (10,000 devices: 0.8 s)


@dataclass(frozen=True)
class SolveOptions:
    """Solver settings.

    ``time_limit_s`` [s] bounds the device models' preparation and the search (see the
    module docstring), ``gap`` (relative) the search. ``price_per_kwh`` (one
    price per step, any currency) makes the import's cost the primary objective instead of
    the import. ``peak_tolerance`` > 0 adds the peak stage: the largest step import is
    lowered while the primary objective stays within ``1 + peak_tolerance`` of the best
    found, and no worse than without EMS (0: no peak stage). The defaults are the
    configuration's.
    """

    time_limit_s: float = 60.0
    gap: float = 1e-4
    price_per_kwh: tuple[float, ...] | None = None
    peak_tolerance: float = 0.001


@dataclass(frozen=True)
class SolveStats:
    """Where the time went [ms], for summaries and benchmarks."""

    build_ms: float
    solve_ms: float
    n_vars: int
    n_rows: int
    n_nonzeros: int


def _prepare(scenario: Scenario, grid: Grid, deadline: float) -> list[DeviceModel | DevicePlan]:
    """A model per device, prepared by ``deadline`` (a :func:`time.perf_counter` instant), or
    the skipped device's plan when it cannot be planned."""
    prepared: list[DeviceModel | DevicePlan] = []
    for spec in scenario.devices:
        try:
            prepared.append(model_for(spec, grid, scenario, deadline))
        except SkipDevice as skip:
            notice = skipped(skip.tag)
            note(log, notice, spec.type, spec.id, f"skipped: {skip.reason}", what=skip.summary)
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
    """The plan of a scenario, and how long each part took; the devices' warnings are logged
    one line per kind when it ends."""
    with grouped():
        return _solve(scenario, options or SolveOptions())


def _solve(scenario: Scenario, options: SolveOptions) -> tuple[Plan, SolveStats]:
    began = time.perf_counter()
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    net_load_w = np.asarray(scenario.net_load_w, dtype=float)
    price = _prices(options, grid)
    prepared = _prepare(scenario, grid, began + PREPARE_SHARE * options.time_limit_s)
    models = [p for p in prepared if isinstance(p, DeviceModel)]
    blocks = [m.block() for m in models]
    base_load_w = net_load_w + sum((b.constant_w for b in blocks), np.zeros(grid.steps))
    start = _start(models, blocks, base_load_w)
    start_decisions = [m.decisions_from_solution(x) for m, x in zip(models, start, strict=True)]
    asap_decisions = [m.asap_decisions() for m in models]
    asap_w = [m.power_w(d) for m, d in zip(models, asap_decisions, strict=True)]
    flex_asap_w = sum(asap_w, np.zeros(grid.steps))
    build_ms = (time.perf_counter() - began) * 1000

    weight_h = import_weight_h(grid, price)
    # what the preparation, the start plan and the plans without EMS took counts against the
    # limit (10,000 homes: 5.1 s), and the decoding of the plan after the search is kept out
    search_s = max(
        0.0,
        options.time_limit_s
        - (time.perf_counter() - began)
        - DECODE_S_PER_DEVICE * len(scenario.devices),
    )
    search = Search(
        models,
        blocks,
        grid,
        base_load_w,
        SearchOptions(search_s, options.gap, weight_h, options.peak_tolerance),
    )
    try:
        x, status = search.run(start, _objective(net_load_w + flex_asap_w, weight_h))
        decisions = [m.decisions_from_solution(xb) for m, xb in zip(models, x, strict=True)]
    except Exception:  # a plan must be published whatever the solver does
        log.exception("[WARN_IMPOSSIBLE] the solver failed: the start plan is published")
        decisions, status = start_decisions, "heuristic"

    planned = iter(zip(models, decisions, strict=True))
    device_plans = [
        p if isinstance(p, DevicePlan) else _device_plan(*next(planned)) for p in prepared
    ]
    flex_w = sum((np.asarray(d.power_w) for d in device_plans), np.zeros(grid.steps))
    load_w = net_load_w + flex_w
    plan_import_wh = import_wh(net_load_w, flex_w, grid.step_h)
    plan = Plan(
        round_start=grid.round_start,
        step_s=grid.step_s,
        steps=grid.steps,
        import_wh=plan_import_wh,
        import_wh_asap=import_wh(net_load_w, flex_asap_w, grid.step_h),
        net_load_with_flexible_w=load_w.tolist(),
        net_load_asap_w=(net_load_w + flex_asap_w).tolist(),
        savings=_savings(net_load_w, models, asap_decisions, asap_w, decisions, grid.step_h),
        peak_import_w=float(load_w.max(initial=0.0)),
        solver=_solver_info(status, search, _objective(load_w, weight_h), price),
        devices=device_plans,
    )
    if status != "optimal":  # the time ran out (or the solver failed): say what stands
        log.info(
            "time limit %g s: plan %s, gap %.2e to the proven bound",
            options.time_limit_s,
            status,
            plan.solver.gap,
        )
    return plan, SolveStats(build_ms=build_ms, solve_ms=plan.solver.solve_ms, **search.sizes)


def _savings(
    net_load_w: np.ndarray,
    models: list[DeviceModel],
    asap: list[np.ndarray],
    asap_w: list[np.ndarray],
    planned: list[np.ndarray],
    step_h: float,
) -> Savings:
    """Where the import avoided comes from (:mod:`savings`), from each model's decisions and
    power without EMS (``asap``, ``asap_w``) and its planned decisions."""
    curves = [
        DeviceCurves(
            type=m.type,
            asap_w=power_w,
            plan_w=m.power_w(p),
            band_miss_kh=m.band_miss_kh(p),
            band_miss_asap_kh=m.band_miss_kh(a),
        )
        for m, a, power_w, p in zip(models, asap, asap_w, planned, strict=True)
    ]
    return explain_savings(net_load_w, curves, step_h)


def _objective(load_w: np.ndarray, weight_h: np.ndarray) -> float:
    """The primary objective of a net load with every device's power [W]."""
    return float(np.maximum(load_w, 0.0) @ weight_h) / 1000


def _prices(options: SolveOptions, grid: Grid) -> np.ndarray | None:
    if options.price_per_kwh is None:
        return None
    if len(options.price_per_kwh) != grid.steps:
        raise ValueError(
            f"{len(options.price_per_kwh)} prices for a scenario of {grid.steps} steps"
        )
    prices = np.asarray(options.price_per_kwh, dtype=float)
    if not np.all(np.isfinite(prices) & (prices >= 0)):
        raise ValueError("prices per kWh must be finite and non-negative")
    return prices


def _start(
    models: list[DeviceModel], blocks: list[Block], base_load_w: np.ndarray
) -> list[np.ndarray]:
    """Each device's previous decisions where they still hold, else its greedy plan's."""
    greedy = greedy_decisions(models, [b.constant_w for b in blocks], base_load_w)
    start = []
    for model, block, decisions in zip(models, blocks, greedy, strict=True):
        previous = None if model.previous is None else _previous_solution(model, block)
        start.append(model.solution_from_decisions(decisions) if previous is None else previous)
    return start


def _solver_info(
    status: str, search: Search, objective: float, price: np.ndarray | None
) -> SolverInfo:
    """The plan's solver object: the gap of the primary ``objective`` (the import [kWh] or its
    cost) to the proven bound, which is clamped to the objective (a bound above a feasible
    plan's objective is floating-point noise)."""
    bound = min(max(0.0, search.bound), objective)
    common = {
        "status": status,
        "solve_ms": search.elapsed_ms(),
        "gap": relative_gap(objective, bound),
    }
    if price is None:
        return SolverInfo(**common, lower_bound_wh=bound * 1000)
    return SolverInfo(**common, objective="price", cost=objective, lower_bound_cost=bound)


def _previous_solution(model: DeviceModel, block: Block) -> np.ndarray | None:
    """The block solution of the device's previous decisions when they are still feasible in
    this round, else None (the device starts from the greedy plan). A shifted plan says
    nothing of its last step: with the other value there, it may hold again."""
    assert model.previous is not None
    flipped = model.previous.copy()
    flipped[-1] = 1 - flipped[-1]
    for decisions in (model.previous, flipped):
        try:
            x = model.solution_from_decisions(decisions)
        except (IndexError, ValueError):  # e.g. a start that is no longer a candidate
            continue
        if np.array_equal(model.decisions_from_solution(x), decisions) and is_feasible(block, x):
            return x
    log.info("device %s: the previous plan no longer holds: planned afresh", model.spec.id)
    return None


def _device_plan(model: DeviceModel, decisions: np.ndarray) -> DevicePlan:
    for notice, text in model.outcome_warnings(decisions):
        model.warn(notice, text)
    return DevicePlan(
        id=model.spec.id,
        type=model.type,
        machine_type=model.spec.machine_type,
        status="planned",
        decisions=decisions.tolist(),
        power_w=model.power_w(decisions).tolist(),
        warnings=model.warnings,
    )
