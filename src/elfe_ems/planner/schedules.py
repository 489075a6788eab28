"""The schedules found for a device with a search of its own, as a choice block.

A thermostatic heater's block (on/off, temperatures, switches) has a weak LP relaxation. Its
schedules found by its own search (``DeviceModel.cheapest_decisions``) are each a valid plan
of the device; as the candidates of a choice block (exactly one of them) they give the master
LP of column generation the convex hull of those schedules instead of that relaxation
(Dantzig-Wolfe), and the MILP a block of few binaries whose LP is strong (price and branch).
Schedules are priced by the same search, and the device's proven ``cost_lower_bound`` keeps
the column generation's bound valid for every schedule of the device, found or not.
"""

from __future__ import annotations

import numpy as np

from elfe_ems.planner.devices import Block, DeviceModel
from elfe_ems.planner.devices.base import FloatArray, IntArray, Sparse
from elfe_ems.planner.model import column_cost


class SchedulePool:
    """The distinct schedules (decisions) found for one device, first the ones given."""

    def __init__(self, model: DeviceModel, block: Block, first: list[IntArray]) -> None:
        self.model = model
        self.block = block  # the device's own block: its columns price a schedule
        self.decisions: list[IntArray] = []
        self._seen: set[bytes] = set()
        for decisions in first:
            self.add(decisions)

    def __len__(self) -> int:
        return len(self.decisions)

    def add(self, decisions: IntArray) -> bool:
        """Add a schedule; False when it is there already."""
        key = np.asarray(decisions, dtype=np.int8).tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.decisions.append(np.asarray(decisions, dtype=np.int64))
        return True

    def solution(self, j: int) -> FloatArray:
        """The device block's solution of schedule ``j``."""
        return self.model.solution_from_decisions(self.decisions[j])

    def power_w(self, j: int) -> FloatArray:
        return self.model.power_w(self.decisions[j])

    def column_cost(self, duals: FloatArray) -> FloatArray:
        """The cost of each column of the device's own block at the balance duals ``duals``
        [objective unit per kW]: a schedule's reduced cost is its solution's cost less the
        dual of its choice row."""
        return column_cost(self.block, duals)

    def choice_block(self) -> Block:
        """A choice block of the schedules: one binary each, exactly one taken; its tie-break
        cost is each schedule's own (the device block's)."""
        count = len(self.decisions)
        powers = [self.power_w(j) for j in range(count)]
        on = [np.flatnonzero(p) for p in powers]
        steps = self.block.balance_w.shape[0]
        return Block(
            balance_w=Sparse(
                np.concatenate(on).astype(np.int64),
                np.repeat(np.arange(count), [len(k) for k in on]).astype(np.int64),
                np.concatenate([p[k] for p, k in zip(powers, on, strict=True)]),
                (steps, count),
            ),
            integrality=np.ones(count, dtype=np.int8),
            lower=np.zeros(count),
            upper=np.ones(count),
            rows=Sparse(
                np.zeros(count, dtype=np.int64), np.arange(count), np.ones(count), (1, count)
            ),
            row_lower=np.ones(1),
            row_upper=np.ones(1),
            tiebreak_cost=np.array(
                [self.block.tiebreak_cost @ self.solution(j) for j in range(count)]
            ),
            constant_w=self.block.constant_w,
        )
