"""What every device model answers, and the shared shape of one-start devices.

A device model turns one validated device spec into a block of the planner's MILP: its
variables (bounds, integrality), the power each variable adds at each step of the energy
balance, its own rows, and its costs. It also maps a solution back to the 96 decisions the
control daemon applies, and the decisions to the power the device then draws. The planner
assembles the blocks and knows nothing of device types.

Relaxations of impossible constraints happen in the model's constructor and are recorded as
tagged warnings; a device whose data make no sense, or that cannot be planned in this horizon,
raises :class:`SkipDevice`. A constructor that does expensive work (a thermostatic heater's
least miss) bounds it by the ``deadline`` of :meth:`DeviceModel.from_scenario`, the planner's
share of the solve's time limit, and falls back to a documented plan past it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import cast

import numpy as np
import scipy.sparse as sp

# explicit re-exports (PEP 484 ``X as X``): the device modules take SkipDevice's Tag and the
# warnings' catalogue from here
from elfe_ems.logtags import Tag as Tag  # noqa: PLC0414
from elfe_ems.notices.catalogue import Notice as Notice  # noqa: PLC0414
from elfe_ems.notices.collector import note
from elfe_ems.planner.scenario import DeviceSpec, Scenario
from elfe_ems.timegrid import Grid

log = logging.getLogger(__name__)

FloatArray = np.ndarray
IntArray = np.ndarray


class SkipDevice(Exception):  # noqa: N818 - it is a control signal, not an error
    """Raised while preparing a device that cannot be planned in this round."""

    def __init__(self, tag: Tag, reason: str, summary: str | None = None) -> None:
        super().__init__(reason)
        self.tag = tag
        self.reason = reason
        self.summary = reason if summary is None else summary
        """The reason without its values, to count devices by reason (default: ``reason``)."""


@dataclass(frozen=True)
class Sparse:
    """A sparse matrix as coordinate triplets: cheap to build, slice and concatenate per device
    (scipy's matrix objects cost tens of microseconds each, thousands of devices add up)."""

    row: IntArray
    col: IntArray
    value: FloatArray
    shape: tuple[int, int]

    @classmethod
    def from_scipy(cls, matrix: sp.spmatrix) -> Sparse:
        coo = matrix.tocoo()
        return cls(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data, coo.shape)

    def dot(self, x: FloatArray) -> FloatArray:
        """The product with a vector."""
        return np.bincount(self.row, weights=self.value * x[self.col], minlength=self.shape[0])

    def column(self, j: int) -> FloatArray:
        """One column as a dense vector."""
        dense = np.zeros(self.shape[0])
        at = self.col == j
        dense[self.row[at]] = self.value[at]
        return dense

    def columns(self, selected: IntArray) -> Sparse:
        """The selected columns, renumbered in the given order."""
        position = np.full(self.shape[1], -1)
        position[selected] = np.arange(len(selected))
        keep = position[self.col] >= 0
        return Sparse(
            self.row[keep],
            position[self.col[keep]],
            self.value[keep],
            (self.shape[0], len(selected)),
        )


@dataclass(frozen=True)
class Block:
    """One device's part of the MILP. Columns are the device's own variables.

    ``balance_w`` (steps x n_vars) is the power in W that one unit of each variable adds at
    each step; ``constant_w`` is power the device draws whatever its decisions (W per step).
    The primary objective is the import alone; ``tiebreak_cost`` ranks plans of equal import
    (lower is preferred): the planner lowers it without raising the import (see
    ``planner/tiebreak.py`` for how far it goes).
    """

    balance_w: Sparse
    integrality: IntArray
    lower: FloatArray
    upper: FloatArray
    rows: Sparse
    row_lower: FloatArray
    row_upper: FloatArray
    tiebreak_cost: FloatArray
    constant_w: FloatArray

    @property
    def n_vars(self) -> int:
        return self.balance_w.shape[1]


class DeviceModel(ABC):
    """A device's MILP block, decisions and power. Subclasses relax in ``__init__``."""

    def __init__(self, spec: DeviceSpec, grid: Grid) -> None:
        self.spec = spec
        self.grid = grid
        self.warnings: list[str] = []
        self.previous: IntArray | None = (
            None
            if spec.previous_decisions is None
            else np.asarray(spec.previous_decisions, dtype=np.int64)
        )

    def preference_cost(self, steps: IntArray) -> FloatArray:
        """Tie-break cost of binary columns deciding the given steps: ``steps + 1`` for each
        decision that differs from the previous plan's (``+`` for a 1 where it had 0, ``-``
        for a 1 where it had 1), so that one kept decision outweighs any number of switches;
        zero without a previous plan."""
        if self.previous is None:
            return np.zeros(len(steps))
        # typed: indexing an untyped-dtype array by an array makes the stubs answer Any
        cost: FloatArray = (self.grid.steps + 1) * (1.0 - 2.0 * self.previous[steps])
        return cost

    @classmethod
    def from_scenario(
        cls, spec: DeviceSpec, grid: Grid, scenario: Scenario, deadline: float | None = None
    ) -> DeviceModel:
        """The model of ``spec`` in ``scenario`` (override to read round-wide data), its
        preparation done by ``deadline`` (a :func:`time.perf_counter` instant; None: no limit)
        if it takes time."""
        del scenario, deadline
        return cls(spec, grid)

    @property
    def type(self) -> str:
        return self.spec.type

    def warn(
        self, notice: Notice, text: str, value: float | None = None, exc_info: bool = False
    ) -> None:
        """Record a relaxation in the device's warnings, tagged, and note it for the log's
        line of its kind (``value``: its detail value; with ``exc_info``, the exception being
        handled)."""
        self.warnings.append(f"{notice.tag} {text}")
        note(log, notice, self.type, self.spec.id, text, value=value, exc_info=exc_info)

    @abstractmethod
    def block(self) -> Block:
        """The device's variables, balance coefficients, rows and costs."""

    @abstractmethod
    def decisions_from_solution(self, x: FloatArray) -> IntArray:
        """The int[steps] decisions encoded by the block's solution vector ``x``."""

    @abstractmethod
    def solution_from_decisions(self, decisions: IntArray) -> FloatArray:
        """The block's variable values that encode ``decisions`` (for warm starts)."""

    @abstractmethod
    def power_w(self, decisions: IntArray) -> FloatArray:
        """Mean power drawn at each step [W] when ``decisions`` are applied."""

    @abstractmethod
    def asap_decisions(self) -> IntArray:
        """The decisions without EMS: the device runs as early as its constraints allow."""

    @abstractmethod
    def greedy_decisions(self, load_w: FloatArray) -> IntArray:
        """Feasible decisions chosen against the current net load [W] (heuristic plan)."""

    def has_own_search(self) -> bool:
        """Whether :meth:`cheapest_decisions` and :meth:`cost_lower_bound` answer."""
        return False

    def cheapest_decisions(self, column_cost: FloatArray) -> IntArray | None:
        """Feasible decisions of low ``column_cost @ x`` (``x`` the block's solution) found by
        a fast search of this device alone, or None when the model has no such search.

        With every other device fixed, the import this device adds is such a linear cost when
        each step's power is set by one binary column (see ``planner/polish.py``).
        """
        del column_cost
        return None

    def cost_lower_bound(self, column_cost: FloatArray) -> float | None:
        """A proven lower bound on ``column_cost @ x`` over the block's integer solutions, or
        None when the model has no such bound (the planner then uses the LP relaxation)."""
        del column_cost
        return None

    def outcome_warnings(self, decisions: IntArray) -> list[tuple[Notice, str]]:
        """Warnings that depend on the chosen decisions (e.g. a comfort band missed)."""
        del decisions
        return []

    def band_miss_kh(self, decisions: IntArray) -> float | None:
        """How much ``decisions`` miss the device's comfort band [K·h]; None: it has none."""
        del decisions
        return None


def import_increase_wh(load_w: FloatArray, added: Sparse, step_h: float | FloatArray) -> FloatArray:
    """For each column of ``added`` (W per step), the import it adds on top of ``load_w`` [Wh];
    with ``step_h`` per step (step length times a price), the import's cost [price x Wh]."""
    base = load_w[added.row]
    delta = np.maximum(0.0, base + added.value) - np.maximum(0.0, base)
    if np.ndim(step_h):
        per_step_h = cast(FloatArray, step_h)  # ndim > 0: the array (mypy cannot narrow on it)
        return np.bincount(
            added.col, weights=delta * per_step_h[added.row], minlength=added.shape[1]
        )
    return np.bincount(added.col, weights=delta, minlength=added.shape[1]) * step_h


def profile_matrix(starts: IntArray, values_w: FloatArray, steps: int) -> Sparse:
    """Candidate power curves as a sparse (steps x candidates) matrix.

    ``values_w[c, j]`` is the power at step ``starts[c] + j``; steps past the horizon are cut.
    """
    n_candidates, length = values_w.shape
    rows = starts[:, None] + np.arange(length)[None, :]
    cols = np.broadcast_to(np.arange(n_candidates)[:, None], rows.shape)
    keep = (rows < steps) & (values_w != 0)
    return Sparse(rows[keep], cols[keep], values_w[keep], (steps, n_candidates))


class StartChoiceModel(DeviceModel):
    """A device with exactly one start among candidate steps (machine, water heater, EV).

    One binary per candidate start, and one row: exactly one candidate is chosen. The
    tie-break prefers the previous plan's start, then earlier starts, so a device keeps its
    plan, else finishes as early as the import allows.
    Decisions are 1 on the ``run_steps`` steps from the start (1 for a start pulse).
    """

    starts: IntArray
    profiles: Sparse
    run_steps: int

    def set_candidates(self, starts: IntArray, profiles: Sparse, run_steps: int) -> None:
        """Candidates in increasing start order, with their power curves (steps x candidates)."""
        self.starts = np.asarray(starts, dtype=np.int64)
        self.profiles = profiles
        self.run_steps = run_steps

    def previous_candidate(self) -> int | None:
        """The candidate whose decisions are the previous plan's, if there is one."""
        if self.previous is None or not self.previous.any():
            return None
        candidate = self._candidate_of(self.previous)
        if candidate < len(self.starts) and np.array_equal(
            self._decisions_of(candidate), self.previous
        ):
            return candidate
        return None

    def block(self) -> Block:
        n = len(self.starts)
        steps = self.grid.steps
        tiebreak = self.starts / steps
        preferred = self.previous_candidate()
        if preferred is not None:
            tiebreak[preferred] = -1.0  # the previous plan's start first, then the earliest
        return Block(
            balance_w=self.profiles,
            integrality=np.ones(n, dtype=np.int8),
            lower=np.zeros(n),
            upper=np.ones(n),
            rows=Sparse(np.zeros(n, dtype=np.int64), np.arange(n), np.ones(n), (1, n)),
            row_lower=np.ones(1),
            row_upper=np.ones(1),
            tiebreak_cost=tiebreak,
            constant_w=np.zeros(steps),
        )

    def _decisions_of(self, candidate: int) -> IntArray:
        decisions = np.zeros(self.grid.steps, dtype=np.int64)
        start = self.starts[candidate]
        decisions[start : start + self.run_steps] = 1
        return decisions

    def _candidate_of(self, decisions: IntArray) -> int:
        start = int(np.flatnonzero(decisions)[0])
        return int(np.searchsorted(self.starts, start))

    def decisions_from_solution(self, x: FloatArray) -> IntArray:
        return self._decisions_of(int(np.argmax(x)))

    def solution_from_decisions(self, decisions: IntArray) -> FloatArray:
        x = np.zeros(len(self.starts))
        x[self._candidate_of(decisions)] = 1.0
        return x

    def power_w(self, decisions: IntArray) -> FloatArray:
        return self.profiles.column(self._candidate_of(decisions))

    def asap_decisions(self) -> IntArray:
        return self._decisions_of(0)

    def greedy_decisions(self, load_w: FloatArray) -> IntArray:
        added = import_increase_wh(load_w, self.profiles, self.grid.step_h)
        return self._decisions_of(int(np.argmin(added)))  # first minimum: the earliest start
