"""Heater switched on and off against a first-order (1R1C) thermal model of its room.

Model
-----
With ``a = exp(-step_s / (R C))`` and ``u[k]`` in {0, 1} (heat at ``power_w`` during step k)::

    T[k+1] = a T[k] + (1 - a) (T_out[k] + R P u[k]),    T[0] = initial_temp_c

where ``R`` [K/W] and ``C`` [J/K] are the room's resistance and capacitance, ``T_out`` [°C]
the outdoor temperature forecast and ``P`` [W] the heating power. The wanted band applies to
the temperature at the end of each step: ``comfort_min_c[k] <= T[k+1] <= comfort_max_c[k]``.

Variables: ``u`` (binary), ``T[1..N]`` and switch counters ``w[k] >= u[k] - u[k-1]``
(tie-break: the previous plan's decisions, then as few switches as the import allows).

Band out of reach
-----------------
Whether the band can be held depends on this heater alone, so it is settled here, before the
community is planned: the least-heating thermostat is tried first; if it misses the band, the
dynamic programme (:mod:`thermal_dp`) looks for the least heating that holds it, then for the
least total miss ``m`` [K·step], proven by its lower bound (a small MILP of this heater alone is
the fallback when that bound does not prove it). The community model then holds a *widened
band*: the wanted band, widened at each step where the least-miss plan leaves it just to that
plan's temperature. Every plan within it misses the band by ``m`` at most (the least: no
more), and at no step by more than the least-miss plan does; the import stays the only
objective (``[WARN_CONSTRAINT]`` with the miss). So a band out of reach is a hard band like
any other: the same rows, the same own search and the same tight bound, whether the wanted
band is reachable or not (a miss budget row ``sum(lo + hi) <= m`` instead left the search to
the MILP solver: 20 heaters of a summer demo ran to the time limit, gap 2.2e-4).

Time budget
-----------
That settling runs when the model is built, within the ``deadline`` the planner gives (its
share of the solve's time limit, see ``planner/core.py``): the dynamic programme stops at it,
each MILP run gets the time left (at most :data:`LEAST_MISS_TIME_LIMIT_S`). Past it, or when
that search fails, the least heating found so far stands (the thermostat's at worst, which the
heuristic plan also publishes) and the band is missed by at most its miss: ``[WARN_CONSTRAINT]``
when the time ran out, ``[WARN_IMPOSSIBLE]`` when the search failed. Without a deadline (a
model built directly) it runs to the end, as with time to spare.

Own search
----------
The heater answers the planner's "cheapest schedule for this cost per step" and "a proven
lower bound on it" by dynamic programming over the room temperature (:mod:`thermal_dp`),
which the MILP solver finds hard (see ``planner/polish.py``), over the schedules that hold
the held band (the wanted band, or the widened one).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from elfe_ems.planner.devices import thermal_dp
from elfe_ems.planner.devices.base import (
    Block,
    DeviceModel,
    FloatArray,
    IntArray,
    Notice,
    Sparse,
)
from elfe_ems.planner.scenario import DeviceSpec, Scenario, ThermostaticHeaterSpec
from elfe_ems.timegrid import Grid

Columns = dict[str, Any]
"""Column indices of each variable family of the heater's own MILP, and ``"n"``: their count."""

MISS_TOLERANCE_K = 1e-5  # per step: a band held within this is held (floating-point noise)
# The warning states the least miss in K·h to 0.01: a miss found within half of that of its
# proven bound, or within LEAST_MISS_RELATIVE of it if that is more, is the least possible (a
# room kept 2 K above its band all day misses it by 40 K·h: proving that to 0.005 K·h took
# 0.6 s more a heater, on 65,536 buckets, past the preparation's deadline for 20 of them)
LEAST_MISS_RESOLUTION_KH = 0.005
LEAST_MISS_RELATIVE = 1e-3
LEAST_MISS_BUCKETS = (1024, 4096, 16384, 65536)  # the dynamic programme's, finer in turn
LEAST_MISS_SCHEDULE_LEVELS = 2  # finer schedules found no less miss, at 20-300 times the time
LEAST_MISS_TIME_LIMIT_S = 1.0  # a run of the fallback MILP
DP_BUCKETS = 1024  # temperatures kept per step by the dynamic programme (thermal_dp)


