"""Solving the MILP with HiGHS (highspy), lexicographically: primary objective, then tie-break.

Stage 1 minimises the primary objective (the imported energy) from a
warm start, within the time limit and relative gap. Stage 2, with the time left, keeps the
primary objective at most at stage 1's value (one extra row) and minimises the tie-break
(earlier starts, fewer switches) from stage 1's plan. Stage 2 can therefore never cost import,
and any plan it stops with is at least as good as stage 1's.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from dataclasses import dataclass

import highspy
import numpy as np

from elfe_ems.planner.model import Milp

log = logging.getLogger(__name__)

PRIMARY_TOLERANCE = 1e-7  # relative slack on stage 1's value, at HiGHS's feasibility tolerance


@dataclass(frozen=True)
class MilpResult:
    """A solution (or none), how good it is proven to be, and the solver time."""

    x: np.ndarray | None
    status: str | None  # "optimal", "feasible", or None when no solution was found
    gap: float | None
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


def _new_solver(milp: Milp, gap: float) -> highspy.Highs:
    _silence_banner()
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("mip_rel_gap", gap)
    matrix = milp.matrix
    solver.passModel(
        matrix.shape[1],
        matrix.shape[0],
        matrix.nnz,
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        milp.primary_cost,
        milp.col_lower,
        milp.col_upper,
        milp.row_lower,
        milp.row_upper,
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data,
        milp.integrality,
    )
    return solver


def _run(solver: highspy.Highs, start: np.ndarray, time_limit_s: float) -> np.ndarray | None:
    """Run from ``start``; the best solution found, or None."""
    solver.setOptionValue("time_limit", max(time_limit_s, 0.01))
    warm = highspy.HighsSolution()
    warm.col_value = start
    warm.value_valid = True
    solver.setSolution(warm)
    solver.run()
    if solver.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None
    return np.asarray(solver.getSolution().col_value)


def solve_milp(milp: Milp, start: np.ndarray, time_limit_s: float, gap: float) -> MilpResult:
    """Lexicographic solve from the feasible ``start`` (see the module docstring)."""
    began = time.perf_counter()
    solver = _new_solver(milp, gap)
    x = _run(solver, start, time_limit_s)
    if x is None:
        log.warning(
            "HiGHS found no solution (%s)", solver.modelStatusToString(solver.getModelStatus())
        )
        return MilpResult(None, None, None, (time.perf_counter() - began) * 1000)
    model_status = solver.getModelStatus()
    status = "optimal" if model_status == highspy.HighsModelStatus.kOptimal else "feasible"
    mip_gap = solver.getInfo().mip_gap
    proven_gap = float(mip_gap) if np.isfinite(mip_gap) else None
    if status == "feasible":
        log.info(
            "HiGHS stopped (%s) with gap %s", solver.modelStatusToString(model_status), proven_gap
        )

    remaining = time_limit_s - (time.perf_counter() - began)
    if np.any(milp.tiebreak_cost) and remaining > 0:
        x = _tie_break(solver, milp, x, remaining)
    return MilpResult(x, status, proven_gap, (time.perf_counter() - began) * 1000)


def _tie_break(solver: highspy.Highs, milp: Milp, x: np.ndarray, time_limit_s: float) -> np.ndarray:
    """Among plans no worse on the primary objective than ``x``, the best tie-break."""
    primary = float(milp.primary_cost @ x)
    used = np.flatnonzero(milp.primary_cost)
    solver.addRow(
        -np.inf,
        primary + PRIMARY_TOLERANCE * max(1.0, abs(primary)),
        len(used),
        used.astype(np.int32),
        milp.primary_cost[used],
    )
    n = len(milp.tiebreak_cost)
    solver.changeColsCost(n, np.arange(n, dtype=np.int32), milp.tiebreak_cost)
    better = _run(solver, x, time_limit_s)
    if better is None or milp.primary_cost @ better > primary + PRIMARY_TOLERANCE * max(
        1.0, abs(primary)
    ):
        return x
    return better
