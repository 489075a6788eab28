"""The secondary objective, never at the expense of import.

Once the import is settled, equal-import plans are told apart by the tie-break costs of the
blocks (earlier starts for choice blocks, fewer switches for heaters), so equal inputs give the
same plan and plans do not churn between rounds:

- choice blocks move, one at a time, to their lowest tie-break candidate whose import is no
  higher with every other device where it is, until no device moves (each move keeps or
  lowers the import; the number of passes is bounded). This is a local optimum: a plan
  reachable only by moving two devices at once (one later so the other can go earlier) is
  not searched, as each device's own earliest start is what its user sees;
- the other blocks (heaters) are re-solved together with the choice blocks fixed, minimising
  their tie-break subject to an import at most the current one (one extra row).
"""

from __future__ import annotations

import numpy as np

from elfe_ems.planner.devices import Block
from elfe_ems.planner.devices.base import import_increase_wh
from elfe_ems.planner.highs import new_solver, run_mip
from elfe_ems.planner.model import KW_PER_W, assemble, import_columns
from elfe_ems.planner.peak import highest_w
from elfe_ems.timegrid import Grid

MAX_PASSES = 20
SWITCHES_GAP = 0.01  # relative gap on the number of switches: a tie-break needs no proof
SWITCHES_MAX_NODES = 200
IMPORT_TOLERANCE = 1e-9  # relative: a move within this is "no higher" (floating-point noise)


def earliest_equivalent(
    blocks: list[Block],
    chosen: list[int],
    load_w: np.ndarray,
    weight_h: np.ndarray,
    peak_w: float | None = None,
) -> list[int]:
    """Candidates of the choice ``blocks`` after tie-break moves; ``load_w`` is the net load
    with every device's power, and is updated in place; ``weight_h`` weighs the import of
    each step (the primary objective's); with ``peak_w``, no move raises the import of a step
    above it."""
    chosen = list(chosen)
    for _ in range(MAX_PASSES):
        moved = False
        for j, block in enumerate(blocks):
            current = chosen[j]
            if block.tiebreak_cost[current] == block.tiebreak_cost.min():
                continue  # already the preferred candidate
            load_w -= block.balance_w.column(current)
            added = import_increase_wh(load_w, block.balance_w, weight_h)
            allowed = added <= added[current] + IMPORT_TOLERANCE * max(1.0, abs(added[current]))
            if peak_w is not None:
                allowed &= highest_w(load_w, block.balance_w) <= peak_w * (1 + IMPORT_TOLERANCE)
            allowed[current] = True
            best = int(np.flatnonzero(allowed)[np.argmin(block.tiebreak_cost[allowed])])
            if block.tiebreak_cost[best] < block.tiebreak_cost[current]:
                chosen[j], moved = best, True
            load_w += block.balance_w.column(chosen[j])
        if not moved:
            break
    return chosen


def fewest_switches(
    blocks: list[Block],
    x: list[np.ndarray],
    base_load_w: np.ndarray,
    grid: Grid,
    time_limit_s: float,
    weight_h: np.ndarray,
    peak_w: float | None = None,
) -> list[np.ndarray]:
    """Solutions of the (non-choice) ``blocks`` with the least tie-break cost at a primary
    objective (weights ``weight_h``) no higher than with ``x``, and with ``peak_w`` no step's
    import above it; ``base_load_w`` holds every other device's power."""
    milp = assemble(blocks, grid, base_load_w, weight_h)
    if peak_w is not None:
        milp.col_upper[: grid.steps] = max(peak_w, 0.0) * KW_PER_W * (1 + IMPORT_TOLERANCE)
    flex_w = sum(
        (b.balance_w.dot(xb) for b, xb in zip(blocks, x, strict=True)), np.zeros(grid.steps)
    )
    start = np.concatenate([import_columns(base_load_w + flex_w), *x])
    import_kwh = float(milp.primary_cost @ start)
    solver = new_solver(milp, cost=milp.tiebreak_cost)
    used = np.flatnonzero(milp.primary_cost)
    solver.addRow(
        -np.inf,
        import_kwh + IMPORT_TOLERANCE * max(1.0, import_kwh),
        len(used),
        used.astype(np.int32),
        milp.primary_cost[used],
    )
    # a node limit, not only time, so that equal inputs give the same plan on any machine
    solver.setOptionValue("mip_max_nodes", SWITCHES_MAX_NODES)
    result = run_mip(solver, start, time_limit_s, gap=SWITCHES_GAP)
    if result.x is None:
        return x
    return [result.x[milp.block_slice(i)] for i in range(len(blocks))]
