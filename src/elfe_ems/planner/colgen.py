"""Column generation for choice blocks: the LP bound, and the candidates worth keeping.

Machines, water heaters and EVs are choice blocks (one start among candidates). Handing every
candidate of thousands of devices to the MILP solver makes a large model whose presolve alone
takes seconds. Their structure is the textbook case for Dantzig-Wolfe column generation: the
devices are coupled only through the ``steps`` balance rows.

The restricted master LP starts with each device's greedy candidate (so it is feasible); the
balance duals ``y`` [kWh per kW] price every candidate at once (one sparse product): the
reduced cost of candidate c of device d is ``y . P_c / 1000 - mu_d`` (``mu_d`` the dual of the
device's choice row). Candidates of negative reduced cost join the master until none is left.

Invariant: at every iteration ``z_master + sum_d min(0, min_c rc_dc)`` is a valid lower bound of
the LP relaxation of the full model, hence of the MILP (Lagrangian bound); at convergence it is
the full LP optimum. The MILP is then solved on the kept candidates only, and its gap is
measured against this bound, so a gap reported as proven is proven for the full model.

Devices with a search of their own (thermostatic heaters) may join as ``searched`` blocks:
the master holds the schedules found for them (:mod:`schedules`) instead of their block, their
search prices a new schedule at each iteration, and their proven ``cost_lower_bound`` of the
reduced cost takes the place of ``min_c rc_dc`` in the bound, which is then valid over every
schedule of theirs (the bound of the heaters' integer hull, not of their LP relaxation).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from elfe_ems.planner.devices import Block
from elfe_ems.planner.highs import new_solver
from elfe_ems.planner.model import KW_PER_W, Milp, assemble, restrict
from elfe_ems.planner.schedules import SchedulePool
from elfe_ems.timegrid import Grid

log = logging.getLogger(__name__)

REDUCED_COST_TOLERANCE = 1e-7  # kWh: below this a candidate cannot improve the LP
MAX_ITERATIONS = 500
SEARCHED_BOUND_EVERY = 4  # iterations


@dataclass(frozen=True)
class CandidatePools:
    """Candidates kept per choice block, the proven lower bound [kWh], and at convergence the
    LP optimum: the balance duals [kWh per kW] and each non-choice block's LP solution."""

    columns: list[np.ndarray]
    lower_bound_kwh: float
    iterations: int
    converged: bool
    duals: np.ndarray | None = None
    block_x: dict[int, np.ndarray] | None = None


