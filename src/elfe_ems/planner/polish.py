"""Devices with a search of their own: best responses, and the Lagrangian bound they prove.

Some device models answer "the cheapest feasible decisions for this linear cost" by a fast
search of their own (the thermostatic heater's dynamic programme). The planner uses it twice:

- **polish** (coordinate descent): with every other device where it is, the import a device
  adds is linear in its columns when each step's power is set by one binary column; each
  such device in turn takes its cheapest decisions if they lower the import, until a pass
  moves none (every move lowers the import, so it ends). The MILP solver, which finds the
  heaters' comfort band hard (the LP relaxation of on/off heating is weak), is left the other
  devices.
- **Lagrangian bound**: with the balance duals ``y`` of the LP optimum, the Lagrangian
  ``L(y) = y.b + sum_blocks min_x (y.P x / 1000)`` is a lower bound of the MILP. It equals the LP
  optimum when every block's minimum is taken over its LP relaxation, where the block's LP
  solution attains it; a device whose integer minimum is bounded above that LP minimum lifts
  the bound by the difference. In winter, when every step imports, this is each heater's least
  heating over its LP relaxation's: the bound the MILP solver would need a huge tree to prove.
"""

from __future__ import annotations

import time

import numpy as np

from elfe_ems.planner.devices import Block, DeviceModel
from elfe_ems.planner.devices.base import import_increase_wh
from elfe_ems.planner.model import column_cost

MAX_PASSES = 20
IMPROVEMENT_WH = 1e-6  # a move must lower the import by more than this (floating-point noise)


def polish(
    models: list[DeviceModel],
    blocks: list[Block],
    searchable: list[int],
    x: list[np.ndarray],
    base_load_w: np.ndarray,
    weight_h: np.ndarray,
    deadline: float,
    min_pass_gain_wh: float = IMPROVEMENT_WH,
) -> list[np.ndarray]:
    """``x`` with each ``searchable`` block moved to its cheapest response while that lowers
    the import (weighted by ``weight_h``, the primary objective's; see the module docstring),
    until a pass lowers it by no more than ``min_pass_gain_wh`` in all or ``deadline``
    (``time.perf_counter()``) passes; ``base_load_w`` holds the net and constant load."""
    x = list(x)
    load_w = base_load_w + sum(
        (b.balance_w.dot(xb) for b, xb in zip(blocks, x, strict=True)), np.zeros(len(base_load_w))
    )
    for _ in range(MAX_PASSES):
        gain_wh = 0.0
        for i in searchable:
            if time.perf_counter() > deadline:
                return x
            load_w -= blocks[i].balance_w.dot(x[i])
            cost_wh = import_increase_wh(load_w, blocks[i].balance_w, weight_h)
            decisions = models[i].cheapest_decisions(cost_wh)
            if decisions is not None:
                candidate = models[i].solution_from_decisions(decisions)
                lower_wh = cost_wh @ x[i] - cost_wh @ candidate
                if lower_wh > IMPROVEMENT_WH:
                    x[i], gain_wh = candidate, gain_wh + lower_wh
            load_w += blocks[i].balance_w.dot(x[i])
        if gain_wh <= min_pass_gain_wh:
            break
    return x


def lagrangian_gain(
    models: list[DeviceModel],
    blocks: list[Block],
    searchable: list[int],
    duals: np.ndarray,
    lp_x: dict[int, np.ndarray],
    deadline: float,
) -> float:
    """What the ``searchable`` blocks' integer minima add to the LP bound (see the module
    docstring), in the primary objective's unit; ``duals`` and ``lp_x`` are the LP optimum's.
    Blocks not reached by ``deadline`` add nothing (the bound stays valid)."""
    y = np.maximum(duals, 0.0)  # a valid multiplier of the >= balance rows
    gain = 0.0
    for i in searchable:
        if time.perf_counter() > deadline:
            break
        cost = column_cost(blocks[i], y)
        least = models[i].cost_lower_bound(cost)
        if least is not None:
            gain += max(0.0, least - float(cost @ lp_x[i]))
    return gain
