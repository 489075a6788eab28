"""Seeded synthetic communities: realistic scenarios for benchmarks, examples and tests.

:func:`community_scenario` builds one planning round (a :class:`~elfe_ems.planner.scenario.Scenario`
of 96 quarter hours) for a community of households: the net load (household base load minus
PV), the outdoor temperature, and flexible devices of the five types with values in the
ranges the ELFE databases hold. The same arguments and seed always give the same scenario;
each part (weather, each device type) draws from its own random stream, so changing one
device count leaves the others unchanged.

Units: powers in W (mean over a step), energies in Wh, times in Unix seconds UTC,
temperatures in °C. Hours of day are local time in Europe/Paris, DST-aware.

Device type ids (``machine_type``) follow the coordination database: 111 washing machine,
112 dishwasher, 113 dryer (the screen pages 2, 3, 4), 221 EV, 131 water heater, 151
pilot-wire heater and 155 thermostatic heater (the split of 151/155 between the two heater
kinds is our assumption: the database only says both are heaters).

Every generated device can be planned as given: windows fit their cycle or run, EV targets
are reachable by the deadline, heaters can hold their bands. Thermostatic heaters need two
departures from a literal reading of the database, both physical:

- the seeded thermal models describe a whole house (``R·P`` is only 4-14 K for a 1-2.5 kW
  heater: too little to heat a house to 19 °C in winter), so each heater heats one room, with
  the house's time constant ``R·C`` (3.6 h) and an ``R`` sized for its heater;
- a room cannot jump from the eco band to the comfort band in one quarter hour, so the band's
  top is the comfort band's top while the room pre-heats before a comfort period and while it
  cools down after one (the bottom stays the programme's).

In summer heating is off: a community given by ``homes`` then has no heaters, and heaters asked
for explicitly cannot keep their rooms below the band's top (the planner relaxes it).

Run as a module to write a scenario file::

    python -m elfe_ems.sim.synthetic --homes 20 --seed 1 -o examples/community-20-homes.json
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from elfe_ems.device_types import (
    DISHWASHER,
    DRYER,
    EV,
    PILOT_WIRE_HEATER,
    THERMOSTATIC_HEATER,
    WASHING_MACHINE,
    WATER_HEATER,
)
from elfe_ems.planner.scenario import (
    AnyDeviceSpec,
    ComfortPeriod,
    EvSpec,
    MachineSpec,
    PilotWireHeaterSpec,
    Scenario,
    ThermostaticHeaterSpec,
    WaterHeaterSpec,
)
from elfe_ems.timegrid import STEP_S, STEPS, Grid
from elfe_ems.timegrid.local import local_instant

Season = Literal["summer", "winter"]
Rng = np.random.Generator

LOCAL_TZ = ZoneInfo("Europe/Paris")
LONGITUDE_DEG = 2.35  # Paris: solar noon is about 11:51 UTC
RENNES_LATITUDE_DEG, RENNES_LONGITUDE_DEG = 48.07, -1.73  # the weather of brittany_weather


DEVICES_PER_HOME = {
    "machine": 0.3,
    "water_heater": 0.3,
    "ev": 0.1,
    "pilot_wire_heater": 0.3,
    "thermostatic_heater": 0.2,
}
HEATERS = ("pilot_wire_heater", "thermostatic_heater")

# Learned cycles [W per 15-min step]: heating peaks of ~2 kW, then the motor (150-500 W).
CYCLES_W: dict[int, tuple[tuple[float, ...], ...]] = {
    WASHING_MACHINE: (
        (2050, 1400, 210, 180, 170, 190, 480, 320),  # cotton 40 °C, 2 h
        (1950, 2050, 900, 200, 180, 170, 160, 190, 180, 210, 470, 330),  # eco 60 °C, 3 h
        (1800, 300, 250, 450),  # quick 30 °C, 1 h
    ),
    DISHWASHER: (
        (80, 2000, 1300, 100, 90, 1950, 700, 30),  # normal, 2 h
        (60, 1900, 800, 90, 70, 60, 60, 70, 1850, 600, 40, 20),  # eco, 3 h
        (1750.78, 516.62, 1365.61, 56.96, 50.72, 180.34, 1618.80, 4.05),  # ELFE default.csv
    ),
    DRYER: (
        (2300, 2400, 2350, 2200, 1500, 400),  # resistive, 1.5 h
        (900, 950, 900, 880, 850, 820, 800, 600, 200),  # heat pump, 2.25 h
    ),
}
MACHINE_MIX = {WASHING_MACHINE: 0.45, DISHWASHER: 0.35, DRYER: 0.2}

# Seeded thermal models (chauffage_asservi_modele_thermique): R [K/W], C [J/K] of a house.
THERMAL_MODELS = ((0.003893, 3_328_767.0), (0.004570, 2_835_616.0), (0.005622, 2_305_479.0))

# Off-peak windows of water heaters [local h]: a night window, or a split night + midday.
NIGHT_WINDOWS_H = ((22.0, 30.0), (22.5, 30.5), (23.0, 31.0))
SPLIT_WINDOWS_H = ((1.0, 5.0), (12.0, 16.0))

ROOM_MARGIN_K = 1.0  # full heating holds the room this far above the comfort band's bottom
BAND_SHARE = 0.9  # share of a thermostatic band that one on step and one off step may use
START_MARGIN_K = 0.05  # a room's initial temperature is this far inside what it can reach


@dataclass(frozen=True)
class Weather:
    """The round's weather at each step: outdoor temperature [°C] and PV yield [W per kWp]."""

    outdoor_temp_c: np.ndarray
    pv_w_per_kwp: np.ndarray


