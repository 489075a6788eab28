"""The peak stage: after the primary objective, a lower peak import at almost its optimum.

Once the plan's primary objective (the import, or its cost) is settled, the objective may rise
up to a cap (the search sets it: ``1 + tolerance`` times the proven lower bound, so at most
that times the optimum). A local search then lowers the largest step import, the peak: while
it can, it takes the step of the peak and moves one device drawing power there so that it
draws nothing at any step where the load would reach the peak, at the least added objective
within what is left of the budget:

- a choice device (machine, water heater, EV) to its candidate of lowest highest load, then
  of lowest tie-break cost;
- a device with a search of its own (thermostatic heater) to its cheapest schedule with those
  steps forbidden.

Other devices (pilot-wire heaters) keep their decisions. Each move lowers the load at the peak
step and raises no step to the peak, so the peak never rises; the search stops when no
device at the peak step can move (a device that could not move from a step is not tried
there again), after ``MAX_MOVES``, or at the deadline. It is local: the peak found is not
proven lowest.
"""

from __future__ import annotations

import time

import numpy as np

from elfe_ems.planner.devices import Block, DeviceModel
from elfe_ems.planner.devices.base import Sparse, import_increase_wh

MAX_MOVES = 10_000
PEAK_MARGIN_W = 1e-3  # a load this close below the peak counts as the peak
FORBIDDEN_COST = 1e12  # the cost of heating at a forbidden step (never chosen when avoidable)


def highest_w(load_w: np.ndarray, added: Sparse) -> np.ndarray:
    """For each column of ``added``, the highest load [W] of the steps it draws power at, on
    top of ``load_w`` (-inf for a column drawing nothing)."""
    highest = np.full(added.shape[1], -np.inf)
    np.maximum.at(highest, added.col, load_w[added.row] + added.value)
    return highest


class PeakSearch:
    """The local search of the module docstring over block solutions ``x`` (changed in
    place); ``movable`` are the choice and searchable blocks' indices."""

    def __init__(
        self,
        models: list[DeviceModel],
        blocks: list[Block],
        choice: list[int],
        searchable: list[int],
        weight_h: np.ndarray,
    ) -> None:
        self.models = models
        self.blocks = blocks
        self.choice = set(choice)
        self.searchable = set(searchable)
        self.weight_h = weight_h

    def run(
        self, x: list[np.ndarray], load_w: np.ndarray, budget: float, deadline: float
    ) -> list[np.ndarray]:
        """``x`` after the moves; ``load_w`` (updated in place) is the net load with every
        device's power, ``budget`` the objective that may be added [objective x 1000]."""
        x = list(x)
        movable = sorted(self.choice | self.searchable)
        stuck: set[tuple[int, int]] = set()  # (device, step): found no move there already
        for _ in range(MAX_MOVES):
            if time.perf_counter() > deadline:
                break
            peak_step = int(np.argmax(load_w))
            target_w = float(load_w[peak_step]) - PEAK_MARGIN_W
            if target_w <= 0:
                break  # no import left to shave
            moved = False
            for i in movable:
                power_w = self.blocks[i].balance_w.dot(x[i])
                if power_w[peak_step] <= 0 or (i, peak_step) in stuck:
                    continue
                load_w -= power_w
                found = self._move(i, x[i], load_w, target_w, budget)
                if found is None:
                    stuck.add((i, peak_step))
                else:
                    x[i], added = found
                    budget -= added
                    moved = True
                load_w += self.blocks[i].balance_w.dot(x[i])
                if moved:
                    break
            if not moved:
                break
        return x

    def _move(
        self, i: int, current: np.ndarray, others_w: np.ndarray, target_w: float, budget: float
    ) -> tuple[np.ndarray, float] | None:
        """Block ``i``'s new solution that keeps every step below ``target_w`` with the others
        at ``others_w``, and the objective it adds; None when there is none in the budget."""
        block = self.blocks[i]
        cost = import_increase_wh(others_w, block.balance_w, self.weight_h)
        if i in self.choice:
            allowed = (highest_w(others_w, block.balance_w) < target_w) & (
                cost <= cost @ current + budget
            )
            if not allowed.any():
                return None
            candidates = np.flatnonzero(allowed)
            order = np.lexsort(
                (block.tiebreak_cost[candidates], highest_w(others_w, block.balance_w)[candidates])
            )
            best = candidates[order[0]]
            x = np.zeros(block.n_vars)
            x[best] = 1.0
            return x, float(cost[best] - cost @ current)
        forbidden = highest_w(others_w, block.balance_w) >= target_w
        decisions = self.models[i].cheapest_decisions(cost + FORBIDDEN_COST * forbidden)
        if decisions is None:
            return None
        x = self.models[i].solution_from_decisions(decisions)
        added = float(cost @ x - cost @ current)
        if np.any(x[forbidden] > 0) or added > budget:
            return None
        return x, added
