"""HiGHS (highspy) calls: load a sparse model, run it from a warm start, read the result."""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from dataclasses import dataclass, replace

import highspy
import numpy as np

from elfe_ems.planner.model import Milp

log = logging.getLogger(__name__)

OBJECTIVE_TOLERANCE = 1e-7  # relative: a solution's objective and HiGHS's report agree


@dataclass(frozen=True)
class MilpResult:
    """A solution (or none), the proven bound on the objective, and the solver time."""

    x: np.ndarray | None
    objective: float  # of x, in the model's units (kWh for the primary objective)
    optimal: bool  # HiGHS proved x optimal within the gap it was given
    dual_bound: float  # no feasible x has a lower objective
    solve_ms: float


@functools.cache
def _silence_banner() -> None:
    """HiGHS prints a banner on standard output at its first construction in a process,
    before any option can be set; swallow that one print so ``ems`` output stays ours."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_solver(milp: Milp, cost: np.ndarray | None = None, relaxed: bool = False) -> highspy.Highs:
    """A silent HiGHS instance holding ``milp`` (its LP relaxation if ``relaxed``), minimising
    ``cost`` (the primary objective by default)."""
    _silence_banner()
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    matrix = milp.matrix
    integrality = np.zeros_like(milp.integrality) if relaxed else milp.integrality
    solver.passModel(
        matrix.shape[1],
        matrix.shape[0],
        matrix.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        milp.primary_cost if cost is None else cost,
        milp.col_lower,
        milp.col_upper,
        milp.row_lower,
        milp.row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        integrality,
    )
    return solver


def run_mip(
    solver: highspy.Highs, start: np.ndarray, time_limit_s: float, gap: float
) -> MilpResult:
    """Run the MIP loaded in ``solver`` from the feasible ``start``; the best solution found.

    Two HiGHS 1.16 failures are worked around. It may report an improved objective after a
    warm start while returning the warm start as its solution: the objective is recomputed
    from the solution, and on a mismatch the model is solved once more without the warm start
    (the better of both is kept; the reported bound stays valid). When its presolve leaves a
    numerical error (no solution), the model is solved once more without presolve.
    """
    began = time.perf_counter()

    def remaining_s() -> float:
        return max(time_limit_s - (time.perf_counter() - began), 0.01)

    warm = highspy.HighsSolution()
    warm.col_value = start
    warm.value_valid = True
    solver.setOptionValue("mip_rel_gap", gap)
    solver.setOptionValue("time_limit", remaining_s())
    solver.setSolution(warm)
    solver.run()
    if solver.getModelStatus() == highspy.HighsModelStatus.kSolveError:
        log.info("HiGHS ended in a numerical error: solving again without presolve")
        solver.clearSolver()
        solver.setOptionValue("presolve", "off")
        solver.setOptionValue("time_limit", remaining_s())
        solver.setSolution(warm)
        solver.run()
    result = _result(solver)
    if _stale_solution(solver) and remaining_s() > 0.01:
        log.info("HiGHS returned a solution that does not match its objective: solving again")
        solver.clearSolver()
        solver.setOptionValue("time_limit", remaining_s())
        solver.run()
        again = _result(solver)
        if again.x is not None and again.objective < result.objective:
            result = again
        result = replace(result, dual_bound=max(result.dual_bound, again.dual_bound))
    return replace(result, solve_ms=(time.perf_counter() - began) * 1000)


def _objective_of(solver: highspy.Highs, x: np.ndarray) -> float:
    return float(np.asarray(solver.getLp().col_cost_) @ x)


def _stale_solution(solver: highspy.Highs) -> bool:
    info = solver.getInfo()
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return False
    reported = float(info.objective_function_value)
    actual = _objective_of(solver, np.asarray(solver.getSolution().col_value))
    return abs(actual - reported) > OBJECTIVE_TOLERANCE * max(1.0, abs(reported))


def _result(solver: highspy.Highs) -> MilpResult:
    """The solver's outcome (no solution: ``x`` is None)."""
    info = solver.getInfo()
    status = solver.getModelStatus()
    if info.primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        log.warning("HiGHS found no solution (%s)", solver.modelStatusToString(status))
        return MilpResult(None, np.inf, False, -np.inf, 0.0)
    x = np.asarray(solver.getSolution().col_value)
    objective = _objective_of(solver, x)
    optimal = status == highspy.HighsModelStatus.kOptimal and not _stale_solution(solver)
    if not optimal:
        log.info("HiGHS stopped: %s", solver.modelStatusToString(status))
    continuous = highspy.HighsVarType.kContinuous
    integer = any(kind != continuous for kind in solver.getLp().integrality_)
    if integer:
        # from the gap HiGHS proved: its mip_dual_bound can miss an objective offset of presolve
        reported = float(info.objective_function_value)
        bound = (
            reported - float(info.mip_gap) * abs(reported) if np.isfinite(info.mip_gap) else -np.inf
        )
    else:  # a pure LP: its optimum is its own bound
        bound = objective if optimal else -np.inf
    return MilpResult(x, objective, optimal, bound, 0.0)
