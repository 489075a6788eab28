"""Assembly of the device blocks into one sparse MILP (never a dense matrix).

Column layout: ``imp[0..steps-1]`` (imported power per step, kW, >= 0) first, then each
device's block at its offset. Row layout: the ``steps`` balance rows first, then each device's
own rows. Balance row k, in kW (the scale keeps coefficients near 1 for the solver)::

    imp[k] - sum_j balance_w[k, j] x[j] / 1000 >= (net_load_w[k] + constant_w[k]) / 1000

At the optimum ``imp[k] = max(0, net + flex)``, so the primary objective
``sum_k imp[k] * step_h`` is the imported energy in kWh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from elfe_ems.devices import Block
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


def assemble(blocks: list[Block], grid: Grid, base_load_w: np.ndarray) -> Milp:
    """One sparse model from the blocks; ``base_load_w`` is the net load plus constant power."""
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
        primary_cost=np.concatenate([np.full(steps, grid.step_h), np.zeros(n_cols - steps)]),
        tiebreak_cost=stacked(np.zeros(steps), "tiebreak_cost"),
        offsets=offsets,
        row_offsets=row_offsets,
        steps=steps,
    )


def import_columns(load_w: np.ndarray) -> np.ndarray:
    """Values of the ``imp`` columns for a given net load with flexible consumption [W]."""
    return np.maximum(0.0, load_w) * KW_PER_W


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
