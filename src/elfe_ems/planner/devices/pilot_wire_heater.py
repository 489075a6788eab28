"""Heater driven by its pilot wire: comfort or eco at every step.

Model
-----
One binary ``c[k]`` per step covered by a comfort period (1 = comfort); outside the periods
the heater is in eco. Power: ``eco_power_w + (comfort_power_w - eco_power_w) * c[k]`` [W].
Periods are snapped outward to the step grid (start floored, end ceiled) and cut to the
horizon. Rows, per period of ``L`` steps:

- ``sum(c) >= min_comfort_steps`` (comfort still owed in the period);
- at most ``window_steps - min_comfort_in_window`` eco steps in any run of ``window_steps``
  consecutive steps of the period (at most 25 % eco in any hour by default); a period shorter
  than the window is one run, so it has at least ``L - (window_steps - min_comfort_in_window)``
  comfort steps.

The period in progress at the round start (the one covering step 0) goes on from the
``applied_before`` decisions (the last steps before the round start, applied by earlier
plans): its runs begin at the first of them, and a run that straddles the round start needs
``min_comfort_in_window`` less its applied comfort steps from its planned steps. These rows,
as the others on comfort, are sums over consecutive steps with integer bounds (an interval
matrix, whose LP optima are integral).

The tie-break keeps the previous plan's decisions, then counts switches to comfort
(``w[k] >= c[k] - c[k-1]``, eco before a period), so among plans of equal import the heater
keeps its plan, then switches as little as possible.

Relaxations: comfort owed above the period's length → comfort all period
(``[WARN_CONSTRAINT]``); applied steps that already hold too many eco steps for a run that
straddles the round start → comfort on every planned step of that run (``[WARN_CONSTRAINT]``);
``applied_before`` without a period covering step 0 → ignored (``[WARN_IGNORED]``). A period
entirely outside the horizon is ignored.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from elfe_ems.planner.devices.base import (
    Block,
    DeviceModel,
    FloatArray,
    IntArray,
    Notice,
    Sparse,
)
from elfe_ems.planner.scenario import PilotWireHeaterSpec
from elfe_ems.timegrid import Grid


class PilotWireHeaterModel(DeviceModel):
    """Comfort/eco per step under owed-comfort and sliding-window rules."""

    def __init__(self, spec: PilotWireHeaterSpec, grid: Grid) -> None:
        super().__init__(spec, grid)
        self.spec: PilotWireHeaterSpec = spec
        self.periods: list[tuple[int, int, int]] = []  # [first, end) steps, comfort owed
        for period in spec.comfort_periods:
            first = max(0, (period.start - grid.round_start) // grid.step_s)
            end = min(grid.steps, grid.first_step_from(period.end))
            if end <= first:
                continue
            owed = period.min_comfort_steps
            if owed > end - first:
                self.warn(
                    Notice.COMFORT_OWED_EXCEEDS_PERIOD,
                    f"{owed} comfort steps owed in a {end - first}-step period from "
                    f"{grid.iso(grid.time_of(first))}: comfort all period",
                )
                owed = end - first
            self.periods.append((first, end, owed))
        covered = np.zeros(grid.steps, dtype=bool)
        for first, end, _ in self.periods:
            covered[first:end] = True
        self.steps_covered = np.flatnonzero(covered)
        self.extra_w = spec.comfort_power_w - spec.eco_power_w
        # each row: (first step, end step, least comfort steps in it)
        self._sum_rows: list[tuple[int, int, int]] = []
        for first, end, owed in self.periods:
            self._sum_rows.append((first, end, owed))
            # the period in progress at the round start goes on from the applied steps
            self._sum_rows += self._run_rows(first, end, spec.applied_before if first == 0 else [])
        if spec.applied_before and not any(first == 0 for first, _, _ in self.periods):
            self.warn(
                Notice.APPLIED_BEFORE_IGNORED,
                f"applied_before given but no comfort period covers the round start "
                f"{grid.iso(grid.round_start)}: ignored",
            )

    def _run_rows(self, first: int, end: int, applied: list[int]) -> list[tuple[int, int, int]]:
        """Rows of the window rule on a period of steps [first, end) that goes on from the
        ``applied`` decisions just before it: each run of ``window_steps`` steps of the span
        (the whole span when shorter) beginning before ``end``, its least comfort steps less
        the applied ones, cut to what its planned steps can give (``[WARN_CONSTRAINT]``)."""
        window, least = self.spec.window_steps, self.spec.min_comfort_in_window
        span_first = first - len(applied)
        if end - span_first < window:  # a period shorter than the window is one run
            runs = [(span_first, end, max(0, end - span_first - (window - least)))]
        else:
            runs = [(s, s + window, least) for s in range(span_first, end - window + 1)]
        rows, forced_end = [], first
        for s, e, need in runs:
            given = sum(applied[s - span_first :]) if s < first else 0
            if need - given > e - first:
                forced_end = max(forced_end, e)
            rows.append((max(s, first), e, max(0, min(need - given, e - first))))
        if forced_end > first:
            eco = len(applied) - sum(applied)
            self.warn(
                Notice.WINDOW_RULE_CANNOT_HOLD,
                f"the {len(applied)} steps applied before the round start hold {eco} eco: the "
                f"window rule cannot hold, comfort on steps [{first}, {forced_end})",
            )
        return rows

    def block(self) -> Block:
        steps = self.grid.steps
        covered = self.steps_covered
        n = len(covered)
        position = np.full(steps, -1)
        position[covered] = np.arange(n)
        sum_cols = [position[first:end] for first, end, _ in self._sum_rows]
        sum_rows = np.repeat(np.arange(len(sum_cols)), [len(c) for c in sum_cols])
        sums = sp.csr_matrix(
            (np.ones(len(sum_rows)), (sum_rows, np.concatenate([[], *sum_cols]).astype(int))),
            shape=(len(sum_cols), 2 * n),
        )
        # w[i] - c[i] + c[previous step, when it is covered] >= 0
        previous = np.where(covered > 0, position[np.maximum(covered - 1, 0)], -1)
        adjacent = np.flatnonzero(previous >= 0)
        index = np.arange(n)
        switches = sp.csr_matrix(
            (
                np.concatenate([np.ones(n), -np.ones(n), np.ones(len(adjacent))]),
                (
                    np.concatenate([index, index, adjacent]),
                    np.concatenate([n + index, index, previous[adjacent]]),
                ),
            ),
            shape=(n, 2 * n),
        )
        rows = sp.vstack([sums, switches]).tocsr()
        row_lower = np.concatenate([[r[2] for r in self._sum_rows], np.zeros(n)])
        balance = Sparse(covered, np.arange(n), np.full(n, self.extra_w), (steps, 2 * n))
        return Block(
            balance_w=balance,
            integrality=np.concatenate([np.ones(n, dtype=np.int8), np.zeros(n, dtype=np.int8)]),
            lower=np.zeros(2 * n),
            upper=np.ones(2 * n),
            rows=Sparse.from_scipy(rows),
            row_lower=row_lower,
            row_upper=np.full(len(row_lower), np.inf),
            tiebreak_cost=np.concatenate([self.preference_cost(covered), np.ones(n)]),
            constant_w=np.full(steps, self.spec.eco_power_w),
        )

    def decisions_from_solution(self, x: FloatArray) -> IntArray:
        decisions = np.zeros(self.grid.steps, dtype=np.int64)
        decisions[self.steps_covered] = np.round(x[: len(self.steps_covered)]).astype(np.int64)
        return decisions

    def solution_from_decisions(self, decisions: IntArray) -> FloatArray:
        comfort = decisions[self.steps_covered].astype(float)
        before = np.concatenate([[0], decisions[:-1]])[self.steps_covered]
        return np.concatenate([comfort, np.maximum(0.0, comfort - before)])

    def power_w(self, decisions: IntArray) -> FloatArray:
        return self.spec.eco_power_w + self.extra_w * decisions.astype(float)

    def asap_decisions(self) -> IntArray:
        decisions = np.zeros(self.grid.steps, dtype=np.int64)
        decisions[self.steps_covered] = 1
        return decisions

    def greedy_decisions(self, load_w: FloatArray) -> IntArray:
        """From all comfort, turn to eco the covered steps of highest load the rules allow."""
        decisions = self.asap_decisions()
        slack = {row: end - first - least for row, (first, end, least) in enumerate(self._sum_rows)}
        rows_of_step: dict[int, list[int]] = {int(k): [] for k in self.steps_covered}
        for row, (first, end, _) in enumerate(self._sum_rows):
            for step in range(first, end):
                rows_of_step[step].append(row)
        load = load_w[self.steps_covered]
        comfort_cost = np.maximum(0.0, load + self.extra_w) - np.maximum(0.0, load)
        for i in np.lexsort((self.steps_covered, -comfort_cost)):
            if comfort_cost[i] <= 0:
                break  # comfort costs no import from here on
            step = int(self.steps_covered[i])
            if all(slack[row] > 0 for row in rows_of_step[step]):
                decisions[step] = 0
                for row in rows_of_step[step]:
                    slack[row] -= 1
        return decisions
