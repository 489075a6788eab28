"""``ems demo``: a simulated community in a local folder, its measurement history, the real
acquisition jobs on it, one planning round, and a report.

The demo plays the production schedule around one round: the round start ``R`` is the first
quarter hour whose round time (``R`` - 30 s, e.g. 14:14:30) is at or after the demo's time;
the history ends and the jobs run at ``R`` - 60 s (the power prediction's time), the round
at ``R`` - 30 s, so its solver gets the time a scheduled round gets. The weather job needs
the internet: the store's weather forecast is written from the weather model's temperatures
instead (:mod:`elfe_ems.sim.profiles`: a seasonal model of Rennes, calibrated on its climate
normals), and recorded as a run of the weather job that says so (the Health page shows what
the demo did, each step as the run of its job). The demo's time is now, or given (``--at``),
or the current local time of day on a given day (``--date``), whose season sets the weather.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from elfe_ems.config import Settings
from elfe_ems.db.engine import engine_for
from elfe_ems.demo.folder import DemoFiles, prepare_folder, write_config
from elfe_ems.demo.report import write_report
from elfe_ems.jobs.registry import job_named
from elfe_ems.jobs.runs import recorded_run
from elfe_ems.jobs.weather import store_forecast
from elfe_ems.planner.scenario import Scenario, read_scenario
from elfe_ems.round.job import RoundOutcome, round_start_after, run_round
from elfe_ems.sim.community import (
    Community,
    build_community,
    create_coordination,
    write_coordination,
)
from elfe_ems.sim.measurements import SAMPLE_S, Clock, record, simulate
from elfe_ems.sim.profiles import WEATHER_MODEL_NAME, territory_weather
from elfe_ems.sim.synthetic import Weather
from elfe_ems.sources.weather import WeatherPoint
from elfe_ems.store import migrate
from elfe_ems.store.thermal import ThermalModel, set_model
from elfe_ems.timegrid import DAY_S, STEP_S, STEPS, Grid

ROUND_TIME_LIMIT_S = 20.0
"""The solver time of a scheduled round (a round at :14:30 has 20 s before publishing)."""
ROUND_LEAD_S = 30  # the round runs 30 s before its start
JOBS_LEAD_S = 60  # the power prediction 60 s before it
WEATHER_PAST_S = 6 * 3600
WEATHER_AHEAD_S = 48 * 3600
JOBS = ("power-prediction", "cycles", "water-heater-energy", "room-temperature")
"""The acquisition jobs the demo runs, in order (the weather job needs the internet)."""


@dataclass(frozen=True)
class DemoOptions:
    """What ``ems demo`` was asked for."""

    homes: int = 200
    seed: int = 1
    days: int = 3
    folder: Path = Path("ems-data/demo")
    at_s: float | None = None  # None: now, or the current local time of day on ``day``
    day: date | None = None  # a local day of the settings' time zone; not with ``at_s``


@dataclass(frozen=True)
class DemoOutcome:
    """What the demo did."""

    files: DemoFiles
    settings: Settings
    community: Community
    round_at_s: int
    job_summaries: dict[str, str]
    outcome: RoundOutcome
    scenario: Scenario
    samples: int
    elapsed_s: float


def demo_time_s(options: DemoOptions, tz: ZoneInfo, now_s: float) -> float:
    """The demo's time [Unix s]: ``options.at_s``, else the local time of day of ``now_s`` on
    ``options.day``, else ``now_s``."""
    if options.at_s is not None:
        return options.at_s
    if options.day is None:
        return now_s
    now = datetime.fromtimestamp(now_s, tz)
    return datetime.combine(options.day, now.time(), tz).timestamp()


def demo_times(at_s: float) -> tuple[int, int, int]:
    """The round start, the round's time and the jobs' time [Unix s] of a demo at ``at_s``."""
    round_start = round_start_after(at_s + ROUND_LEAD_S)
    return round_start, round_start - ROUND_LEAD_S, round_start - JOBS_LEAD_S


class _Steps:
    """The progress bar: one task whose description says what is being done."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("", total=total)

    def start(self, description: str) -> None:
        self.progress.update(self.task, description=description)

    def advance(self, steps: int = 1) -> None:
        self.progress.advance(self.task, steps)


