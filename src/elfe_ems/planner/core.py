"""Scenario → plan: prepare the device models, search the plan, decode it.

Pure: no database, no clock (except to measure itself), no network. There is always a plan.

The search, within the time limit:

1. the greedy plan (always feasible) is the warm start and the fallback;
2. column generation over the choice blocks gives the LP bound and the candidates worth
   keeping (:mod:`colgen`);
3. HiGHS solves the MILP on those candidates (and every other block whole);
4. if that plan is not proven within the gap against the LP bound, the full MILP continues
   from it with the time left;
5. the tie-break picks, among plans of the same import, earlier starts and fewer switches
   (:mod:`tiebreak`).

Status: ``optimal`` when the plan is within the relative gap of the proven lower bound,
``feasible`` when the time ran out first, ``heuristic`` when the solver failed and the greedy
plan is published.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from elfe_ems.devices import Block, DeviceModel, SkipDevice, model_for
from elfe_ems.planner.colgen import generate_columns
from elfe_ems.planner.heuristic import greedy_decisions
from elfe_ems.planner.highs import new_solver, run_mip
from elfe_ems.planner.kpi import import_wh
from elfe_ems.planner.model import assemble, import_columns, is_choice, restrict
from elfe_ems.planner.tiebreak import earliest_equivalent, fewest_switches
from elfe_ems.scenario import DevicePlan, Plan, Scenario, SolverInfo
from elfe_ems.timegrid import Grid

log = logging.getLogger(__name__)

GAP_TOLERANCE = 1e-9  # a gap this close to the option is within it (floating-point noise)
MIN_FULL_MILP_S = 1.0  # time left below which the full MILP is not started
TIEBREAK_SHARE = 0.1  # of the time limit, at most, for the heaters' fewest-switches pass
ABSOLUTE_GAP_KWH = 1e-6  # 1 mWh from the bound is proven optimal (HiGHS's absolute gap)


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
    base_load_w = net_load_w + sum((b.constant_w for b in blocks), np.zeros(grid.steps))
    greedy = greedy_decisions(models, [b.constant_w for b in blocks], base_load_w)
    greedy_x = [m.solution_from_decisions(d) for m, d in zip(models, greedy, strict=True)]
    build_ms = (time.perf_counter() - began) * 1000

    search = _Search(blocks, grid, base_load_w, options)
    try:
        x, solver = search.run(greedy_x)
        decisions = [m.decisions_from_solution(xb) for m, xb in zip(models, x, strict=True)]
    except Exception:  # a plan must be published whatever the solver does
        log.exception("[WARN_IMPOSSIBLE] the solver failed: the greedy plan is published")
        decisions = greedy
        solver = SolverInfo(status="heuristic", solve_ms=search.elapsed_ms())

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
    return plan, SolveStats(build_ms=build_ms, solve_ms=solver.solve_ms, **search.sizes)


class _Search:
    """The solver side of one solve (steps 2 to 5 of the module docstring)."""

    def __init__(
        self, blocks: list[Block], grid: Grid, base_load_w: np.ndarray, options: SolveOptions
    ) -> None:
        self.blocks = blocks
        self.grid = grid
        self.base_load_w = base_load_w
        self.options = options
        self.began = time.perf_counter()
        self.choice = [i for i, b in enumerate(blocks) if is_choice(b)]
        self.sizes = {"n_vars": 0, "n_rows": 0, "n_nonzeros": 0}

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.began) * 1000

    def remaining_s(self) -> float:
        return self.options.time_limit_s - self.elapsed_ms() / 1000

    def run(self, start: list[np.ndarray]) -> tuple[list[np.ndarray], SolverInfo]:
        """Block solutions from the feasible ``start``, and how good they are proven."""
        bound, candidates = -np.inf, None
        if self.choice:
            first = [int(np.argmax(start[i])) for i in self.choice]
            pools = generate_columns(
                self.blocks, self.choice, first, self.grid, self.base_load_w, self.remaining_s()
            )
            bound, candidates = pools.lower_bound_kwh, pools.columns
            if all(
                len(c) == self.blocks[i].n_vars
                for c, i in zip(candidates, self.choice, strict=True)
            ):
                candidates = None  # every candidate kept: the restricted model is the full one
        solved = self._solve(start, candidates)
        if solved is None:
            raise RuntimeError("HiGHS returned no solution from a feasible start")
        x, objective, mip_bound = solved
        bound = max(bound, mip_bound)
        if (
            not self._within_gap(objective, bound)
            and candidates is not None
            and self.remaining_s() > MIN_FULL_MILP_S
        ):
            log.info(
                "gap %.2e above %.2e on kept candidates: full MILP",
                self._gap(objective, bound),
                self.options.gap,
            )
            full = self._solve(x, None)  # None: no better in the time left, x stands
            if full is not None:
                x_full, objective_full, mip_bound = full
                bound = max(bound, mip_bound)
                if objective_full <= objective:
                    x, objective = x_full, objective_full
        gap = self._gap(objective, bound)
        x = self._tie_break(x)
        status = "optimal" if self._within_gap(objective, bound) else "feasible"
        return x, SolverInfo(
            status=status, solve_ms=self.elapsed_ms(), gap=gap if np.isfinite(gap) else None
        )

    def _within_gap(self, objective: float, bound: float) -> bool:
        return (
            self._gap(objective, bound) <= self.options.gap + GAP_TOLERANCE
            or objective - bound <= ABSOLUTE_GAP_KWH
        )

    @staticmethod
    def _gap(objective: float, bound: float) -> float:
        if objective <= 0:
            return 0.0
        return max(0.0, (objective - bound) / objective)

    def _solve(
        self, start: list[np.ndarray], candidates: list[np.ndarray] | None
    ) -> tuple[list[np.ndarray], float, float] | None:
        """MILP from ``start``, on the kept ``candidates`` of the choice blocks (all if None):
        block solutions, objective [kWh], and the dual bound (valid for the full model only
        when every candidate was in it); None when HiGHS gave no solution."""
        blocks = list(self.blocks)
        start = list(start)
        if candidates is not None:
            for j, i in enumerate(self.choice):
                blocks[i] = restrict(self.blocks[i], candidates[j])
                start[i] = start[i][candidates[j]]
        milp = assemble(blocks, self.grid, self.base_load_w)
        self.sizes = {
            "n_vars": milp.matrix.shape[1],
            "n_rows": milp.matrix.shape[0],
            "n_nonzeros": milp.matrix.nnz,
        }
        flex_w = sum(
            (b.balance_w.dot(xb) for b, xb in zip(blocks, start, strict=True)),
            np.zeros(self.grid.steps),
        )
        warm = np.concatenate([import_columns(self.base_load_w + flex_w), *start])
        result = run_mip(new_solver(milp), warm, self.remaining_s(), self.options.gap)
        if result.x is None:
            return None
        x = [result.x[milp.block_slice(i)] for i in range(len(blocks))]
        if candidates is not None:
            for j, i in enumerate(self.choice):
                full = np.zeros(self.blocks[i].n_vars)
                full[candidates[j]] = np.round(x[i])
                x[i] = full
        bound = result.dual_bound if candidates is None else -np.inf
        return x, result.objective, bound

    def _tie_break(self, x: list[np.ndarray]) -> list[np.ndarray]:
        """Earlier starts, then fewer switches, at no extra import (see :mod:`tiebreak`)."""
        x = list(x)
        flex_w = [b.balance_w.dot(xb) for b, xb in zip(self.blocks, x, strict=True)]
        load_w = self.base_load_w + sum(flex_w, np.zeros(self.grid.steps))
        if self.choice:
            chosen = [int(np.argmax(x[i])) for i in self.choice]
            moved = earliest_equivalent(
                [self.blocks[i] for i in self.choice], chosen, load_w, self.grid
            )
            for j, i in enumerate(self.choice):
                x[i] = np.zeros(self.blocks[i].n_vars)
                x[i][moved[j]] = 1.0
        choice = set(self.choice)
        others = [i for i in range(len(self.blocks)) if i not in choice]
        if any(self.blocks[i].tiebreak_cost.any() for i in others) and self.remaining_s() > 0:
            others_w = sum(
                (self.blocks[i].balance_w.dot(x[i]) for i in others), np.zeros(self.grid.steps)
            )
            improved = fewest_switches(
                [self.blocks[i] for i in others],
                [x[i] for i in others],
                load_w - others_w,
                self.grid,
                min(self.remaining_s(), TIEBREAK_SHARE * self.options.time_limit_s),
            )
            for i, xi in zip(others, improved, strict=True):
                x[i] = xi
        return x


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
