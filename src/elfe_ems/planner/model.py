"""Assembly of the device blocks into one sparse MILP (never a dense matrix).

Column layout: ``imp[0..steps-1]`` (imported power per step, kW, >= 0) first, then each
device's block at its offset. Row layout: the ``steps`` balance rows first, then each device's
own rows. Balance row k, in kW (the scale keeps coefficients near 1 for the solver)::

    imp[k] - sum_j balance_w[k, j] x[j] / 1000 >= (net_load_w[k] + constant_w[k]) / 1000

At the optimum ``imp[k] = max(0, net + flex)``, so the primary objective
``sum_k imp[k] * step_h`` is the imported energy in kWh.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from elfe_ems.planner.devices import Block
from elfe_ems.timegrid import Grid

KW_PER_W = 1e-3


@dataclass(frozen=True)
class Milp:
    """The whole model as column-wise sparse arrays, ready for HiGHS."""

    matrix: sp.csc_matrix
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    primary_cost: np.ndarray
    tiebreak_cost: np.ndarray
    offsets: np.ndarray  # first column of each block; offsets[-1] = number of columns
    row_offsets: np.ndarray  # first own row of each block; row_offsets[-1] = number of rows
    steps: int

    def block_slice(self, index: int) -> slice:
        return slice(self.offsets[index], self.offsets[index + 1])


def assemble(
    blocks: list[Block], grid: Grid, base_load_w: np.ndarray, weight_h: np.ndarray | None = None
) -> Milp:
    """One sparse model from the blocks; ``base_load_w`` is the net load plus constant power,
    ``weight_h`` the primary objective's weight of each ``imp`` column (:func:`import_weight_h`;
    default the step length: the import in kWh)."""
    steps = grid.steps
    sizes = [b.n_vars for b in blocks]
    offsets = np.concatenate([[steps], steps + np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
    row_counts = [b.rows.shape[0] for b in blocks]
    row_offsets = steps + np.concatenate([[0], np.cumsum(row_counts, dtype=np.int64)])

    rows = [np.arange(steps)]
    cols = [np.arange(steps)]
    vals = [np.ones(steps)]
    for block, col0, row0 in zip(blocks, offsets[:-1], row_offsets[:-1], strict=True):
        rows += [block.balance_w.row, block.rows.row + row0]
        cols += [block.balance_w.col + col0, block.rows.col + col0]
        vals += [-block.balance_w.value * KW_PER_W, block.rows.value]
    n_cols = int(offsets[-1])
    n_rows = int(row_offsets[-1])
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )

    def stacked(first: np.ndarray, field: str) -> np.ndarray:
        return np.concatenate([first, *(getattr(b, field) for b in blocks)])

    return Milp(
        matrix=matrix,
        col_lower=stacked(np.zeros(steps), "lower"),
        col_upper=stacked(np.full(steps, np.inf), "upper"),
        integrality=stacked(np.zeros(steps, dtype=np.int8), "integrality").astype(np.int32),
        row_lower=stacked(base_load_w * KW_PER_W, "row_lower"),
        row_upper=stacked(np.full(steps, np.inf), "row_upper"),
        primary_cost=np.concatenate(
            [import_weight_h(grid) if weight_h is None else weight_h, np.zeros(n_cols - steps)]
        ),
        tiebreak_cost=stacked(np.zeros(steps), "tiebreak_cost"),
        offsets=offsets,
        row_offsets=row_offsets,
        steps=steps,
    )


def import_weight_h(grid: Grid, price: np.ndarray | None = None) -> np.ndarray:
    """The primary objective's weight of one kW imported at each step: the step length [h]
    (the objective is then the import in kWh), times the step's price per kWh if given (the
    objective is then the import's cost)."""
    weight = np.full(grid.steps, grid.step_h)
    return weight if price is None else weight * np.asarray(price, dtype=float)