def run_demo(options: DemoOptions, console: Console) -> DemoOutcome:
    """Build the demo in ``options.folder`` and run it (see the module docstring); raises
    :class:`~elfe_ems.demo.folder.DemoFolderError` for a folder that is not a demo's and
    :class:`~elfe_ems.round.job.RoundError` or :class:`~elfe_ems.jobs.registry.JobError` when
    the round or a job fails."""
    started = time.monotonic()
    if options.homes < 1 or options.days < 1:
        raise ValueError(f"need --homes >= 1 and --days >= 1 (got {options.homes}, {options.days})")
    if options.at_s is not None and options.day is not None:
        raise ValueError("give the demo's time (at_s) or its day, not both")
    files = prepare_folder(options.folder)
    settings = write_config(files, ROUND_TIME_LIMIT_S)
    tz = ZoneInfo(settings.timezone)
    round_start, round_at, jobs_at = demo_times(demo_time_s(options, tz, time.time()))
    columns = (SpinnerColumn(), TextColumn("{task.description:<42}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f} %"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=False) as progress:
        steps = _Steps(progress, total=100)
        steps.start("weather and standard profiles")
        clock = Clock.of(jobs_at - options.days * DAY_S, jobs_at, SAMPLE_S, tz)
        middles = Grid(round_start, STEP_S, STEPS).round_start + STEP_S * (np.arange(STEPS) + 0.5)
        horizon = territory_weather(middles, settings.latitude_deg, settings.longitude_deg, tz)
        past = territory_weather(clock.times_s, settings.latitude_deg, settings.longitude_deg, tz)
        steps.advance(5)
        steps.start(f"community of {options.homes} homes")
        community = build_community(
            options.homes,
            options.seed,
            round_start,
            Weather(horizon.outdoor_temp_c, horizon.pv_w_per_kwp),
            tz,
        )
        _databases(files, settings, community)
        steps.advance(5)
        steps.start(f"{options.days} days of measurements")
        history = simulate(community, clock, past, tz, options.seed, settings.balance_item_name)
        with engine_for(settings.measurements_url or "") as engine:
            per_item = 30 / len(history.samples)
            record(engine, history, lambda: steps.advance(per_item))  # type: ignore[arg-type]
        summaries: dict[str, str] = {}
        for name in JOBS:
            steps.start(f"job {name}")
            with recorded_run(settings, name) as run:
                run.summary = summaries[name] = job_named(name).load()(settings, jobs_at)
            steps.advance(5)
        steps.start("weather forecast from the model")
        with recorded_run(settings, "weather") as run:  # recorded as what it is: not fetched
            run.summary = summaries["weather"] = _store_weather(settings, round_start, jobs_at, tz)
        steps.advance(2)
        steps.start(f"planning round (solver up to {ROUND_TIME_LIMIT_S:g} s)")
        with recorded_run(settings, "round") as run:
            outcome = run_round(settings, round_at)
            run.summary = f"demo round: {outcome.rows_published} rows published"
        steps.advance(38)
        steps.start("report")
        scenario = read_scenario(outcome.scenario_path)
        write_report(files.report, community, scenario, outcome.plan, tz, outcome.issues)
        steps.advance(5)
        steps.start("done")
    return DemoOutcome(
        files,
        settings,
        community,
        round_at,
        summaries,
        outcome,
        scenario,
        history.sample_count,
        time.monotonic() - started,
    )


def _databases(files: DemoFiles, settings: Settings, community: Community) -> None:
    """The coordination tables with the community's rows; the store and output tables, with
    the thermal model of every thermostatic heater's room."""
    create_coordination(str(files.coordination))
    with engine_for(settings.coordination_url) as engine:
        write_coordination(engine, community)
    with engine_for(settings.store_url) as engine:
        migrate.upgrade(engine, "store")
        migrate.upgrade(engine, "output")
        with engine.begin() as connection:
            for heater in community.thermostatic_heaters:
                model = ThermalModel(
                    heater.model_id,
                    heater.r_k_per_w,
                    heater.c_j_per_k,
                    f"room of device {heater.id}",
                )
                set_model(connection, model)


def _store_weather(settings: Settings, round_start: int, fetched_at: int, tz: ZoneInfo) -> str:
    """The store's weather forecast from the model's temperatures, hourly, as if fetched at
    ``fetched_at``; a one-line summary."""
    first = (round_start - WEATHER_PAST_S) // 3600 * 3600
    hours = np.arange(first, round_start + WEATHER_AHEAD_S + 1, 3600)
    temps = territory_weather(
        hours, settings.latitude_deg, settings.longitude_deg, tz
    ).outdoor_temp_c
    points = [
        WeatherPoint(int(t), 3600, round(float(c), 1), None, None, None, None)
        for t, c in zip(hours, temps, strict=True)
    ]
    with engine_for(settings.store_url) as engine, engine.begin() as connection:
        store_forecast(connection, points, fetched_at)
    return f"{len(points)} hourly temperatures from the {WEATHER_MODEL_NAME} stored (not fetched)"