@dataclass(frozen=True)
class Programme:
    """A heater's weekly programme: comfort periods [local h] on weekdays and weekends."""

    weekday_h: tuple[tuple[float, float], ...]
    weekend_h: tuple[tuple[float, float], ...]


def community_scenario(
    homes: int | None = None,
    *,
    machines: int | None = None,
    water_heaters: int | None = None,
    evs: int | None = None,
    pilot_wire_heaters: int | None = None,
    thermostatic_heaters: int | None = None,
    season: Season = "winter",
    round_start: int,
    seed: int,
    weather: Weather | None = None,
) -> Scenario:
    """A seeded community round of 96 quarter hours from ``round_start`` [Unix s].

    Parameters
    ----------
    homes
        Number of households: scales the base load and the PV. A device count left at None
        is then ``homes`` times its rate in :data:`DEVICES_PER_HOME` (no heaters in summer).
        When None, device counts left at None are 0 and the community is just large enough
        to own the devices asked for (``max(count / rate)`` homes).
    machines, water_heaters, evs, pilot_wire_heaters, thermostatic_heaters
        Explicit device counts.
    season
        The weather: winter (-2..8 °C, little PV) or summer (12..30 °C, midday PV surplus).
        The date is ``round_start``'s; the season only sets the weather.
    round_start
        Start of the first step, a multiple of 900 s.
    seed
        Seed of every random draw.
    weather
        The round's weather, one value per step, instead of the season's synthetic weather
        (e.g. :func:`brittany_weather`); the season still sets the household load and
        whether a community given by ``homes`` has heaters. Every other draw is unchanged.
    """
    if round_start % STEP_S:
        raise ValueError(f"round_start ({round_start}) is not a multiple of {STEP_S} s")
    asked = {
        "machine": machines,
        "water_heater": water_heaters,
        "ev": evs,
        "pilot_wire_heater": pilot_wire_heaters,
        "thermostatic_heater": thermostatic_heaters,
    }
    counts = device_counts(homes, asked, season)
    homes = homes if homes is not None else _homes_owning(counts)
    grid = Grid(round_start, STEP_S, STEPS)
    if weather is None:
        weather = _weather(grid, season, _stream(seed, 0))
    elif not len(weather.outdoor_temp_c) == len(weather.pv_w_per_kwp) == grid.steps:
        raise ValueError(f"the weather must have one value per step ({grid.steps})")
    net_load_w = _household_load_w(grid, homes, season, _stream(seed, 1)) - community_pv_w(
        homes, weather, _stream(seed, 2)
    )
    ids = iter(range(1, sum(counts.values()) + 1))
    devices: list[AnyDeviceSpec] = []
    for index, (kind, make) in enumerate(_MAKERS.items()):
        rng = _stream(seed, 10 + index)
        devices += [make(next(ids), grid, weather, rng) for _ in range(counts[kind])]
    return Scenario(
        round_start=round_start,
        step_s=STEP_S,
        steps=STEPS,
        net_load_w=_rounded(net_load_w, 1),
        outdoor_temp_c=_rounded(weather.outdoor_temp_c, 2),
        devices=devices,
    )