def import_columns(load_w: np.ndarray) -> np.ndarray:
    """Values of the ``imp`` columns for a given net load with flexible consumption [W]."""
    # typed: numpy's stubs answer Any for arrays of unspecified dtype
    import_kw: np.ndarray = np.maximum(0.0, load_w) * KW_PER_W
    return import_kw


def column_cost(block: Block, duals: np.ndarray) -> np.ndarray:
    """The cost of each column of ``block`` at the balance duals ``duals`` [objective unit per
    kW of each step]: what its power adds to the balance rows, priced (a reduced cost before
    the dual of the block's own rows)."""
    balance = block.balance_w
    # weighted: floats, though the bincount stubs type every result as integers
    cost: np.ndarray = np.bincount(
        balance.col, weights=balance.value * duals[balance.row], minlength=balance.shape[1]
    )
    return cost * KW_PER_W


def is_choice(block: Block) -> bool:
    """Whether the block is a pure choice: binaries, exactly one of which is 1.

    Such a block is a set of candidate power curves; the planner may then generate its columns
    on demand instead of handing all of them to the solver.
    """
    rows = block.rows
    return (
        rows.shape[0] == 1
        and len(rows.value) == block.n_vars
        and bool(np.all(rows.value == 1))
        and block.row_lower[0] == 1
        and block.row_upper[0] == 1
        and bool(np.all(block.integrality == 1))
        and bool(np.all(block.lower == 0))
        and bool(np.all(block.upper == 1))
    )


def restrict(block: Block, columns: np.ndarray) -> Block:
    """The choice block reduced to some of its candidates (in the given order)."""
    return Block(
        balance_w=block.balance_w.columns(columns),
        integrality=block.integrality[columns],
        lower=block.lower[columns],
        upper=block.upper[columns],
        rows=block.rows.columns(columns),
        row_lower=block.row_lower,
        row_upper=block.row_upper,
        tiebreak_cost=block.tiebreak_cost[columns],
        constant_w=block.constant_w,
    )


def floor_bound(blocks: list[Block], base_load_w: np.ndarray, weight_h: np.ndarray) -> float:
    """A lower bound on the primary objective that needs no solver: every block at its least
    power at every step at once (each balance coefficient at the end of its column's bounds
    that gives the least power)."""
    least_w = np.zeros(len(base_load_w))
    for block in blocks:
        balance = block.balance_w
        ends = np.minimum(
            balance.value * block.lower[balance.col], balance.value * block.upper[balance.col]
        )
        least_w += np.bincount(balance.row, weights=ends, minlength=len(base_load_w))
    return float(import_columns(base_load_w + least_w) @ weight_h)


def fix_integers(block: Block, x: np.ndarray) -> Block:
    """The block with its integer columns fixed at their (rounded) values in ``x``."""
    integer = block.integrality > 0
    lower, upper = block.lower.copy(), block.upper.copy()
    lower[integer] = upper[integer] = np.round(x[integer])
    return dataclasses.replace(block, lower=lower, upper=upper)


FEASIBILITY_TOLERANCE = 1e-7  # relative, as a solver's: bounds and rows held within this


def is_feasible(block: Block, x: np.ndarray) -> bool:
    """Whether ``x`` keeps the block's bounds, integrality and rows."""

    def slack(value: np.ndarray) -> np.ndarray:
        allowed: np.ndarray = FEASIBILITY_TOLERANCE * np.maximum(1.0, np.abs(value))  # stubs: Any
        return allowed

    integer = block.integrality > 0
    rows = block.rows.dot(x)
    return bool(
        np.all(x >= block.lower - slack(block.lower))
        and np.all(x <= block.upper + slack(block.upper))
        and np.all(np.abs(x[integer] - np.round(x[integer])) <= FEASIBILITY_TOLERANCE)
        and np.all(rows >= block.row_lower - slack(block.row_lower))
        and np.all(rows <= block.row_upper + slack(block.row_upper))
    )
