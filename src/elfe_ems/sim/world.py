"""The truth of one backtest task: the demo community, its weather, load and users' requests.

A task simulates one day of one season for one seed, from local noon to the next local noon
(:data:`TASK_START_H`): every request of the day is made and due inside it (machines
programmed in the evening for the next morning, cars plugged in at night until a morning
departure), so nothing is pending at its start or end and each task is independent.

Everything comes from the demo (:mod:`elfe_ems.demo`): the community and its devices
(:func:`~elfe_ems.sim.community.build_community`, the same for every day of a seed and
season; no heating in summer), the household load (BDEW H25 with noise) and PV (pvlib, with the
weather model of Rennes, which changes day to day: :mod:`elfe_ems.sim.profiles`) on 15-min
steps from :data:`HISTORY_DAYS` days before the task (the forecasters' history) to the end of
the last round's horizon. The weather forecast's PV yield is the true one times ``1 + e``,
``e`` a slow AR(1) noise (:data:`PV_FORECAST_ERROR`); its outdoor temperature is the true
one. (With an error there, a room planned along its band's bottom ends some rounds just below
it, and the planner's least-miss relaxation then cost 0.7 to 17 s per heater and round when
measured, more than the round's whole budget with tens of heaters: the temperature forecast
is not what is measured here.)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from elfe_ems.sim.community import Community, build_community
from elfe_ems.sim.measurements import Clock, in_programme, territory_power_w
from elfe_ems.sim.profiles import territory_weather
from elfe_ems.sim.synthetic import Programme, Weather, ar1_noise
from elfe_ems.timegrid import DAY_S, STEP_S, STEPS
from elfe_ems.timegrid.local import local_instant

Season = Literal["summer", "winter"]
SEASONS: tuple[Season, ...] = ("summer", "winter")
SEASON_FIRST_DAY = {"summer": date(2025, 6, 16), "winter": date(2025, 1, 13)}  # Mondays
"""Day 0 of each season; day ``n`` is ``n`` days later."""

TASK_START_H = 12
HISTORY_DAYS = 28
SIZING_DAYS = 60
HORIZON_DAYS = 1  # the last round's horizon runs this far past the task
PV_FORECAST_ERROR = 0.25  # standard deviation of the relative PV yield forecast error
FORECAST_ERROR_PHI = 0.98  # step-to-step correlation of the PV forecast error

MACHINE_RUN_CHANCE = 0.7  # share of days a machine is programmed
MACHINE_PROGRAMMED_H = (18.0, 22.5)
MORNING_H = (6.0, 9.0)  # machines' wanted ends and cars' departures
CAR_PLUG_CHANCE = 0.9
CAR_ARRIVAL_H = (17.5, 20.0)
CAR_SOC_PCT = (20, 70)
DEPARTURE_MARGIN_H = 0.5  # a car's target leaves it this much spare charging time
TANK_USE_SPREAD = 0.2  # a day's hot water is the tank's daily energy ± this share


@dataclass(frozen=True)
class TaskKey:
    """One day of one season for one seed, on a community of ``homes`` homes."""

    season: Season
    day: int
    seed: int
    homes: int


@dataclass(frozen=True)
class Site:
    """Where the community is."""

    latitude_deg: float
    longitude_deg: float
    timezone: str


@dataclass(frozen=True)
class MachineRequest:
    """A machine programmed at ``programmed_s``, to end in ``[wanted_end - max_wait,
    wanted_end]``."""

    device_id: int
    programmed_s: int
    wanted_end_s: int
    max_wait_s: int


@dataclass(frozen=True)
class CarRequest:
    """A car plugged in at ``plugged_s`` and leaving at ``departure_s``."""

    device_id: int
    plugged_s: int
    departure_s: int
    soc_pct: float
    target_soc_pct: float


@dataclass(frozen=True)
class Requests:
    """The users' requests of the day and the tanks' hot water use [Wh]."""

    machines: tuple[MachineRequest, ...]
    cars: tuple[CarRequest, ...]
    tank_use_wh: dict[int, float]


@dataclass(frozen=True)
class World:
    """The truth of one task: series on 15-min steps from ``first_s`` (step means [W], and the
    outdoor temperature [°C] at each step's middle), the community and the requests."""

    key: TaskKey
    tz: ZoneInfo
    first_s: int
    start_s: int  # the task's first round start
    community: Community
    requests: Requests
    load_w: np.ndarray
    pv_w: np.ndarray
    outdoor_temp_c: np.ndarray
    pv_yield_w_per_kwp: np.ndarray
    forecast_yield_w_per_kwp: np.ndarray  # the weather forecast's

    @property
    def end_s(self) -> int:
        """The end of the task's last step."""
        return self.start_s + STEPS * STEP_S

    def index(self, time_s: int) -> int:
        """The series index of the step beginning at ``time_s``."""
        return (time_s - self.first_s) // STEP_S

    def span(self, time_s: int, steps: int = STEPS) -> slice:
        """The series slice of ``steps`` steps from ``time_s``."""
        first = self.index(time_s)
        return slice(first, first + steps)

    def uncontrolled_balance_w(self) -> np.ndarray:
        """PV - household load [W per step]: what the EMS cannot move."""
        balance_w: np.ndarray = self.pv_w - self.load_w  # typed: the stubs answer Any
        return balance_w

    def in_comfort(self, programme: Programme, times_s: np.ndarray) -> np.ndarray:
        """Whether each instant is in a comfort period of ``programme``."""
        times = np.asarray(times_s, dtype=np.int64)
        clock = Clock.of(int(times[0]), int(times[-1]), STEP_S, self.tz)
        inside = in_programme(programme, clock)
        return inside[(times - int(times[0])) // STEP_S]


def local_time_s(day: date, hour: float, tz: ZoneInfo) -> int:
    """Unix time of local ``hour`` [h] on ``day`` (hours past 24 are the next day)."""
    extra, hour = divmod(hour, 24)
    return local_instant(day + timedelta(days=int(extra)), round(hour * 3600), tz)


def task_start_s(season: Season, day: int, tz: ZoneInfo) -> int:
    """The first round start of a task: local noon of its day."""
    return local_time_s(SEASON_FIRST_DAY[season] + timedelta(days=day), TASK_START_H, tz)


@functools.lru_cache(maxsize=8)
def community_of(season: Season, seed: int, homes: int, site: Site) -> Community:
    """The community of a seed and season (no heaters in summer: heating is off). Its
    thermostatic heaters are sized for the coldest step of the season's first
    :data:`SIZING_DAYS` days (the demo sizes them for its round's horizon): a heater that
    cannot hold its room's band costs the planner a least-miss MILP in every round."""
    tz = ZoneInfo(site.timezone)
    start = task_start_s(season, 0, tz)
    middles = start + STEP_S * (np.arange(SIZING_DAYS * STEPS) + 0.5)
    weather = territory_weather(middles, site.latitude_deg, site.longitude_deg, tz)
    first_day = weather.outdoor_temp_c[:STEPS]
    # sized on the first day shifted down to the season's coldest step
    sizing = first_day - (first_day.min() - weather.outdoor_temp_c.min())
    community = build_community(
        homes, seed, start, Weather(sizing, weather.pv_w_per_kwp[:STEPS]), tz
    )
    if season == "summer":
        return replace(community, pilot_wire_heaters=(), thermostatic_heaters=())
    return community


@functools.lru_cache(maxsize=4)
def build_world(key: TaskKey, site: Site) -> World:
    """The truth of the task ``key`` (see the module docstring); the same for the same key."""
    tz = ZoneInfo(site.timezone)
    start = task_start_s(key.season, key.day, tz)
    first = start - HISTORY_DAYS * DAY_S
    steps = (HISTORY_DAYS + 1 + HORIZON_DAYS) * STEPS
    middles = first + STEP_S * (np.arange(steps) + 0.5)
    weather = territory_weather(middles, site.latitude_deg, site.longitude_deg, tz)
    season_seed = [key.seed, SEASONS.index(key.season), key.day]
    pv, load = territory_power_w(
        key.homes, middles.astype(np.int64), weather, tz, hash_seed(season_seed)
    )
    rng = np.random.default_rng([*season_seed, 400])
    pv_error = 1 + PV_FORECAST_ERROR * ar1_noise(rng, steps, FORECAST_ERROR_PHI)
    community = community_of(key.season, key.seed, key.homes, site)
    return World(
        key=key,
        tz=tz,
        first_s=first,
        start_s=start,
        community=community,
        requests=draw_requests(community, start, tz, np.random.default_rng([*season_seed, 300])),
        load_w=load,
        pv_w=pv,
        outdoor_temp_c=weather.outdoor_temp_c,
        pv_yield_w_per_kwp=weather.pv_w_per_kwp,
        forecast_yield_w_per_kwp=weather.pv_w_per_kwp * np.clip(pv_error, 0.0, None),
    )


def hash_seed(parts: list[int]) -> int:
    """One integer seed from several (the demo's functions take one)."""
    return int(np.random.default_rng(parts).integers(2**31))


def _quarter_hour(rng: np.random.Generator, low_h: float, high_h: float) -> float:
    return round(rng.uniform(low_h, high_h) * 4) / 4


def draw_requests(
    community: Community, start_s: int, tz: ZoneInfo, rng: np.random.Generator
) -> Requests:
    """The day's requests of the piloted and manual devices alike (see the module doc)."""
    day = datetime.fromtimestamp(start_s, tz).date()
    machines = []
    for machine in community.machines:
        if rng.random() < MACHINE_RUN_CHANCE:
            programmed = local_time_s(day, _quarter_hour(rng, *MACHINE_PROGRAMMED_H), tz)
            wanted_end = local_time_s(day, 24 + _quarter_hour(rng, *MORNING_H), tz)
            machines.append(MachineRequest(machine.id, programmed, wanted_end, machine.max_wait_s))
    cars = []
    for car in community.cars:
        if rng.random() < CAR_PLUG_CHANCE:
            plugged = local_time_s(day, _quarter_hour(rng, *CAR_ARRIVAL_H), tz)
            departure = local_time_s(day, 24 + _quarter_hour(rng, *MORNING_H), tz)
            soc = float(rng.integers(CAR_SOC_PCT[0], CAR_SOC_PCT[1] + 1))
            hours = (departure - plugged) / 3600 - DEPARTURE_MARGIN_H
            reachable = soc + 100 * car.power_w * hours / car.capacity_wh
            target = max(soc, min(car.target_soc_pct, math.floor(reachable)))
            cars.append(CarRequest(car.id, plugged, departure, soc, float(target)))
    spread = rng.uniform(1 - TANK_USE_SPREAD, 1 + TANK_USE_SPREAD, len(community.water_heaters))
    tank_use = {
        tank.id: float(tank.daily_energy_wh * factor)
        for tank, factor in zip(community.water_heaters, spread, strict=True)
    }
    return Requests(tuple(machines), tuple(cars), tank_use)