def device_counts(
    homes: int | None, asked: dict[str, int | None], season: Season
) -> dict[str, int]:
    """Device count per type: as asked, else the per-home rate (heaters in winter only)."""
    counts = {}
    for kind, count in asked.items():
        if count is not None:
            counts[kind] = count
        elif homes is None or (season == "summer" and kind in HEATERS):
            counts[kind] = 0
        else:
            counts[kind] = math.floor(DEVICES_PER_HOME[kind] * homes + 0.5)
    if any(n < 0 for n in counts.values()) or (homes is not None and homes < 1):
        raise ValueError(f"counts must be >= 0 and homes >= 1: homes={homes}, {counts}")
    return counts


def _homes_owning(counts: dict[str, int]) -> int:
    """The smallest community whose per-home rates give at least ``counts`` devices."""
    return max([1, *(math.ceil(n / DEVICES_PER_HOME[kind]) for kind, n in counts.items())])


def _stream(seed: int, part: int) -> Rng:
    """An independent random stream per part of the scenario."""
    return np.random.default_rng([seed, part])


def _rounded(values: np.ndarray, decimals: int) -> list[float]:
    """Plain floats rounded to ``decimals``, for a readable JSON file."""
    return [round(float(v), decimals) for v in values]


# ---------------------------------------------------------------- local time and the grid


def _midpoints(grid: Grid) -> np.ndarray:
    """Unix time of the middle of each step [s]."""
    return grid.round_start + (np.arange(grid.steps) + 0.5) * grid.step_s


def _local_hours(times: np.ndarray) -> np.ndarray:
    """Local hour of day [h, 0-24) of each Unix time."""
    moments = (datetime.fromtimestamp(float(t), LOCAL_TZ) for t in times)
    return np.array([m.hour + m.minute / 60 + m.second / 3600 for m in moments])


def _at_local(day: date, hour: float) -> int:
    """Unix time of a local wall-clock ``hour`` [h] of ``day``; hours past 24 are the next day."""
    extra_days, hour = divmod(hour, 24)
    return local_instant(day + timedelta(days=int(extra_days)), round(hour * 3600), LOCAL_TZ)


def _local_days(grid: Grid) -> list[date]:
    """Local dates from the day before the round to the day after the horizon ends."""
    first = datetime.fromtimestamp(grid.round_start, LOCAL_TZ).date() - timedelta(days=1)
    last = datetime.fromtimestamp(grid.end, LOCAL_TZ).date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _next_local(after: int, hour: float) -> int:
    """First Unix time at or after ``after`` whose local time is ``hour`` [h]."""
    day = datetime.fromtimestamp(after, LOCAL_TZ).date()
    return next(t for i in range(3) if (t := _at_local(day + timedelta(days=i), hour)) >= after)


def _quarter_hour(rng: Rng, low_h: float, high_h: float) -> float:
    """A time or duration [h] drawn in ``[low_h, high_h]``, on the quarter hour."""
    return round(rng.uniform(low_h, high_h) * 4) / 4


