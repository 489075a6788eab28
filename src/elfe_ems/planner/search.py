"""The solver side of one solve: from a feasible start to the best plan proven in the time.

Objective units: the primary objective is ``sum_k weight_h[k] imp[k]`` (:func:`import_weight_h`):
the import in kWh, or its cost at a price per step. Every stage accepts a plan only if it
lowers that objective (by more than the solver's absolute gap), so the start (the previous
round's plan where it still holds) changes only for a better plan; the tie-break then keeps
the previous decisions among plans of equal objective.

Stages, within the time limit (see ``docs/planner.md``):

1. column generation over the choice blocks: the LP bound, the LP duals, the candidates
   worth keeping (:mod:`colgen`);
2. devices with a search of their own (thermostatic heaters) are polished by it, the other
   blocks by the MILP with those fixed, in turn; then the Lagrangian bound of those devices
   lifts the LP bound (:mod:`polish`);
3. while the gap is not proven, devices with a search of their own join the column
   generation by their schedules (Dantzig-Wolfe: the bound of their integer hull), and HiGHS
   solves the MILP of the kept candidates and schedules (price and branch; see
   :mod:`schedules`), within :data:`SCHEDULES_SHARE` of the time left;
4. while the gap is not proven: HiGHS on the kept candidates, then on the full model (with
   devices that have a search of their own, for :data:`MILP_SHARE_WITH_OWN_SEARCH` of the
   time limit at most (or 2 s), and not at all with more than :data:`MILP_MAX_SEARCHABLE`
   devices with their own search: theirs stand);
5. the peak stage, if asked (:mod:`peak`);
6. the tie-break (:mod:`tiebreak`), which raises neither the objective nor the peak.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from elfe_ems.planner.colgen import generate_columns
from elfe_ems.planner.devices import Block, DeviceModel
from elfe_ems.planner.highs import new_solver, run_mip
from elfe_ems.planner.model import (
    assemble,
    fix_integers,
    floor_bound,
    import_columns,
    is_choice,
    is_feasible,
    restrict,
)
from elfe_ems.planner.peak import PeakSearch
from elfe_ems.planner.polish import lagrangian_gain, polish
from elfe_ems.planner.scenario import SolverStatus
from elfe_ems.planner.schedules import SchedulePool
from elfe_ems.planner.tiebreak import earliest_equivalent, fewest_switches
from elfe_ems.timegrid import Grid

log = logging.getLogger(__name__)

GAP_TOLERANCE = 1e-9  # a gap this close to the option is within it (floating-point noise)
MIN_FULL_MILP_S = 1.0  # time left below which the full MILP is not started
# The heaters' fewest-switches pass takes at most this share of the whole solve (so
# TIEBREAK_SHARE / (1 - TIEBREAK_SHARE) of the time before it), or MIN_TIEBREAK_S if that is
# more (small models finish in milliseconds), and is skipped, with a log line, when less than
# twice that is left of the time limit (HiGHS's model setup does not watch the clock: 1.2 s
# for a 0.45 s limit with 200 heaters): a cosmetic pass once took 6.0 s of a 6.1 s solve
TIEBREAK_SHARE = 0.1
MIN_TIEBREAK_S = 0.05
PEAK_SHARE = 0.25  # of the time limit, at most, for the peak stage
# With devices that have a search of their own (heaters), HiGHS improves neither their plan
# nor their bound (35 heaters of 200 homes: 17 s to the time limit, gap 2.1e-4 unchanged), but
# proves small models at once: it gets at most this share of the time limit (or two seconds,
# so that the full MILP may start after the kept candidates' one). Above
# MILP_MAX_SEARCHABLE such devices it gets nothing: its root cut separation on their rows ran
# 30 s past a 15 s time limit on 500 heaters (HiGHS 1.16; see docs/benchmarks.md).
MILP_SHARE_WITH_OWN_SEARCH = 0.1
MILP_MAX_SEARCHABLE = 100
# The schedules' stage (3.) takes at most this share of the time left, half of it for their
# column generation: what it does not close, the MILP of step 4 may
SCHEDULES_SHARE = 0.8
POLISH_GAIN_SHARE = 0.01  # of the gap option's allowance: a polish pass worth less ends it
POLISH_SHARE = 0.6  # of the time limit, at most, for the heaters' polish
ABSOLUTE_GAP = 1e-6  # 1 mWh (or its cost) from the bound is proven optimal (HiGHS's default)
PEAK_STEP_W = 1e-3  # a peak lower by less than this is no lower


@dataclass(frozen=True)
class SearchOptions:
    """What the search needs of the solve options (see :class:`~core.SolveOptions`)."""

    time_limit_s: float
    gap: float
    weight_h: np.ndarray  # the primary objective's weight of one kW imported at each step
    peak_tolerance: float  # 0: no peak stage


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap of an objective to a lower bound (0 for an objective of 0)."""
    if objective <= 0:
        return 0.0
    return max(0.0, (objective - bound) / objective)


