"""What a round reads from the internal store and the output database, with the age of each.

Every reader takes a connection and the round's grid and returns plain values (no ORM), so
the round can freeze them into a scenario. Ages are seconds between the newest data used and
the round start (``None`` when nothing was found).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, Row, and_, func, select

from elfe_ems.logtags import Tag
from elfe_ems.store.tables import (
    balance_measurement,
    forecast,
    machine_cycle_profile,
    room_temperature,
    thermal_model,
    water_heater_energy,
    weather_forecast,
)
from elfe_ems.timegrid import DAY_S, STEP_S, Grid

log = logging.getLogger(__name__)

FINITE = sys.float_info.max  # a value outside ±FINITE (NaN, ±infinity) is not a measure


@dataclass(frozen=True)
class NetLoad:
    """The round's net load [W per step], how it was obtained, and the forecast's age [s].
    ``completion`` says how the steps no forecast covers were filled (None: none were); the
    round logs it with the forecast's freshness, in one line."""

    net_load_w: list[float]
    forecast_steps: int  # steps taken from a forecast; the rest were extended
    age_s: int | None
    completion: str | None = None


def net_load(connection: Connection, grid: Grid, forecaster: str = "persistence") -> NetLoad:
    """Net load = -(production - consumption) from the latest forecast of each step.

    Each step is taken from the latest issue of ``forecaster`` (a ``forecast.source``: the
    ``forecaster`` setting), else from the latest issue of the other sources: the round
    says how many steps fell back (``[WARN_DATABASE]``). Steps no forecast covers are extended
    by 24 h persistence of the steps that are covered (the value a day earlier, itself
    forecast or extended); a step without a value a day earlier either (nothing at all, or a
    long gap in the measurements) is a net load of 0. Either way the round says so
    (``[WARN_DATABASE]``, with the forecast's freshness: see :class:`NetLoad`). A NaN or
    infinite value is no forecast.
    """
    finite = forecast.c.power_w.between(-FINITE, FINITE)
    # the latest issue of every source and target time from a day before the horizon to its end
    latest = (
        select(
            forecast.c.source,
            forecast.c.target_time,
            func.max(forecast.c.issue_time).label("issue_time"),
        )
        .where(
            forecast.c.target_time >= grid.round_start - DAY_S,
            forecast.c.target_time < grid.end,
            finite,
        )
        .group_by(forecast.c.source, forecast.c.target_time)
        .subquery()
    )
    rows = connection.execute(
        select(forecast.c.source, forecast.c.target_time, forecast.c.issue_time, forecast.c.power_w)
        .join(
            latest,
            and_(
                forecast.c.source == latest.c.source,
                forecast.c.target_time == latest.c.target_time,
                forecast.c.issue_time == latest.c.issue_time,
            ),
        )
        .where(finite)
        .order_by(forecast.c.issue_time)
    ).all()
    surplus: dict[int, float] = {}
    issued: dict[int, int] = {}
    preferred: set[int] = set()
    for r in rows:  # the configured source first, then the latest issue of the others
        t = int(r.target_time)
        if r.source == forecaster or t not in preferred:
            surplus[t], issued[t] = float(r.power_w), int(r.issue_time)
            if r.source == forecaster:
                preferred.add(t)
    horizon = [grid.time_of(k) for k in range(grid.steps)]
    fallback = sum(1 for t in horizon if t in surplus and t not in preferred)
    if fallback:
        log.warning(
            "%s no %r forecast for %d of %d steps: taken from another source",
            Tag.DATABASE,
            forecaster,
            fallback,
            grid.steps,
        )
    values: list[float] = []
    used: list[int] = []  # issue time of the forecast behind each step (none for a zero)
    covered = zeroed = 0
    for t in horizon:
        if t in surplus:
            covered += 1
        else:
            zeroed += t - DAY_S not in surplus
            surplus[t] = surplus.get(t - DAY_S, 0.0)
            if t - DAY_S in issued:
                issued[t] = issued[t - DAY_S]
        values.append(-surplus[t])
        if t in issued:
            used.append(issued[t])
    age = grid.round_start - max(used) if used else None
    return NetLoad(values, covered, age, _completion(covered, zeroed, grid.steps))


def _completion(covered: int, zeroed: int, steps: int) -> str | None:
    """How the steps no forecast covers were filled (None: there are none), ``zeroed`` of
    them without a value a day earlier either."""
    if covered == steps:
        return None
    extended = steps - covered - zeroed
    if not extended:
        rest = "taken as a zero net load"
    elif zeroed:  # a day earlier had no forecast either for some (a long gap, say)
        rest = f"{extended} extended by 24 h persistence, {zeroed} taken as a zero net load"
    else:
        rest = "extended by 24 h persistence"
    return f"the forecast covers {covered} of {steps} steps: the rest {rest}"


@dataclass(frozen=True)
class OutdoorTemperature:
    """Outdoor temperature at the middle of each step [°C] (None without data), its age, and
    the share of the horizon's steps whose middle lies between the forecast's points (the
    others hold its first or last point)."""

    temp_c: list[float] | None
    age_s: int | None
    coverage: float = 0.0