def _tenths(rng: Rng, low: float, high: float) -> float:
    """A value drawn on the 0.1 grid in ``[low, high]`` (``low`` rounded up when the range
    holds no tenth): set points are stored in deci-kelvin."""
    first, last = math.ceil(low * 10 - 1e-9), math.floor(high * 10 + 1e-9)
    return int(rng.integers(first, max(first, last) + 1)) / 10


def ar1_noise(rng: Rng, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) noise of unit variance: smooth step-to-step fluctuations."""
    noise = np.empty(n)
    noise[0] = rng.standard_normal()
    innovations = rng.standard_normal(n) * math.sqrt(1 - phi**2)
    for k in range(1, n):
        noise[k] = phi * noise[k - 1] + innovations[k]
    return noise


# ------------------------------------------------------------------- weather and net load


def _weather(grid: Grid, season: Season, rng: Rng) -> Weather:
    """Outdoor temperature (daily cycle, coldest at 03:00 and warmest at 15:00 local) and PV
    yield (clear-sky bell around solar noon, scaled by the day's clearness and passing clouds).
    """
    hours = _local_hours(_midpoints(grid))
    coldest, warmest = (
        (rng.uniform(-2, 2), rng.uniform(4, 8))
        if season == "winter"
        else (rng.uniform(12, 17), rng.uniform(24, 30))
    )
    cycle = np.cos(2 * np.pi * (hours - 15) / 24)
    temp_c = (coldest + warmest) / 2 + (warmest - coldest) / 2 * cycle
    temp_c += 0.3 * ar1_noise(rng, grid.steps, 0.9)

    day_length_h, peak_yield = (8.5, 0.45) if season == "winter" else (15.5, 0.78)
    solar_h = (_midpoints(grid) / 3600 + LONGITUDE_DEG / 15) % 24
    angle = np.pi * (solar_h - (12 - day_length_h / 2)) / day_length_h
    clear_sky = np.where((angle > 0) & (angle < np.pi), np.sin(np.clip(angle, 0, np.pi)), 0.0)
    clearness = rng.uniform(0.35, 0.9) if season == "winter" else rng.uniform(0.75, 1.0)
    clouds = np.clip(clearness + 0.12 * ar1_noise(rng, grid.steps, 0.85), 0.1, 1.0)
    return Weather(temp_c, 1000 * peak_yield * clear_sky**1.2 * clouds)


def brittany_weather(grid: Grid) -> Weather:
    """The weather of Rennes (Brittany) at the middle of each step of ``grid``, any day of the
    year: the seasonal model of :func:`elfe_ems.sim.profiles.territory_weather` (Météo-France
    normals, day-to-day anomalies and cloud cover, pvlib's clear sky on a south 30° roof).
    Deterministic: the same grid always gives the same weather."""
    # imported here: pandas, pvlib and demandlib take most of a second to import, which the
    # communities of the synthetic weather do not need
    from elfe_ems.sim.profiles import territory_weather  # noqa: PLC0415

    midpoints = _midpoints(grid)
    rennes = territory_weather(midpoints, RENNES_LATITUDE_DEG, RENNES_LONGITUDE_DEG, LOCAL_TZ)
    return Weather(rennes.outdoor_temp_c, rennes.pv_w_per_kwp)


def _daily_shape(hours: np.ndarray) -> np.ndarray:
    """Relative household load at local ``hours``: night floor, morning and evening peaks."""

    def bump(centre_h: float, width_h: float) -> np.ndarray:
        distance = (hours - centre_h + 12) % 24 - 12
        return np.exp(-0.5 * (distance / width_h) ** 2)

    return 0.25 + 0.35 * bump(7.5, 1.0) + 0.15 * bump(12.5, 1.5) + 0.6 * bump(19.5, 1.8)


def _household_load_w(grid: Grid, homes: int, season: Season, rng: Rng) -> np.ndarray:
    """Non-flexible load of ``homes`` households [W]: 500 W (winter) or 400 W (summer) mean
    per home, with a noise that shrinks as more homes average out."""
    mean_w = 500.0 if season == "winter" else 400.0
    day_mean = _daily_shape((np.arange(96) + 0.5) / 4).mean()
    # typed: numpy's stubs make the ratio to a mean Any, and so the load
    shape: npt.NDArray[np.float64] = _daily_shape(_local_hours(_midpoints(grid))) / day_mean
    noise: npt.NDArray[np.float64] = (0.04 + 0.6 / math.sqrt(homes)) * ar1_noise(
        rng, grid.steps, 0.7
    )
    return np.maximum(0.0, homes * mean_w * shape * (1 + noise))


def community_pv_w(homes: int, weather: Weather, rng: Rng) -> np.ndarray:
    """Community PV production [W]: 1.3-1.7 kWp per home."""
    return homes * rng.uniform(1.3, 1.7) * weather.pv_w_per_kwp


# --------------------------------------------------------------------------------- devices


def machine_spec(device_id: int, grid: Grid, _weather: Weather, rng: Rng) -> MachineSpec:
    """A washing machine, dishwasher or dryer with one of its cycles (scaled ±10 %).

    The user wants it done by the next morning (06:00-09:00), or 1-11 h after the soonest it
    could end, and accepts that it finishes up to ``delai`` = 1-8 h before: the cycle must end in
    ``[wanted_end - delai, wanted_end]``.
    """
    kind = int(rng.choice(list(MACHINE_MIX), p=list(MACHINE_MIX.values())))
    cycles = CYCLES_W[kind]
    profile = np.asarray(cycles[rng.integers(len(cycles))]) * rng.uniform(0.9, 1.1)
    cycle_s = len(profile) * grid.step_s
    soonest_end = grid.round_start + cycle_s + grid.step_s
    wanted_end = _next_local(soonest_end, _quarter_hour(rng, 6, 9))
    if rng.random() < 0.5 or wanted_end > grid.end:
        wanted_end = soonest_end + round(_quarter_hour(rng, 1, 11) * 3600)
    delay_s = round(_quarter_hour(rng, 1, 8) * 3600)
    return MachineSpec(
        id=device_id,
        machine_type=kind,
        type="machine",
        profile_w=_rounded(profile, 1),
        earliest_start=max(grid.round_start, wanted_end - delay_s - cycle_s),
        latest_end=wanted_end,
    )


def water_heater_spec(device_id: int, grid: Grid, _weather: Weather, rng: Rng) -> WaterHeaterSpec:
    """A 1.5-3 kW tank owing 2-8 kWh (capped to what its longest window in the horizon can
    deliver), with its off-peak windows of the days the horizon touches."""
    power_w = 100.0 * rng.integers(15, 31)
    windows_h = (
        [NIGHT_WINDOWS_H[rng.integers(len(NIGHT_WINDOWS_H))]]
        if rng.random() < 0.7
        else list(SPLIT_WINDOWS_H)
    )
    windows = _windows(grid, windows_h)
    longest_s = max(min(end, grid.end) - max(start, grid.round_start) for start, end in windows)
    energy_wh = min(rng.uniform(2000, 8000), 0.95 * power_w * longest_s / 3600)
    return WaterHeaterSpec(
        id=device_id,
        machine_type=WATER_HEATER,
        type="water_heater",
        power_w=power_w,
        energy_wh=round(energy_wh),
        windows=windows,
    )


def _windows(grid: Grid, windows_h: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Daily windows [local h] as Unix ``(start, end)`` pairs on the days the horizon touches,
    those that overlap the horizon only."""
    windows = [
        (_at_local(day, start_h), _at_local(day, end_h))
        for day in _local_days(grid)
        for start_h, end_h in windows_h
    ]
    return [(start, end) for start, end in windows if start < grid.end and end > grid.round_start]


def ev_spec(device_id: int, grid: Grid, _weather: Weather, rng: Rng) -> EvSpec:
    """A car plugged in now (3.7 or 7.4 kW, 30-75 kWh, 20-70 % charged) that leaves the next
    morning (06:00-09:00) wanting 60-100 %, lowered to what it can reach by then."""
    power_w = 3700.0 if rng.random() < 0.6 else 7400.0
    capacity_wh = 500.0 * rng.integers(60, 151)
    soc = float(rng.integers(20, 71))
    deadline = _next_local(grid.round_start + 2 * 3600, _quarter_hour(rng, 6, 9))
    hours = (min(deadline, grid.end) - grid.round_start) / 3600 - 0.5
    reachable = soc + 100 * power_w * hours / capacity_wh
    target = max(soc, min(5.0 * rng.integers(12, 21), math.floor(reachable)))
    return EvSpec(
        id=device_id,
        machine_type=EV,
        type="ev",
        power_w=power_w,
        capacity_wh=capacity_wh,
        soc_pct=soc,
        target_soc_pct=target,
        available_from=grid.round_start,
        deadline=deadline,
    )


def random_programme(rng: Rng) -> Programme:
    """Comfort periods [local h]: weekday mornings and evenings, longer at weekends."""
    morning = _quarter_hour(rng, 5.5, 7)
    evening = _quarter_hour(rng, 16.5, 18.5)
    bedtime = _quarter_hour(rng, 22, 23.5)
    return Programme(
        weekday_h=((morning, morning + _quarter_hour(rng, 2, 3.5)), (evening, bedtime)),
        weekend_h=((morning + 1.5, 11.5), (evening - 1.5, bedtime)),
    )


def _programme_periods(programme: Programme, grid: Grid) -> list[tuple[int, int]]:
    """The programme's comfort periods [Unix s] on the days around the horizon, snapped
    outward to the grid and merged."""
    intervals = sorted(
        (
            _at_local(day, start_h) // grid.step_s * grid.step_s,
            -(-_at_local(day, end_h) // grid.step_s) * grid.step_s,
        )
        for day in _local_days(grid)
        for start_h, end_h in (programme.weekend_h if day.weekday() >= 5 else programme.weekday_h)
    )
    merged: list[tuple[int, int]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _comfort_intervals(programme: Programme, grid: Grid) -> list[tuple[int, int]]:
    """The programme's comfort periods [Unix s] cut to the horizon."""
    cut = (
        (max(s, grid.round_start), min(e, grid.end)) for s, e in _programme_periods(programme, grid)
    )
    return [(s, e) for s, e in cut if e > s]


def pilot_wire_heater_spec(
    device_id: int, grid: Grid, _weather: Weather, rng: Rng
) -> PilotWireHeaterSpec:
    """Eco 300-800 W, comfort 1-2 kW; in each comfort period it owes
    ``(100 - pourcentage_eco_force) %`` of the period's steps, ``pourcentage_eco_force`` in
    10-40 % (of a period begun before the round, of the steps left: earlier rounds are taken
    to have given their share)."""
    owed_share = 1 - rng.integers(10, 41) / 100
    periods = [
        ComfortPeriod(
            start=start,
            end=end,
            min_comfort_steps=math.floor(owed_share * (end - start) / grid.step_s + 0.5),
        )
        for start, end in _comfort_intervals(random_programme(rng), grid)
    ]
    return PilotWireHeaterSpec(
        id=device_id,
        machine_type=PILOT_WIRE_HEATER,
        type="pilot_wire_heater",
        eco_power_w=10.0 * rng.integers(30, 81),
        comfort_power_w=10.0 * rng.integers(100, 201),
        comfort_periods=periods,
    )


@dataclass(frozen=True)
class RoomSetting:
    """Set points [°C], half band width [K] and full-heating rise ``R·P`` [K] of one room."""

    comfort_c: float
    eco_c: float
    half_band_k: float
    rise_k: float


def _room_setting(rng: Rng, gain: float, coldest_c: float) -> RoomSetting:
    """Set points and a heater size that let an on/off heater hold the room's band.

    With ``g = 1 - exp(-step_s / (R C))`` [-], one step of heating moves the room by
    ``g (T_out + R P - T)`` and one step off by ``-g (T - T_out)``: together ``g R P``, which
    must stay within the band's width ``2 Δ`` (else some temperatures in the band can neither
    heat nor rest). Full heating must hold the comfort band on the coldest step:
    ``R P >= T_comfort - Δ - T_out_min + margin``. Both hold when
    ``Δ >= (T_comfort - T_out_min + margin) / (1 + 2 s / g)``, ``s`` the share of the band
    one on and one off step may use.
    """
    comfort = _tenths(rng, 19, 21)
    eco = _tenths(rng, 16, 18)
    least_half = (comfort - coldest_c + ROOM_MARGIN_K) / (1 + 2 * BAND_SHARE / gain)
    half = _tenths(rng, max(0.5, least_half), 1)
    rise_k = rng.uniform(comfort - half - coldest_c + ROOM_MARGIN_K, 2 * BAND_SHARE * half / gain)
    return RoomSetting(comfort, eco, half, rise_k)


def _ramp_steps(decay: float, start_c: float, target_c: float, equilibrium_c: float) -> int:
    """Steps for a room to go from ``start_c`` to ``target_c`` [°C] while drifting towards
    ``equilibrium_c`` (``T_out + R P`` heating, ``T_out`` resting), plus one step of margin."""
    remaining = (equilibrium_c - target_c) / (equilibrium_c - start_c)
    if remaining <= 0:  # never reached (a summer room does not cool below the outdoors)
        return STEPS
    return max(0, math.ceil(math.log(remaining) / math.log(decay))) + 1


def _band(
    room: RoomSetting,
    comfort_at: Callable[[np.ndarray], np.ndarray],
    grid: Grid,
    ramps: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Band [°C] at the end of each step: comfort in comfort periods, eco elsewhere, except
    that the top is the comfort band's for ``ramps = (before, after)`` steps around comfort
    periods, when the room pre-heats or cools down."""
    before, after = ramps
    ends = grid.round_start + np.arange(1 - after, grid.steps + before + 1) * grid.step_s
    comfort = comfort_at(ends)
    near = comfort.copy()
    for shift in range(1, before + 1):
        near[:-shift] |= comfort[shift:]
    for shift in range(1, after + 1):
        near[shift:] |= comfort[:-shift]
    comfort, near = comfort[after : after + grid.steps], near[after : after + grid.steps]
    low = np.where(comfort, room.comfort_c, room.eco_c) - room.half_band_k
    high = np.where(near, room.comfort_c, room.eco_c) + room.half_band_k
    return low, high


def _start_range(
    low: np.ndarray, high: np.ndarray, outdoor_c: np.ndarray, decay: float, rise_k: float
) -> tuple[float, float]:
    """Lowest and highest room temperature [°C] at the round start from which heating can
    still reach every later band bottom and resting every later band top (less a margin).

    Computed backward from the last step with ``T[k+1] = a T[k] + (1 - a) (T_out[k] + R P u[k])``
    (``a = decay``, ``R P = rise_k``): full heating (``u = 1``) for the lowest, none for the
    highest.
    """
    least, most = -math.inf, math.inf
    for k in reversed(range(len(low))):
        least, most = max(least, low[k]), min(most, high[k])
        least = (least - (1 - decay) * (outdoor_c[k] + rise_k)) / decay
        most = (most - (1 - decay) * outdoor_c[k]) / decay
    return least + START_MARGIN_K, most - START_MARGIN_K


def thermostatic_heater_spec(
    device_id: int, grid: Grid, weather: Weather, rng: Rng
) -> ThermostaticHeaterSpec:
    """A 1-2.5 kW heater in one room of one of the seeded houses: comfort 19-21 °C and eco
    16-18 °C, ±0.5-1 K, from a weekly programme.

    The room is sized for the heater (see :func:`_room_setting`) and keeps the house's time
    constant ``R C`` (3.6 h). A room cannot jump from the eco band to the comfort band in one
    quarter hour, so the band's top is the comfort top during the pre-heat before each
    comfort period and the cool-down after it (computed for the coldest and warmest steps).
    """
    power_w = 100.0 * rng.integers(10, 26)
    house_r, house_c = THERMAL_MODELS[rng.integers(len(THERMAL_MODELS))]
    decay = math.exp(-grid.step_s / (house_r * house_c))
    coldest, warmest = weather.outdoor_temp_c.min(), weather.outdoor_temp_c.max()
    room = _room_setting(rng, 1 - decay, coldest)
    comfort_low, eco_low = room.comfort_c - room.half_band_k, room.eco_c - room.half_band_k
    ramps = (
        _ramp_steps(decay, eco_low, comfort_low, coldest + room.rise_k),
        _ramp_steps(
            decay, room.comfort_c + room.half_band_k, room.eco_c + room.half_band_k, warmest
        ),
    )
    periods = _programme_periods(random_programme(rng), grid)
    low, high = _band(room, functools.partial(_in_intervals, periods), grid, ramps)
    least_c, most_c = _start_range(low, high, weather.outdoor_temp_c, decay, room.rise_k)
    if least_c > most_c:  # no start holds every band (a summer room): start inside the first
        least_c, most_c = low[0], high[0]
    room_r = room.rise_k / power_w
    return ThermostaticHeaterSpec(
        id=device_id,
        machine_type=THERMOSTATIC_HEATER,
        type="thermostatic_heater",
        power_w=power_w,
        r_k_per_w=round(room_r, 6),
        c_j_per_k=round(house_r * house_c / room_r),
        initial_temp_c=round(float(np.clip(rng.uniform(18, 21), least_c, most_c)), 2),
        comfort_min_c=_rounded(low, 2),
        comfort_max_c=_rounded(high, 2),
    )


def _in_intervals(intervals: list[tuple[int, int]], times: np.ndarray) -> np.ndarray:
    """Whether the step ending at each of ``times`` lies in one of the ``[start, end)``
    intervals (``start < time <= end``)."""
    inside = np.zeros(len(times), dtype=bool)
    for start, end in intervals:
        inside |= (times > start) & (times <= end)
    return inside


_MAKERS: dict[str, Callable[[int, Grid, Weather, Rng], AnyDeviceSpec]] = {
    "machine": machine_spec,
    "water_heater": water_heater_spec,
    "ev": ev_spec,
    "pilot_wire_heater": pilot_wire_heater_spec,
    "thermostatic_heater": thermostatic_heater_spec,
}


# ------------------------------------------------------------------------------------ CLI


def _round_start(text: str) -> int:
    """Unix seconds, or an ISO date-time (local Europe/Paris time when it has no offset)."""
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return int(moment.timestamp())


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m elfe_ems.sim.synthetic", description="Write a seeded synthetic scenario."
    )
    parser.add_argument("--homes", type=int)
    for kind in ("machines", "water-heaters", "evs", "pilot-wire-heaters", "thermostatic-heaters"):
        parser.add_argument(f"--{kind}", type=int)
    parser.add_argument("--season", choices=["summer", "winter"], default="winter")
    parser.add_argument(
        "--round-start",
        type=_round_start,
        default="2025-01-15T08:00",
        help="Unix seconds or ISO date-time, local time by default [default: %(default)s]",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Write the scenario described by the command line, as indented JSON."""
    args = _arguments(argv)
    scenario = community_scenario(
        args.homes,
        machines=args.machines,
        water_heaters=args.water_heaters,
        evs=args.evs,
        pilot_wire_heaters=args.pilot_wire_heaters,
        thermostatic_heaters=args.thermostatic_heaters,
        season=args.season,
        round_start=args.round_start,
        seed=args.seed,
    )
    args.output.write_text(scenario.model_dump_json(indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
