"""The closed loop of one backtest task: one simulated day, round after round.

Each quarter hour of the day the round is run in memory as production runs it: the
coordination rows and store values the devices' state gives (:class:`~elfe_ems.sim.plant.
Plant`), the spec's rules (:func:`~elfe_ems.round.inputs.build_devices`), each device's plan
in force, the forecast of the configuration, the planner (:func:`~elfe_ems.planner.solve`,
with a small time limit); the plan's rows are published, and the decisions in force are
applied for one quarter hour. The configurations (:data:`CONFIGS`) differ only by the plan:

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

import numpy as np

from elfe_ems.backtest.checks import broken_constraints, comfort_missed_kh, hot_water_missing_wh
from elfe_ems.backtest.forecast import Forecasts
from elfe_ems.backtest.metrics import EnergyFigures, energy_figures
from elfe_ems.planner import SolveOptions, solve
from elfe_ems.planner.scenario import Plan, Scenario
from elfe_ems.round.inputs import PlanHistory, PublishedRow, build_devices
from elfe_ems.round.job import _with_plan_in_force
from elfe_ems.sim.plant import Plant, Trace
from elfe_ems.sim.world import STEP_S, STEPS, Site, TaskKey, World, build_world
from elfe_ems.timegrid import Grid

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


def plan_round(
    plant: Plant,
    time_s: int,
    net_load_w: np.ndarray,
    outdoor_temp_c: np.ndarray,
    history: PlanHistory,
    options: SolveOptions,
) -> Plan:
    """The round starting at ``time_s``: the scenario as production assembles it, solved."""
    grid = Grid(time_s, STEP_S, STEPS)
    outdoor = [float(c) for c in outdoor_temp_c]
    specs, _issues = build_devices(
        plant.rows(time_s),
        grid,
        plant.world.tz,
        history,
        plant.measurements(time_s, outdoor),
        plant.thermal_models(),
    )
    scenario = Scenario(
        round_start=time_s,
        step_s=STEP_S,
        steps=STEPS,
        net_load_w=[float(w) for w in net_load_w],
        outdoor_temp_c=outdoor,
        devices=[_with_plan_in_force(spec, history, grid) for spec in specs],
    )
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
        in_force = PlanHistory(published)
        plant.step(
            time_s, lambda device, h=in_force, t=time_s: h.applied_decision(device, t, STEP_S)
        )
    return plant.trace, round_s, statuses


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