class Search:
    """One search (see the module docstring). ``bound`` is the best lower bound of the primary
    objective proven so far (valid even if a later stage fails)."""

    def __init__(
        self,
        models: list[DeviceModel],
        blocks: list[Block],
        grid: Grid,
        base_load_w: np.ndarray,
        options: SearchOptions,
    ) -> None:
        self.models = models
        self.blocks = blocks
        self.grid = grid
        self.base_load_w = base_load_w
        self.options = options
        self.weight_h = options.weight_h
        self.began = time.perf_counter()
        self.choice = [i for i, b in enumerate(blocks) if is_choice(b)]
        self.searchable = [i for i, m in enumerate(models) if m.has_own_search()]
        self.sizes = {"n_vars": 0, "n_rows": 0, "n_nonzeros": 0}
        self.bound = floor_bound(blocks, base_load_w, self.weight_h)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.began) * 1000

    def remaining_s(self) -> float:
        return self.options.time_limit_s - self.elapsed_ms() / 1000

    def _deadline(self) -> float:
        return self.began + self.options.time_limit_s

    def run(
        self, start: list[np.ndarray], without_ems: float = np.inf
    ) -> tuple[list[np.ndarray], SolverStatus]:
        """Block solutions from the feasible ``start``, and their status (whether the primary
        objective was proven within the gap before the peak stage); the peak stage keeps the
        objective at most ``without_ems`` (every device as early as allowed) unless the plan
        is above it already."""
        first = [int(np.argmax(start[i])) for i in self.choice]
        pools = generate_columns(
            self.blocks,
            self.choice,
            first,
            self.grid,
            self.base_load_w,
            self.remaining_s(),
            self.weight_h,
        )
        self.bound = max(self.bound, pools.lower_bound_kwh)
        candidates: list[np.ndarray] | None = pools.columns
        if all(
            len(c) == self.blocks[i].n_vars for c, i in zip(pools.columns, self.choice, strict=True)
        ):
            candidates = None  # every candidate kept: the restricted model is the full one
        x = self._with_integral_lp(start, pools.block_x or {})
        if self.searchable:
            x = self._search_apart(x, candidates)
            if not self._within_gap(self.objective(x)) and pools.duals is not None:
                self.bound += lagrangian_gain(
                    self.models,
                    self.blocks,
                    self.searchable,
                    pools.duals,
                    pools.block_x or {},
                    self._deadline(),
                )
        if self.searchable and not self._within_gap(self.objective(x)) and self.remaining_s() > 0:
            x = self._price_and_branch(x)
        if not self._within_gap(self.objective(x)) and len(self.searchable) <= MILP_MAX_SEARCHABLE:
            milp_s = self.remaining_s()
            if self.searchable:  # enough to start the full MILP after the kept one
                share_s = MILP_SHARE_WITH_OWN_SEARCH * self.options.time_limit_s
                milp_s = min(milp_s, max(share_s, 2 * MIN_FULL_MILP_S))
            x = self._milp(x, candidates, milp_s)
        status: SolverStatus = "optimal" if self._within_gap(self.objective(x)) else "feasible"
        peak_w = None
        if self.options.peak_tolerance > 0 and self.remaining_s() > 0:
            # the objective may rise to 1 + tolerance times the proven bound (so never above
            # that times the optimum, and plans do not creep up round after round), never
            # above the plan without EMS, and never above x's if that is higher already
            objective = self.objective(x)
            cap = max(objective, min((1 + self.options.peak_tolerance) * self.bound, without_ems))
            x = self._kept_start(start, self._lower_peak(x, cap), cap)
            peak_w = max(0.0, float(self.load_w(x).max()))
        return self._tie_break(x, peak_w), status

    def _kept_start(
        self, start: list[np.ndarray], found: list[np.ndarray], cap: float
    ) -> list[np.ndarray]:
        """With the peak stage, the start (the plan in force) stays if its objective is within
        the ``cap`` and ``found`` has no lower peak: a plan in force that traded import for
        peak is not undone by the next round."""
        within = self.objective(start) <= cap * (1 + GAP_TOLERANCE)
        lower_peak = self.load_w(found).max() < self.load_w(start).max() - PEAK_STEP_W
        return start if within and not lower_peak else found

    def load_w(self, x: list[np.ndarray]) -> np.ndarray:
        """The net load with every device's power under block solutions ``x`` [W]."""
        # typed: numpy's stubs answer Any for arrays of unspecified dtype
        load_w: np.ndarray = self.base_load_w + sum(
            (b.balance_w.dot(xb) for b, xb in zip(self.blocks, x, strict=True)),
            np.zeros(self.grid.steps),
        )
        return load_w

    def objective(self, x: list[np.ndarray]) -> float:
        """The primary objective of block solutions, from their power (as the MILP counts it)."""
        return float(import_columns(self.load_w(x)) @ self.weight_h)

    def _within_gap(self, objective: float) -> bool:
        return (
            relative_gap(objective, self.bound) <= self.options.gap + GAP_TOLERANCE
            or objective - self.bound <= ABSOLUTE_GAP
        )

    def _with_integral_lp(
        self, x: list[np.ndarray], lp_x: dict[int, np.ndarray]
    ) -> list[np.ndarray]:
        """``x`` with every block whose LP solution is integral at it (pilot-wire heaters:
        their comfort rules are an interval matrix, so their LP is exact), if that lowers the
        objective."""
        trial = list(x)
        for i, lp in lp_x.items():
            integer = self.blocks[i].integrality > 0
            if not integer.any() or np.any(np.abs(lp[integer] - np.round(lp[integer])) > 1e-6):
                continue
            model = self.models[i]
            clean = model.solution_from_decisions(model.decisions_from_solution(lp))
            if is_feasible(self.blocks[i], clean):
                trial[i] = clean
        return trial if self.objective(trial) < self.objective(x) - ABSOLUTE_GAP else x

    def _search_apart(
        self, x: list[np.ndarray], candidates: list[np.ndarray] | None
    ) -> list[np.ndarray]:
        """Searchable blocks polished by their own search, the others by the MILP with the
        searchable ones fixed, in turn while the objective falls."""
        x = self._polish(x)
        searchable = set(self.searchable)
        others = [
            i for i, b in enumerate(self.blocks) if i not in searchable and b.integrality.any()
        ]
        objective = self.objective(x)
        while others and self.remaining_s() > 0:
            solved = self._solve(x, candidates, fixed=searchable)
            if solved is None or solved[1] >= objective - ABSOLUTE_GAP:
                break
            x = self._polish(solved[0])
            objective = self.objective(x)
        return x

    def _price_and_branch(self, x: list[np.ndarray]) -> list[np.ndarray]:
        """Step 3 of the module docstring: the bound of the searchable devices' schedules, and
        the MILP of the kept candidates and those schedules from ``x``; the better plan."""
        until = time.perf_counter() + SCHEDULES_SHARE * self.remaining_s()
        load_w = self.load_w(x)
        schedules = {
            i: SchedulePool(
                self.models[i],
                self.blocks[i],
                [
                    self.models[i].decisions_from_solution(x[i]),
                    self.models[i].greedy_decisions(load_w),
                ],
            )
            for i in self.searchable
        }
        pools = generate_columns(
            self.blocks,
            self.choice,
            [int(np.argmax(x[i])) for i in self.choice],
            self.grid,
            self.base_load_w,
            (until - time.perf_counter()) / 2,
            self.weight_h,
            searched=schedules,
        )
        self.bound = max(self.bound, pools.lower_bound_kwh)
        objective = self.objective(x)
        left_s = until - time.perf_counter()
        if self._within_gap(objective) or left_s <= 0:
            return x
        solved = self._solve(x, pools.columns, time_s=left_s, schedules=schedules)
        if solved is not None and solved[1] < objective - ABSOLUTE_GAP:
            return solved[0]
        return x

    def _polish(self, x: list[np.ndarray]) -> list[np.ndarray]:
        """The searchable blocks' polish, until a pass gains less than POLISH_GAIN_SHARE of
        what the gap option allows, and within POLISH_SHARE of the time limit: the heaters'
        bound, which proves the plan, needs time after it (200 heaters of 1,000 homes: 7
        passes, 14-18 s of a 20 s limit, then no time for the bound: gap 1.2e-2 instead of
        1e-3)."""
        min_gain_wh = POLISH_GAIN_SHARE * self.options.gap * self.objective(x) * 1000
        deadline = min(self._deadline(), self.began + POLISH_SHARE * self.options.time_limit_s)
        return polish(
            self.models,
            self.blocks,
            self.searchable,
            x,
            self.base_load_w,
            self.weight_h,
            deadline,
            min_gain_wh,
        )

    def _milp(
        self, x: list[np.ndarray], candidates: list[np.ndarray] | None, time_s: float
    ) -> list[np.ndarray]:
        """HiGHS from ``x`` on the kept candidates, then on the full model while the gap is
        not proven and time is left (``time_s`` at most); the best plan found (``x`` when none
        is better)."""
        until = time.perf_counter() + time_s
        objective = self.objective(x)
        for restricted in [candidates, None] if candidates is not None else [None]:
            left_s = min(self.remaining_s(), until - time.perf_counter())
            if self._within_gap(objective) or left_s <= 0:
                break
            if restricted is None and candidates is not None:
                if left_s <= MIN_FULL_MILP_S:
                    break
                log.info(
                    "gap %.2e above %.2e on kept candidates: full MILP",
                    relative_gap(objective, self.bound),
                    self.options.gap,
                )
            solved = self._solve(x, restricted, time_s=left_s)
            if solved is None:  # no better plan in the time left: x stands
                continue
            found, found_objective, dual_bound = solved
            self.bound = max(self.bound, dual_bound)
            if found_objective < objective - ABSOLUTE_GAP:  # a plan changes only for a better
                x, objective = found, found_objective
        return x

    def _lower_peak(self, x: list[np.ndarray], cap: float) -> list[np.ndarray]:
        """The peak stage (:mod:`peak`) from ``x``, within its share of the time, the objective
        at most ``cap``."""
        objective = self.objective(x)
        load_w = self.load_w(x)
        peak_w = float(load_w.max())
        deadline = time.perf_counter() + min(
            self.remaining_s(), PEAK_SHARE * self.options.time_limit_s
        )
        search = PeakSearch(self.models, self.blocks, self.choice, self.searchable, self.weight_h)
        found = search.run(x, load_w, (cap - objective) * 1000, deadline)
        if self.objective(found) > cap * (1 + GAP_TOLERANCE):  # floating-point drift only
            return x
        log.info(
            "peak stage: peak %.0f W -> %.0f W, objective %.6g -> %.6g",
            peak_w,
            self.load_w(found).max(),
            objective,
            self.objective(found),
        )
        return found

    def _solve(
        self,
        start: list[np.ndarray],
        candidates: list[np.ndarray] | None,
        fixed: set[int] | None = None,
        time_s: float | None = None,
        schedules: dict[int, SchedulePool] | None = None,
    ) -> tuple[list[np.ndarray], float, float] | None:
        """MILP from ``start``, on the kept ``candidates`` of the choice blocks (all if None),
        the ``fixed`` blocks' integer columns fixed at ``start``, the blocks of ``schedules``
        as a choice among them (``start``'s first), within ``time_s`` (default: the time
        left): block solutions, objective, and the dual bound (-inf unless every candidate was
        in it and nothing was fixed or chosen among schedules: only then is it valid for the
        full model); None when HiGHS gave no solution."""
        blocks = list(self.blocks)
        start = list(start)
        schedules = schedules or {}
        for i in fixed or ():
            blocks[i] = fix_integers(blocks[i], start[i])
        if candidates is not None:
            for j, i in enumerate(self.choice):
                blocks[i] = restrict(self.blocks[i], candidates[j])
                start[i] = start[i][candidates[j]]
        for i, pool in schedules.items():
            blocks[i] = pool.choice_block()
            start[i] = np.zeros(len(pool))
            start[i][0] = 1.0  # the plan's own schedule, the pool's first
        milp = assemble(blocks, self.grid, self.base_load_w, self.weight_h)
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
        time_s = self.remaining_s() if time_s is None else min(time_s, self.remaining_s())
        result = run_mip(new_solver(milp), warm, time_s, self.options.gap)
        if result.x is None:
            return None
        x = [result.x[milp.block_slice(i)] for i in range(len(blocks))]
        if candidates is not None:
            for j, i in enumerate(self.choice):
                full = np.zeros(self.blocks[i].n_vars)
                full[candidates[j]] = np.round(x[i])
                x[i] = full
        for i, pool in schedules.items():
            x[i] = pool.solution(int(np.argmax(x[i])))
        proves = candidates is None and not fixed and not schedules
        return x, result.objective, result.dual_bound if proves else -np.inf

    def _tie_break(self, x: list[np.ndarray], peak_w: float | None) -> list[np.ndarray]:
        """Previous decisions, earlier starts, then fewer switches, at no higher objective
        (and no higher peak than ``peak_w`` if given; see :mod:`tiebreak`)."""
        x = list(x)
        load_w = self.load_w(x)
        if self.choice:
            chosen = [int(np.argmax(x[i])) for i in self.choice]
            moved = earliest_equivalent(
                [self.blocks[i] for i in self.choice], chosen, load_w, self.weight_h, peak_w
            )
            for j, i in enumerate(self.choice):
                x[i] = np.zeros(self.blocks[i].n_vars)
                x[i][moved[j]] = 1.0
        choice = set(self.choice)
        others = [i for i in range(len(self.blocks)) if i not in choice]
        if not any(self.blocks[i].tiebreak_cost.any() for i in others):
            return x
        share_s = TIEBREAK_SHARE / (1 - TIEBREAK_SHARE) * self.elapsed_ms() / 1000
        budget_s = max(share_s, MIN_TIEBREAK_S)
        if self.remaining_s() < 2 * budget_s:
            log.info(
                "fewest-switches tie-break skipped: %.3f s left of the time limit",
                max(self.remaining_s(), 0.0),
            )
        else:
            others_w = sum(
                (self.blocks[i].balance_w.dot(x[i]) for i in others), np.zeros(self.grid.steps)
            )
            improved = fewest_switches(
                [self.blocks[i] for i in others],
                [x[i] for i in others],
                load_w - others_w,
                self.grid,
                budget_s,
                self.weight_h,
                peak_w,
            )
            for i, xi in zip(others, improved, strict=True):
                x[i] = xi
        return x