def generate_columns(
    blocks: list[Block],
    choice: list[int],
    start: list[int],
    grid: Grid,
    base_load_w: np.ndarray,
    time_limit_s: float,
    weight_h: np.ndarray | None = None,
    searched: dict[int, SchedulePool] | None = None,
) -> CandidatePools:
    """Solve the LP relaxation by column generation over the ``choice`` blocks, and over the
    schedules of the ``searched`` blocks if any (see the module docstring; the pools grow).

    ``start[j]`` is a feasible candidate of block ``choice[j]`` (with the other blocks feasible
    too, as in the greedy plan). Without choice or searched blocks it is the LP relaxation of
    the model.
    """
    began = time.perf_counter()
    searched = searched or {}
    kept = [np.array([c]) for c in start]
    restricted = list(blocks)
    for j, i in enumerate(choice):
        restricted[i] = restrict(blocks[i], kept[j])
    for i, schedules in searched.items():
        restricted[i] = schedules.choice_block()
    milp = assemble(restricted, grid, base_load_w, weight_h)
    solver = new_solver(milp, relaxed=True)
    if not choice and not searched:
        return _plain_lp(solver, milp, len(blocks), time_limit_s)
    _without_upper_bounds(solver, milp, [*choice, *searched])
    choice_rows = milp.row_offsets[choice]

    pool, segment = _candidate_pool(blocks, choice, grid.steps)
    owner = np.repeat(np.arange(len(choice)), np.diff(segment))
    in_master = np.zeros(pool.shape[1], dtype=bool)
    in_master[segment[:-1] + np.asarray(start, dtype=np.int64)] = True

    bound = -np.inf
    converged = False
    optimum: tuple[np.ndarray | None, dict[int, np.ndarray] | None] = (None, None)
    iterations = 0
    while iterations < MAX_ITERATIONS and time.perf_counter() - began < time_limit_s:
        iterations += 1
        if not _solved_master(solver, time_limit_s - (time.perf_counter() - began)):
            break
        duals = np.asarray(solver.getSolution().row_dual)
        reduced = pool.T @ duals[: grid.steps] - duals[choice_rows][owner]
        best = np.minimum.reduceat(reduced, segment[:-1]) if choice else np.zeros(0)
        master_kwh = solver.getInfo().objective_function_value
        entering = np.flatnonzero(
            (reduced <= best[owner]) & (reduced < -REDUCED_COST_TOLERANCE) & ~in_master
        )
        # one candidate per device per round: the first of its best
        entering = entering[np.unique(owner[entering], return_index=True)[1]]
        deadline = began + time_limit_s
        added = _price_searched(solver, milp, searched, duals, deadline)
        # the searched blocks' bounds cost more than their pricing: taken when the master may
        # have converged, and every few iterations in case the time runs out first
        if len(entering) + added == 0 or iterations % SEARCHED_BOUND_EVERY == 0:
            searched_term = _searched_bound(milp, searched, duals, deadline)
            if searched_term is not None:
                choice_term = float(np.minimum(best, 0.0).sum())
                bound = max(bound, master_kwh + choice_term + searched_term)
        if len(entering) == 0 and added == 0:
            converged = True
            if not searched:  # exact pricing: the master is the LP optimum
                bound = max(bound, master_kwh)
            optimum = _optimum(solver, milp, set(choice) | set(searched), len(blocks))
            break
        in_master[entering] = True
        _add_columns(solver, pool[:, entering], choice_rows[owner[entering]])
    log.info(
        "column generation: %d iterations, %d of %d candidates kept%s, bound %.6g kWh%s",
        iterations,
        int(in_master.sum()),
        len(in_master),
        f", {sum(len(s) for s in searched.values())} schedules" if searched else "",
        bound,
        "" if converged else " (not converged)",
    )
    columns = [np.flatnonzero(in_master[segment[j] : segment[j + 1]]) for j in range(len(choice))]
    return CandidatePools(columns, float(bound), iterations, converged, *optimum)


def _solved_master(solver: highspy.Highs, left_s: float) -> bool:
    """Solve the master LP within ``left_s``: whether it is optimal (at the time limit the
    bound found so far stands, logged; any other end is worth a warning)."""
    solver.setOptionValue("time_limit", max(left_s, 0.01))
    solver.run()
    status = solver.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return True
    timed_out = status == highspy.HighsModelStatus.kTimeLimit
    (log.info if timed_out else log.warning)(
        "column generation stopped: master LP %s", solver.modelStatusToString(status)
    )
    return False


def _without_upper_bounds(solver: highspy.Highs, milp: Milp, blocks: list[int]) -> None:
    """Lift the upper bound (1) of the ``blocks``' candidate columns in the master LP: each
    block's choice row already bounds them, and a bound's dual would give a candidate in the
    master a negative reduced cost at the optimum, which the bound would count as a gain
    still to be had (a weaker bound than the master's optimum at convergence)."""
    columns = np.concatenate(
        [np.zeros(0, dtype=np.int32)]
        + [np.arange(milp.offsets[i], milp.offsets[i + 1], dtype=np.int32) for i in blocks]
    )
    solver.changeColsBounds(
        len(columns), columns, np.zeros(len(columns)), np.full(len(columns), np.inf)
    )


def _candidate_pool(
    blocks: list[Block], choice: list[int], steps: int
) -> tuple[sp.csc_matrix, np.ndarray]:
    """Every candidate of the ``choice`` blocks side by side (kW per step), and where each
    block's candidates begin (``segment``, one more entry than blocks)."""
    segment = np.concatenate([[0], np.cumsum([blocks[i].n_vars for i in choice], dtype=np.int64)])
    nothing = [np.zeros(0, dtype=np.int64)]  # no choice blocks: an empty pool
    values = [blocks[i].balance_w.value for i in choice]
    rows = [blocks[i].balance_w.row for i in choice]
    cols = [blocks[i].balance_w.col + segment[j] for j, i in enumerate(choice)]
    pool = sp.csc_matrix(
        (
            np.concatenate([*nothing, *values]) * KW_PER_W,
            (np.concatenate([*nothing, *rows]), np.concatenate([*nothing, *cols])),
        ),
        shape=(steps, int(segment[-1])),
    )
    return pool, segment


