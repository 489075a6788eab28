"""The closed loop of one backtest task: one simulated day, round after round.

Each quarter hour of the day the round is run in memory as production runs it: the
coordination rows and store values the devices' state gives (:class:`~elfe_ems.sim.plant.
Plant`) and each device's plan in force go through the live round's own scenario assembly
(:func:`~elfe_ems.round.assembly.assemble_scenario`) with the forecast of the configuration,
then the planner (:func:`~elfe_ems.planner.core.solve`, with a small time limit); the plan's rows
are published, and the decisions in force are applied for one quarter hour. The
configurations (:data:`CONFIGS`) differ only by the plan:

- ``none``: without EMS, every device as early as its user allows;
- ``persistence``, ``profile``: the EMS with that forecaster (:mod:`.forecast`);
- ``perfect``: the EMS with perfect foresight (the true balance).

Every configuration plans with the true outdoor temperature (see :mod:`.world`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from elfe_ems.backtest.checks import broken_constraints, comfort_missed_kh, hot_water_missing_wh
from elfe_ems.backtest.forecast import Forecasts
from elfe_ems.backtest.metrics import EnergyFigures, energy_figures
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import Plan, Scenario
from elfe_ems.publish.in_force import PlanHistory, PublishedRow
from elfe_ems.round.assembly import RoundInputs, assemble_scenario
from elfe_ems.sim.plant import Plant, Trace
from elfe_ems.sim.world import Site, TaskKey, World, build_world
from elfe_ems.timegrid import STEP_S, STEPS, Grid

CONFIGS = ("none", "persistence", "profile", "perfect")
ROUND_TIME_LIMIT_S = 2.5
ROUND_GAP = 1e-3


@dataclass(frozen=True)
class Task:
    """One independent run: a day of a season for a seed, in one configuration."""

    key: TaskKey
    config: str
    site: Site
    time_limit_s: float = ROUND_TIME_LIMIT_S
    gap: float = ROUND_GAP


@dataclass(frozen=True)
class TaskResult:
    """What one task measured. ``mae_w``: the forecast's mean absolute error [W] at each lead
    (96 quarter hours) over the day's rounds, for the configurations with a forecaster."""

    task: Task
    figures: EnergyFigures
    comfort_missed_kh: float
    hot_water_missing_wh: float
    broken: tuple[str, ...]
    net_load_w: np.ndarray  # household load - PV + flexible devices, per step
    round_s: tuple[float, ...]  # each round's wall time (reading, rules, solve)
    statuses: dict[str, int] = field(default_factory=dict)  # solver status -> rounds
    mae_w: np.ndarray | None = None
    elapsed_s: float = 0.0


class _QuietRounds:
    """Rounds log every relaxation: thousands in a backtest, which counts what matters. The
    package's logger is raised to ERROR while any run of this process is in progress (runs
    may share a process as threads: the level is restored when the last one ends)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs = 0
        self.level = logging.NOTSET

    @contextmanager
    def __call__(self) -> Iterator[None]:
        logger = logging.getLogger("elfe_ems")
        with self.lock:
            if self.runs == 0:
                self.level = logger.level
                logger.setLevel(logging.ERROR)
            self.runs += 1
        try:
            yield
        finally:
            with self.lock:
                self.runs -= 1
                if self.runs == 0:
                    logger.setLevel(self.level)


quiet_rounds = _QuietRounds()


def round_scenario(
    plant: Plant,
    time_s: int,
    net_load_w: np.ndarray,
    outdoor_temp_c: np.ndarray,
    history: PlanHistory,
) -> Scenario:
    """The scenario of the round starting at ``time_s``, as the live round assembles it from
    the same rows and values (``history``: the rows published before it)."""
    outdoor = [float(c) for c in outdoor_temp_c]
    inputs = RoundInputs(
        rows=plant.rows(time_s),
        net_load_w=[float(w) for w in net_load_w],
        measurements=plant.measurements(time_s, outdoor),
        thermal_models=plant.thermal_models(),
        history=history,
        in_force=history,  # the round's own rows are never in memory before it has run
    )
    scenario, _issues = assemble_scenario(inputs, Grid(time_s, STEP_S, STEPS), plant.world.tz)
    return scenario


def plan_round(
    plant: Plant,
    time_s: int,
    net_load_w: np.ndarray,
    outdoor_temp_c: np.ndarray,
    history: PlanHistory,
    options: SolveOptions,
) -> Plan:
    """The round starting at ``time_s``: its scenario (:func:`round_scenario`), solved."""
    scenario = round_scenario(plant, time_s, net_load_w, outdoor_temp_c, history)
    plan, _stats = solve(scenario, options)
    return plan


def simulate(world: World, task: Task) -> tuple[Trace, list[float], dict[str, int]]:
    """Run the task's day; its trace, each round's wall time, the solver statuses."""
    piloted = task.config != "none"
    plant = Plant(world, piloted)
    forecasts = Forecasts(world) if piloted else None
    options = SolveOptions(time_limit_s=task.time_limit_s, gap=task.gap)
    published: dict[int, list[PublishedRow]] = {}
    round_s: list[float] = []
    statuses: dict[str, int] = {}
    for r in range(STEPS):
        time_s = world.start_s + r * STEP_S
        if forecasts is not None:
            started = time.monotonic()
            plan = plan_round(
                plant,
                time_s,
                -forecasts.balance(task.config, time_s),
                world.outdoor_temp_c[world.span(time_s)],
                PlanHistory(published),
                options,
            )
            for device in plan.devices:
                if device.status == "planned":
                    row = PublishedRow(time_s, tuple(device.decisions))
                    published.setdefault(device.id, []).append(row)
            round_s.append(time.monotonic() - started)
            statuses[plan.solver.status] = statuses.get(plan.solver.status, 0) + 1
        plant.step(time_s, partial(_applied, PlanHistory(published), time_s))
    return plant.trace, round_s, statuses


def _applied(in_force: PlanHistory, time_s: int, device_id: int) -> int | None:
    """The decision the control daemon applies to the device in the step at ``time_s``."""
    return in_force.applied_decision(device_id, time_s, STEP_S)


def run_task(task: Task) -> TaskResult:
    """Simulate one task and measure it (see the module docstring)."""
    started = time.monotonic()
    if task.config not in CONFIGS:
        raise ValueError(f"unknown configuration {task.config!r} (one of {', '.join(CONFIGS)})")
    world = build_world(task.key, task.site)
    with quiet_rounds():
        trace, round_s, statuses = simulate(world, task)
    span = world.span(world.start_s)
    load, pv = world.load_w[span], world.pv_w[span]
    mae = None
    if task.config in ("persistence", "profile"):
        mae = Forecasts(world).absolute_errors_w(task.config).mean(axis=0)
    return TaskResult(
        task=task,
        figures=energy_figures(load, pv, trace.flexible_w),
        comfort_missed_kh=comfort_missed_kh(world, trace),
        hot_water_missing_wh=hot_water_missing_wh(trace),
        broken=tuple(broken_constraints(world, trace)),
        net_load_w=load - pv + trace.flexible_w,
        round_s=tuple(round_s),
        statuses=statuses,
        mae_w=mae,
        elapsed_s=time.monotonic() - started,
    )