class ThermostaticHeaterModel(DeviceModel):
    """On/off heating that keeps a room in its band (see the module docstring)."""

    @classmethod
    def from_scenario(
        cls,
        spec: DeviceSpec,
        grid: Grid,
        scenario: Scenario,
        deadline: float | None = None,
    ) -> ThermostaticHeaterModel:
        if not isinstance(spec, ThermostaticHeaterSpec):
            raise TypeError(f"device {spec.id}: not a thermostatic heater")
        return cls(spec, grid, np.asarray(scenario.outdoor_temp_c, dtype=float), deadline)

    def __init__(
        self,
        spec: ThermostaticHeaterSpec,
        grid: Grid,
        outdoor_temp_c: FloatArray,
        deadline: float | None = None,
    ) -> None:
        """``deadline`` (a :func:`time.perf_counter` instant, None: no limit) bounds the
        settling of a band the least-heating thermostat misses (see the module docstring)."""
        super().__init__(spec, grid)
        self.spec: ThermostaticHeaterSpec = spec
        self.decay = float(np.exp(-grid.step_s / (spec.r_k_per_w * spec.c_j_per_k)))
        self.outdoor_temp_c = np.asarray(outdoor_temp_c, dtype=float)
        self.heat_rise_k = (1 - self.decay) * spec.r_k_per_w * spec.power_w
        self.low_c = np.asarray(spec.comfort_min_c, dtype=float)
        self.high_c = np.asarray(spec.comfort_max_c, dtype=float)
        self.least_heating = self._thermostat(self._lowest_holdable_c())
        self.miss_budget_k = 0.0  # the least total miss of the band [K·step]: 0 if reachable
        if not self._holds_band(self.least_heating):
            self._settle_band(deadline)
        self.held_low_c, self.held_high_c = self._held_band()

    def _held_band(self) -> tuple[FloatArray, FloatArray]:
        """The band every plan holds [°C]: the wanted band, widened at each step where the
        least-heating plan leaves it to that plan's temperature (see the module docstring)."""
        if self.miss_budget_k == 0:
            return self.low_c, self.high_c
        temps = self.temperatures_c(self.least_heating)
        return np.minimum(self.low_c, temps), np.maximum(self.high_c, temps)

    def _settle_band(self, deadline: float | None) -> None:
        """Hold a band the least-heating thermostat misses, or settle its least miss
        (:meth:`_least_miss`), by ``deadline``; past it, or if that search fails, keep the
        least heating found so far (:meth:`_keep_found`)."""
        try:
            budget_k, proven = self._least_miss(deadline)  # may find pre-heating holds the band
        except thermal_dp.OutOfTime:
            self._keep_found(Notice.COMFORT_BAND_NOT_SETTLED, "the time limit ran out")
            return
        except Exception:  # a plan must be published whatever the search does
            self._keep_found(Notice.COMFORT_BAND_SEARCH_FAILED, "its search failed", exc_info=True)
            return
        if not self._holds_band(self.least_heating):
            self.miss_budget_k = budget_k
            least = "the least possible" if proven else "the least found (not proven least)"
            missed_kh = self.miss_budget_k * self.grid.step_h
            self.warn(
                Notice.COMFORT_BAND_OUT_OF_REACH,
                f"comfort band out of reach: missed by {least}, {missed_kh:.2f} K·h",
                missed_kh,
            )

    def _keep_found(self, notice: Notice, why: str, exc_info: bool = False) -> None:
        """The fallback of an unsettled band: the least heating found so far stands (the
        thermostat's at worst; the heuristic plan's too) and the band is missed by at most its
        miss, so the block stays feasible and every plan the planner publishes is valid."""
        if self._holds_band(self.least_heating):
            return
        self.miss_budget_k = self._total_miss_k(self.least_heating)
        missed_kh = self.miss_budget_k * self.grid.step_h
        self.warn(
            notice,
            f"comfort band not settled ({why}): missed by the least found so far "
            f"(not proven least), {missed_kh:.2f} K·h",
            missed_kh,
            exc_info=exc_info,
        )

    def _lowest_holdable_c(self) -> FloatArray:
        """The lowest temperature at the end of each step from which heating flat out keeps
        the room above the band's lower edge at every later step [°C].

        Backwards: ``need[N-1] = min[N-1]``, ``need[k] = max(min[k], (need[k+1] - (1-a)
        (T_out[k+1] + R P)) / a)``. A thermostat aiming at it pre-heats just enough before a
        rise of the band, so the band is found holdable without a solver in the usual case.
        """
        need = self.low_c.copy()
        full_heat = (1 - self.decay) * self.outdoor_temp_c + self.heat_rise_k
        for k in range(self.grid.steps - 2, -1, -1):
            need[k] = max(need[k], (need[k + 1] - full_heat[k + 1]) / self.decay)
        return need

    def temperatures_c(self, decisions: IntArray) -> FloatArray:
        """Room temperature at the end of each step [°C] under ``decisions``."""
        drive = (1 - self.decay) * self.outdoor_temp_c + self.heat_rise_k * decisions
        temps = np.empty(self.grid.steps)
        temp = self.spec.initial_temp_c
        for k, step_drive in enumerate(drive):
            temp = self.decay * temp + step_drive
            temps[k] = temp
        return temps

    def _misses_k(self, decisions: IntArray) -> tuple[FloatArray, FloatArray]:
        """Miss below and above the band at each step [K]."""
        temps = self.temperatures_c(decisions)
        return np.maximum(0.0, self.low_c - temps), np.maximum(0.0, temps - self.high_c)

    def _total_miss_k(self, decisions: IntArray) -> float:
        low, high = self._misses_k(decisions)
        return float((low + high).sum())

    def band_miss_kh(self, decisions: IntArray) -> float:
        return self._total_miss_k(decisions) * self.grid.step_h

    def _holds_band(self, decisions: IntArray) -> bool:
        low, high = self._misses_k(decisions)
        return bool(np.all(low + high <= MISS_TOLERANCE_K))

    def _holds_held_band(self, decisions: IntArray) -> bool:
        temps = self.temperatures_c(decisions)
        return bool(
            np.all(temps >= self.held_low_c - MISS_TOLERANCE_K)
            and np.all(temps <= self.held_high_c + MISS_TOLERANCE_K)
        )

    def _within_budget(self, decisions: IntArray) -> bool:
        if self.miss_budget_k == 0:
            return self._holds_band(decisions)
        return self._total_miss_k(decisions) <= self.miss_budget_k + MISS_TOLERANCE_K

    def _least_miss(self, deadline: float | None = None) -> tuple[float, bool]:
        """Least total miss of the band [K·step] found, and whether it is proven least (within
        :data:`LEAST_MISS_RESOLUTION_KH`, or :data:`LEAST_MISS_RELATIVE` of it). Sets
        ``least_heating`` to decisions that achieve it (the best found so far when it raises
        :class:`thermal_dp.OutOfTime` past ``deadline``).

        The dynamic programme (:mod:`thermal_dp`) first looks for the least heating that holds
        the band (a thermostat misses bands that only zig-zag heating holds); failing that, for
        the least miss on ever finer buckets, its soft band no wider than the least miss found,
        until its bound proves it. A small MILP of this heater alone is the fallback when no
        bound does.
        """
        steps = self.grid.steps
        holding = thermal_dp.cheapest_schedule(
            self._room(self.low_c, self.high_c), np.ones(steps), DP_BUCKETS, deadline=deadline
        )
        if holding is not None and self._holds_band(holding):
            self.least_heating = holding
            return 0.0, True
        miss = self._total_miss_k(self.least_heating)
        bound = 0.0
        for level, buckets in enumerate(LEAST_MISS_BUCKETS):
            room = self._room(self.low_c, self.high_c, slack_k=miss)
            budget = miss + MISS_TOLERANCE_K  # keeps the trajectory that achieves ``miss``
            if level < LEAST_MISS_SCHEDULE_LEVELS:
                found = thermal_dp.cheapest_schedule(
                    room, np.zeros(steps), buckets, 1.0, budget, deadline
                )
                if found is not None and self._total_miss_k(found) < miss:
                    self.least_heating, miss = found, self._total_miss_k(found)
            least = thermal_dp.cost_lower_bound(
                room, np.zeros(steps), buckets, 1.0, budget, deadline
            )
            bound = max(bound, least)
            if miss - bound <= self._resolution_k(miss):
                return miss, True
        return self._least_miss_milp(miss, bound, self._resolution_k(miss), deadline)

    def _resolution_k(self, miss_k: float) -> float:
        """How close to its proven bound a miss [K·step] is the least possible."""
        return max(LEAST_MISS_RESOLUTION_KH / self.grid.step_h, LEAST_MISS_RELATIVE * miss_k)

    def _least_miss_milp(
        self, miss: float, bound: float, resolution_k: float, deadline: float | None = None
    ) -> tuple[float, bool]:
        """:meth:`_least_miss` by HiGHS (with presolve, then without: its presolve has failed
        on some of these small models), from a ``miss`` found and a proven ``bound``, until
        they are within ``resolution_k`` [K·step] or :data:`LEAST_MISS_TIME_LIMIT_S` a run,
        or the time left to ``deadline`` if less (none left: :class:`thermal_dp.OutOfTime`)."""
        cols = self._columns(with_miss=True)
        matrix, lower, upper = self._rows(cols, with_switches=False)
        cost = np.zeros(cols["n"])
        cost[cols["low"]] = cost[cols["high"]] = 1.0
        integrality = np.zeros(cols["n"])
        integrality[cols["u"]] = 1
        col_lower, col_upper = self._bounds(cols)
        for presolve in (True, False):
            time_limit_s = LEAST_MISS_TIME_LIMIT_S
            if deadline is not None:
                time_limit_s = min(time_limit_s, deadline - time.perf_counter())
                if time_limit_s <= 0:
                    raise thermal_dp.OutOfTime
            result = milp(
                cost,
                integrality=integrality,
                bounds=Bounds(col_lower, col_upper),
                constraints=LinearConstraint(matrix, lower, upper),
                options={
                    "time_limit": time_limit_s,
                    "presolve": presolve,
                    "mip_rel_gap": resolution_k / miss,
                },
            )
            if result.x is not None:
                decisions = np.round(result.x[cols["u"]]).astype(np.int64)
                found = self._total_miss_k(decisions)
                if found < miss:
                    self.least_heating, miss = decisions, found
            dual_bound = result.get("mip_dual_bound")
            if dual_bound is not None and np.isfinite(dual_bound):
                bound = max(bound, float(dual_bound))
            if miss - bound <= resolution_k:
                return miss, True
        return miss, False

    def _columns(self, with_miss: bool) -> Columns:
        """Column indices of each variable family, and ``n`` the column count."""
        n = self.grid.steps
        names = ["u", "temp", "switch"] + (["low", "high"] if with_miss else [])
        cols: Columns = {name: np.arange(n) + i * n for i, name in enumerate(names)}
        cols["n"] = len(names) * n
        return cols

    def _bounds(self, cols: Columns) -> tuple[FloatArray, FloatArray]:
        lower = np.zeros(cols["n"])
        upper = np.ones(cols["n"])
        if "low" in cols:
            lower[cols["temp"]], upper[cols["temp"]] = -np.inf, np.inf
            upper[cols["low"]] = upper[cols["high"]] = np.inf
        else:  # the held band bounds the temperatures themselves
            lower[cols["temp"]] = self.held_low_c - MISS_TOLERANCE_K
            upper[cols["temp"]] = self.held_high_c + MISS_TOLERANCE_K
        return lower, upper

    def _rows(
        self, cols: Columns, with_switches: bool
    ) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
        """Dynamics, then the band with misses (if any), then switch counters (if asked)."""
        n = self.grid.steps
        k = np.arange(n)
        u, temp = cols["u"], cols["temp"]
        shape = (n, cols["n"])
        # T[k+1] - a T[k] - (1-a) R P u[k] = (1-a) T_out[k]   (+ a T[0] at k = 0)
        parts = [
            sp.csr_matrix(
                (
                    np.concatenate(
                        [np.ones(n), np.full(n - 1, -self.decay), np.full(n, -self.heat_rise_k)]
                    ),
                    (np.concatenate([k, k[1:], k]), np.concatenate([temp, temp[:-1], u])),
                ),
                shape=shape,
            )
        ]
        rhs = (1 - self.decay) * self.outdoor_temp_c
        rhs[0] += self.decay * self.spec.initial_temp_c
        lower, upper = [rhs], [rhs]
        if "low" in cols:  # min <= T + lo - hi <= max
            index = np.column_stack([temp, cols["low"], cols["high"]]).ravel()
            parts.append(
                sp.csr_matrix((np.tile([1.0, 1.0, -1.0], n), (np.repeat(k, 3), index)), shape=shape)
            )
            lower.append(self.low_c)
            upper.append(self.high_c)
        if with_switches:  # w[k] - u[k] + u[k-1] >= 0
            parts.append(
                sp.csr_matrix(
                    (
                        np.concatenate([np.ones(n), -np.ones(n), np.ones(n - 1)]),
                        (
                            np.concatenate([k, k, k[1:]]),
                            np.concatenate([cols["switch"], u, u[:-1]]),
                        ),
                    ),
                    shape=shape,
                )
            )
            lower.append(np.zeros(n))
            upper.append(np.full(n, np.inf))
        return sp.vstack(parts).tocsr(), np.concatenate(lower), np.concatenate(upper)

    def block(self) -> Block:
        n = self.grid.steps
        cols = self._columns(with_miss=False)
        rows, row_lower, row_upper = self._rows(cols, with_switches=True)
        col_lower, col_upper = self._bounds(cols)
        integrality = np.zeros(cols["n"], dtype=np.int8)
        integrality[cols["u"]] = 1
        tiebreak = np.zeros(cols["n"])
        tiebreak[cols["u"]] = self.preference_cost(np.arange(n))
        tiebreak[cols["switch"]] = 1.0
        return Block(
            balance_w=Sparse(
                np.arange(n), cols["u"], np.full(n, self.spec.power_w), (n, cols["n"])
            ),
            integrality=integrality,
            lower=col_lower,
            upper=col_upper,
            rows=Sparse.from_scipy(rows),
            row_lower=row_lower,
            row_upper=row_upper,
            tiebreak_cost=tiebreak,
            constant_w=np.zeros(n),
        )

    def _room(
        self, low_c: FloatArray, high_c: FloatArray, slack_k: float = 0.0
    ) -> thermal_dp.RoomDynamics:
        """The dynamic programme's view of this heater with the band ``[low_c, high_c]``: held
        (within :data:`MISS_TOLERANCE_K`), or with ``slack_k`` > 0 a soft band, left by up to
        that, whose misses count from the band itself (as :meth:`_misses_k`)."""
        tolerance_k = 0.0 if slack_k > 0 else MISS_TOLERANCE_K
        return thermal_dp.RoomDynamics(
            decay=self.decay,
            drive_c=(1 - self.decay) * self.outdoor_temp_c,
            rise_k=self.heat_rise_k,
            initial_c=self.spec.initial_temp_c,
            low_c=low_c - tolerance_k,
            high_c=high_c + tolerance_k,
            slack_k=slack_k,
        )

    def has_own_search(self) -> bool:
        return True

    def cheapest_decisions(self, column_cost: FloatArray) -> IntArray | None:
        """The dynamic programme's schedule (:mod:`thermal_dp`) for the cost of the on/off
        columns (the other columns draw no power), within the held band."""
        room = self._room(self.held_low_c, self.held_high_c)
        schedule = thermal_dp.cheapest_schedule(room, column_cost[: self.grid.steps], DP_BUCKETS)
        if schedule is None or not self._holds_held_band(schedule):
            return None
        return schedule

    def cost_lower_bound(self, column_cost: FloatArray) -> float | None:
        if np.any(column_cost[self.grid.steps :] != 0):
            return None
        room = self._room(self.held_low_c, self.held_high_c)
        return thermal_dp.cost_lower_bound(room, column_cost[: self.grid.steps], DP_BUCKETS)

    def decisions_from_solution(self, x: FloatArray) -> IntArray:
        return np.round(x[: self.grid.steps]).astype(np.int64)

    def solution_from_decisions(self, decisions: IntArray) -> FloatArray:
        before = np.concatenate([[0], decisions[:-1]])
        parts = [decisions, self.temperatures_c(decisions), np.maximum(0, decisions - before)]
        return np.concatenate(parts).astype(float)

    def power_w(self, decisions: IntArray) -> FloatArray:
        return self.spec.power_w * decisions.astype(float)

    def _thermostat(self, target_c: FloatArray) -> IntArray:
        """Heat when the room would end the step below ``target_c`` without overshooting the
        band, and always when it would end below the band."""
        decisions = np.zeros(self.grid.steps, dtype=np.int64)
        temp = self.spec.initial_temp_c
        for k in range(self.grid.steps):
            unheated = self.decay * temp + (1 - self.decay) * self.outdoor_temp_c[k]
            heated = unheated + self.heat_rise_k
            heat = unheated < self.low_c[k] or (unheated < target_c[k] and heated <= self.high_c[k])
            decisions[k] = heat
            temp = heated if heat else unheated
        return decisions

    def asap_decisions(self) -> IntArray:
        """Without EMS: an ordinary thermostat aiming at the middle of the band (or, when it
        would miss the band more than it must, the least-miss plan)."""
        thermostat = self._thermostat((self.low_c + self.high_c) / 2)
        if self._within_budget(thermostat):
            return thermostat
        return self.least_heating

    def greedy_decisions(self, load_w: FloatArray) -> IntArray:
        """Heuristic plan: the least heating that holds the band (or misses it least)."""
        del load_w
        return self.least_heating