def _price_searched(
    solver: highspy.Highs,
    milp: Milp,
    searched: dict[int, SchedulePool],
    duals: np.ndarray,
    deadline: float,
) -> int:
    """Add each searched block's cheapest schedule at the ``duals`` to the master when its
    reduced cost is negative (until ``deadline``): how many were added."""
    added = 0
    for i, schedules in searched.items():
        if time.perf_counter() > deadline:
            break
        cost = schedules.column_cost(duals[: milp.steps])
        found = schedules.model.cheapest_decisions(cost)
        if found is None:
            continue
        reduced = cost @ schedules.model.solution_from_decisions(found) - duals[milp.row_offsets[i]]
        if reduced < -REDUCED_COST_TOLERANCE and schedules.add(found):
            power_kw = schedules.power_w(len(schedules) - 1) * KW_PER_W
            _add_columns(solver, sp.csc_matrix(power_kw.reshape(-1, 1)), milp.row_offsets[[i]])
            added += 1
    return added


def _searched_bound(
    milp: Milp, searched: dict[int, SchedulePool], duals: np.ndarray, deadline: float
) -> float | None:
    """The sum of the searched blocks' proven lower bounds of their least reduced cost at the
    ``duals``, each capped at 0; None when a block has no such bound or ``deadline`` passes
    first (the bound at these duals is then unknown)."""
    term = 0.0
    for i, schedules in searched.items():
        if time.perf_counter() > deadline:
            return None
        least = schedules.model.cost_lower_bound(schedules.column_cost(duals[: milp.steps]))
        if least is None:
            return None
        term += min(0.0, least - duals[milp.row_offsets[i]])
    return term


def _optimum(
    solver: highspy.Highs, milp: Milp, skip: set[int], n_blocks: int
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The balance duals and the LP solution of every block not in ``skip``."""
    solution = solver.getSolution()
    x = np.asarray(solution.col_value)
    duals = np.asarray(solution.row_dual)[: milp.steps]
    return duals, {i: x[milp.block_slice(i)] for i in range(n_blocks) if i not in skip}


def _plain_lp(
    solver: highspy.Highs, milp: Milp, n_blocks: int, time_limit_s: float
) -> CandidatePools:
    """The LP relaxation of a model without choice blocks: its optimum is the bound."""
    solver.setOptionValue("time_limit", max(time_limit_s, 0.01))
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        log.warning("LP relaxation: %s", solver.modelStatusToString(solver.getModelStatus()))
        return CandidatePools([], -np.inf, 1, False)
    bound = float(solver.getInfo().objective_function_value)
    log.info("LP relaxation: bound %.6g kWh", bound)
    return CandidatePools([], bound, 1, True, *_optimum(solver, milp, set(), n_blocks))


def _add_columns(solver: highspy.Highs, powers_kw: sp.csc_matrix, choice_rows: np.ndarray) -> None:
    """Add candidate columns: ``-P/1000`` in the balance rows and 1 in their choice row."""
    n = powers_kw.shape[1]
    counts = np.diff(powers_kw.indptr)
    columns = sp.csc_matrix(
        (
            np.concatenate([-powers_kw.data, np.ones(n)]),
            (
                np.concatenate([powers_kw.indices, choice_rows]),
                np.concatenate([np.repeat(np.arange(n), counts), np.arange(n)]),
            ),
        ),
        shape=(solver.getNumRow(), n),
    )
    solver.addCols(
        n,
        np.zeros(n),
        np.zeros(n),
        np.full(n, np.inf),  # the choice row bounds it (see _without_upper_bounds)
        columns.nnz,
        columns.indptr.astype(np.int32),
        columns.indices.astype(np.int32),
        columns.data,
    )