def outdoor_temperature(connection: Connection, grid: Grid) -> OutdoorTemperature:
    """The current weather forecast interpolated to the middle of each step (held flat past
    its first and last points); NaN and infinite points are left out."""
    rows = connection.execute(
        select(
            weather_forecast.c.target_time,
            weather_forecast.c.temperature_c,
            weather_forecast.c.fetched_at,
        )
        .where(
            weather_forecast.c.target_time >= grid.round_start - 6 * 3600,
            weather_forecast.c.target_time <= grid.end + 6 * 3600,
            weather_forecast.c.temperature_c.between(-FINITE, FINITE),
        )
        .order_by(weather_forecast.c.target_time)
    ).all()
    if not rows:  # the round's freshness line says so ("input weather: missing")
        log.info("%s no outdoor temperature forecast for the horizon", Tag.DATABASE)
        return OutdoorTemperature(None, None)
    middles = grid.round_start + grid.step_s * (np.arange(grid.steps) + 0.5)
    times = np.array([r.target_time for r in rows], dtype=float)
    temps = np.array([r.temperature_c for r in rows], dtype=float)
    age = grid.round_start - max(int(r.fetched_at) for r in rows)
    inside = float(np.mean((middles >= times[0]) & (middles <= times[-1])))
    return OutdoorTemperature(np.interp(middles, times, temps).tolist(), age, inside)


def newest_balance_end_s(connection: Connection, before_s: int | None = None) -> int | None:
    """The end of the newest stored balance step [s] (a step's mean is as old as its end), of
    the steps starting before ``before_s`` when given; None when there is none."""
    query = select(func.max(balance_measurement.c.step_start))
    if before_s is not None:
        query = query.where(balance_measurement.c.step_start < before_s)
    newest = connection.execute(query).scalar()
    return None if newest is None else int(newest) + STEP_S


def balance_age_s(connection: Connection, grid: Grid) -> int | None:
    """How old the newest balance measurement is at the round start [s], or None when there is
    none: the age of the data behind the forecast."""
    end_s = newest_balance_end_s(connection, grid.round_start)
    return None if end_s is None else grid.round_start - end_s


@dataclass(frozen=True)
class LearnedCycles:
    """The current learned cycle of each machine power item [W per step], and the age of the
    oldest one when the round starts [s]."""

    profiles_w: dict[int, list[float]]
    oldest_age_s: int | None


def cycle_profiles(connection: Connection, grid: Grid) -> LearnedCycles:
    """The current learned cycle of each machine power item."""
    rows = connection.execute(
        select(
            machine_cycle_profile.c.power_item_id,
            machine_cycle_profile.c.profile_w,
            machine_cycle_profile.c.learned_at,
        ).where(machine_cycle_profile.c.superseded_at.is_(None))
    ).all()
    ages = [grid.round_start - int(r.learned_at) for r in rows]
    return LearnedCycles(
        {int(r.power_item_id): [float(v) for v in r.profile_w] for r in rows},
        max(ages) if ages else None,
    )


def _latest(
    connection: Connection,
    key: ColumnElement[Any],
    value: ColumnElement[Any],
    time: ColumnElement[Any],
    before: int,
) -> Sequence[Row[Any, Any, Any]]:
    """The latest (key, value, time) per key measured at or before ``before``."""
    newest = (
        select(key.label("key"), func.max(time).label("time"))
        .where(time <= before)
        .group_by(key)
        .subquery()
    )
    return connection.execute(
        select(key, value, time).join(newest, and_(key == newest.c.key, time == newest.c.time))
    ).all()


@dataclass(frozen=True)
class Measured:
    """Latest measured values per Zabbix item, and each one's age at the round start [s]."""

    values: dict[int, float]
    ages_s: dict[int, int]

    @property
    def oldest_age_s(self) -> int | None:
        """The age of the oldest value used [s]; None: none."""
        return max(self.ages_s.values(), default=None)


def _measured(rows: Sequence[Row[Any, Any, Any]], round_start: int) -> Measured:
    return Measured(
        {int(r[0]): float(r[1]) for r in rows}, {int(r[0]): round_start - int(r[2]) for r in rows}
    )


def water_heater_energies(connection: Connection, grid: Grid) -> Measured:
    """The latest 24 h energy [Wh] of each water heater power item."""
    rows = _latest(
        connection,
        water_heater_energy.c.power_item_id,
        water_heater_energy.c.energy_wh,
        water_heater_energy.c.measured_at,
        grid.round_start,
    )
    return _measured(rows, grid.round_start)


def room_temperatures(connection: Connection, grid: Grid) -> Measured:
    """The latest temperature [°C] of each room temperature item."""
    rows = _latest(
        connection,
        room_temperature.c.temperature_item_id,
        room_temperature.c.temp_c,
        room_temperature.c.measured_at,
        grid.round_start,
    )
    return _measured(rows, grid.round_start)


def thermal_models(connection: Connection) -> Mapping[int, tuple[float, float]]:
    """R [K/W] and C [J/K] per thermal model id."""
    rows = connection.execute(
        select(thermal_model.c.id, thermal_model.c.r_k_per_w, thermal_model.c.c_j_per_k)
    )
    return {int(r.id): (float(r.r_k_per_w), float(r.c_j_per_k)) for r in rows}
