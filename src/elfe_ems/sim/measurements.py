"""The demo's measurement history: what Zabbix would hold after some days without the EMS.

Before the demo's round the community ran on its own: machines started when their users
pressed the button, tanks heated at the start of their off-peak windows, cars charged when
they came home in the evening, heaters followed their programmes (thermostatic ones holding
their rooms in the band with a thermostat, through the rooms' thermal models). The history
is simulated minute by minute and recorded (:mod:`elfe_ems.sources.recorded`) as the items
the acquisition jobs read:

- the territory balance [W]: PV - household load - every flexible device's consumption;
- each machine's and tank's power [W], each tank's energy meter [kWh] (every 5 min);
- each thermostatic heater's room temperature [°C] (every 5 min, to 0.1 °C).

Every machine has run at least once, completely, so that its cycle can be learned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from elfe_ems.sim.community import (
    BALANCE_HOST_ID,
    BALANCE_ITEM_ID,
    Community,
    Machine,
    ThermostaticHeater,
    WaterHeater,
    energy_item,
    power_item,
    temperature_item,
)
from elfe_ems.sim.profiles import TerritoryWeather, household_load_w
from elfe_ems.sim.synthetic import Programme, Weather, ar1_noise, community_pv_w
from elfe_ems.sources.measurements import FLOAT
from elfe_ems.sources.recorded import create_tables, record_items, record_samples
from elfe_ems.timegrid import DAY_S, STEP_S

SAMPLE_S = 60
SLOW_SAMPLE_S = 300  # energy meters and room temperatures
ANNUAL_KWH_PER_HOME = (2_500.0, 4_500.0)  # household use besides the flexible devices
MACHINE_RUN_CHANCE = 0.7  # a machine runs on this share of days
MACHINE_STANDBY_W = 1.0
CAR_ARRIVAL_H = (17.5, 20.0)
CAR_CHARGE_H = (1.0, 4.0)


@dataclass(frozen=True)
class Clock:
    """The sample times [Unix s] of the history and their local calendar."""

    times_s: np.ndarray
    second_of_day: np.ndarray
    weekend: np.ndarray  # Saturday or Sunday, local
    day_start_s: np.ndarray  # Unix time of each local day's midnight in the history

    @classmethod
    def of(cls, first_s: int, end_s: int, step_s: int, tz: ZoneInfo) -> Clock:
        """Samples every ``step_s`` from ``first_s`` up to ``end_s`` included."""
        times = np.arange(first_s, end_s + 1, step_s, dtype=np.int64)
        local = pd.DatetimeIndex(pd.to_datetime(times, unit="s", utc=True)).tz_convert(tz)
        midnights = local.normalize().unique()
        return cls(
            times,
            np.asarray(local.hour * 3600 + local.minute * 60 + local.second),
            np.asarray(local.day_of_week >= 5),
            np.asarray([int(m.timestamp()) for m in midnights], dtype=np.int64),
        )


@dataclass
class History:
    """The simulated measurements, by item id: clocks and values."""

    samples: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    items: list[dict[str, object]] = field(default_factory=list)

    def add(
        self,
        item_id: int,
        host_id: int,
        name: str,
        units: str,
        times: np.ndarray,
        values: np.ndarray,
    ) -> None:
        """Add an item and its samples."""
        self.items.append(
            {
                "item_id": item_id,
                "host_id": host_id,
                "name": name,
                "key": name.lower().replace(" ", "."),
                "units": units,
                "value_type": FLOAT,
            }
        )
        self.samples[item_id] = (np.asarray(times), np.asarray(values, dtype=float))

    @property
    def sample_count(self) -> int:
        """Number of samples of every item."""
        return sum(times.size for times, _ in self.samples.values())


def in_programme(programme: Programme, clock: Clock) -> np.ndarray:
    """Whether each sample is in a comfort period of the programme."""
    inside = np.zeros(clock.times_s.size, dtype=bool)
    for weekend, periods in ((False, programme.weekday_h), (True, programme.weekend_h)):
        for start_h, end_h in periods:
            start, end = round(start_h * 3600) % DAY_S, round(end_h * 3600) % DAY_S
            s = clock.second_of_day
            hours = (s >= start) & (s < end) if start <= end else (s >= start) | (s < end)
            inside |= hours & (clock.weekend == weekend)
    return inside


def _runs(clock: Clock, start_s: int, length_s: int, end_s: int) -> np.ndarray:
    """Whether each sample is in ``[start_s, start_s + length_s)``, never past ``end_s``."""
    t = clock.times_s
    return (t >= start_s) & (t < min(start_s + length_s, end_s))


def _machine_power_w(machine: Machine, clock: Clock, rng: np.random.Generator) -> np.ndarray:
    """Standby, and the machine's cycle on some days; at least one complete cycle."""
    end_s = int(clock.times_s[-1])
    cycle_s = len(machine.profile_w) * STEP_S
    latest_start = end_s - cycle_s - 2 * STEP_S  # its end and a quiet period are seen
    starts = [
        int(day + 60 * rng.integers(7 * 60, 21 * 60))
        for day in clock.day_start_s
        if rng.random() < MACHINE_RUN_CHANCE
    ]
    starts = [s for s in starts if clock.times_s[0] < s <= latest_start]
    if not starts:
        starts = [latest_start - int(rng.integers(0, DAY_S // 2))]
    power = np.full(clock.times_s.size, MACHINE_STANDBY_W)
    profile = np.asarray(machine.profile_w)
    for start in starts:
        running = _runs(clock, start, cycle_s, end_s + 1)
        step = (clock.times_s[running] - start) // STEP_S
        power[running] = profile[step] * rng.uniform(0.97, 1.03, step.size)
    return power


def _tank_power_w(tank: WaterHeater, clock: Clock) -> np.ndarray:
    """Full power from the start of each off-peak window until the day's energy is in."""
    power = np.zeros(clock.times_s.size)
    run_s = round(tank.daily_energy_wh / len(tank.windows_s) / tank.power_w * 3600)
    end_s = int(clock.times_s[-1]) + 1
    for day in clock.day_start_s:
        for start, _ in tank.windows_s:
            power[_runs(clock, int(day) + start, run_s, end_s)] = tank.power_w
    return power


def _car_power_w(power_w: float, clock: Clock, rng: np.random.Generator) -> np.ndarray:
    """Charging at full power from the evening's arrival, each day."""
    power = np.zeros(clock.times_s.size)
    end_s = int(clock.times_s[-1]) + 1
    for day in clock.day_start_s:
        arrive = int(day + 3600 * rng.uniform(*CAR_ARRIVAL_H))
        power[_runs(clock, arrive, round(3600 * rng.uniform(*CAR_CHARGE_H)), end_s)] = power_w
    return power


def _rooms(
    heaters: tuple[ThermostaticHeater, ...], clock: Clock, outdoor_c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Room temperatures [°C] and heater powers [W] (heaters x samples): each thermostat
    switches on below its set point less half the band and off above it plus half the band,
    the room following its model ``C dT/dt = (T_out - T) / R + P u``."""
    n = clock.times_s.size
    setpoint = np.array(
        [np.where(in_programme(h.programme, clock), h.comfort_c, h.eco_c) for h in heaters]
    )
    half = np.array([h.half_band_k for h in heaters]) / 2
    rise = np.array([h.r_k_per_w * h.power_w for h in heaters])
    decay = np.exp(-SAMPLE_S / np.array([h.r_k_per_w * h.c_j_per_k for h in heaters]))
    temp = np.empty((len(heaters), n))
    on = np.zeros((len(heaters), n), dtype=bool)
    t, heating = setpoint[:, 0].copy(), np.zeros(len(heaters), dtype=bool)
    for k in range(n):
        heating = (t < setpoint[:, k] - half) | (heating & (t < setpoint[:, k] + half))
        temp[:, k], on[:, k] = t, heating
        t = decay * t + (1 - decay) * (outdoor_c[k] + rise * heating)
    powers = on * np.array([h.power_w for h in heaters])[:, None]
    return temp, powers


def simulate(
    community: Community,
    clock: Clock,
    weather: TerritoryWeather,
    tz: ZoneInfo,
    seed: int,
    balance_item_name: str,
) -> History:
    """The community's measurements at ``clock``'s samples (every :data:`SAMPLE_S`), with
    ``weather`` at the same samples; the balance item is called ``balance_item_name``."""
    rng = np.random.default_rng([seed, 200])
    history = History()
    flexible_w = np.zeros(clock.times_s.size)
    slow = slice(None, None, SLOW_SAMPLE_S // SAMPLE_S)
    for machine in community.machines:
        power = _machine_power_w(machine, clock, rng)
        flexible_w += power
        name = f"{machine.name} power"
        history.add(power_item(machine.id), machine.id, name, "W", clock.times_s, power.round(1))
    for tank in community.water_heaters:
        power = _tank_power_w(tank, clock)
        flexible_w += power
        meter_kwh = rng.uniform(1_000, 20_000) + np.cumsum(power) * SAMPLE_S / 3.6e6
        history.add(power_item(tank.id), tank.id, f"{tank.name} power", "W", clock.times_s, power)
        meter = meter_kwh[slow].round(3)
        name = f"{tank.name} energy"
        history.add(energy_item(tank.id), tank.id, name, "kWh", clock.times_s[slow], meter)
    for car in community.cars:
        flexible_w += _car_power_w(car.power_w, clock, rng)
    for heater in community.pilot_wire_heaters:
        comfort = in_programme(heater.programme, clock)
        flexible_w += np.where(comfort, heater.comfort_power_w, heater.eco_power_w)
    if community.thermostatic_heaters:
        temps, powers = _rooms(community.thermostatic_heaters, clock, weather.outdoor_temp_c)
        flexible_w += powers.sum(axis=0)
        for room_heater, temp in zip(community.thermostatic_heaters, temps, strict=True):
            item, name = temperature_item(room_heater.id), f"{room_heater.name} room temperature"
            history.add(item, room_heater.id, name, "°C", clock.times_s[slow], temp[slow].round(1))
    balance = _territory_w(community.homes, clock, weather, tz, seed) - flexible_w
    history.add(
        BALANCE_ITEM_ID, BALANCE_HOST_ID, balance_item_name, "W", clock.times_s, balance.round(0)
    )
    return history


def _territory_w(
    homes: int, clock: Clock, weather: TerritoryWeather, tz: ZoneInfo, seed: int
) -> np.ndarray:
    """PV - household load [W] at each sample (see :func:`territory_power_w`)."""
    pv, load = territory_power_w(homes, clock.times_s, weather, tz, seed)
    balance_w: np.ndarray = pv - load  # typed: the stubs answer Any
    return balance_w


def territory_power_w(
    homes: int, times_s: np.ndarray, weather: TerritoryWeather, tz: ZoneInfo, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """PV production and household load [W] at each of ``times_s`` (``weather`` at the same
    times): the load's 15-min means with a noise that shrinks as more homes average out (as
    in :mod:`elfe_ems.sim.synthetic`). Also the backtest's truth."""
    rng = np.random.default_rng([seed, 201])
    first = int(times_s[0]) // STEP_S * STEP_S
    steps = -(-(int(times_s[-1]) + 1 - first) // STEP_S)
    annual_kwh = float(rng.uniform(*ANNUAL_KWH_PER_HOME, homes).sum())
    noise = (0.04 + 0.6 / math.sqrt(homes)) * ar1_noise(rng, steps, 0.7)
    load = household_load_w(first, steps, annual_kwh, tz) * (1 + noise)
    pv = community_pv_w(homes, Weather(weather.outdoor_temp_c, weather.pv_w_per_kwp), rng)
    return pv, load[(times_s - first) // STEP_S]


def record(engine: Engine, history: History, advance: Callable[[], object]) -> None:
    """Create the recorded-measurement tables and write the history, calling ``advance``
    after each item (a progress bar)."""
    create_tables(engine)
    record_items(engine, history.items)
    for item_id, (times, values) in history.samples.items():
        record_samples(engine, item_id, times, values)
        advance()
