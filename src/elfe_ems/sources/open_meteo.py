"""Open-Meteo (https://open-meteo.com): hourly forecast for 14 days, no key.

``GET /forecast?latitude=…&longitude=…&hourly=temperature_2m,wind_speed_10m,wind_gusts_10m,
wind_direction_10m,sunshine_duration&timeformat=unixtime&wind_speed_unit=kmh&forecast_days=14``
answers ``hourly``: ``time`` (Unix s UTC) and one list per variable, of the same length, with
``null`` where there is no value; ``hourly_units`` names the units, checked here.

Open-Meteo gives the temperature, wind and direction *at* each hour, but gusts (maximum) and
sunshine duration [s] over the *preceding* hour: the point of the hour starting at ``t`` takes
them from the entry of ``t + 1 h`` (none for the last hour).
"""

from __future__ import annotations

from typing import Any

import httpx

from elfe_ems.config import Settings
from elfe_ems.sources.weather import (
    WeatherError,
    WeatherPoint,
    checked,
    field,
    get_json,
    number,
    temperature,
)
from elfe_ems.timegrid import HOUR_S

NAME = "open-meteo"
FORECAST_DAYS = 14
VARIABLES = (
    "temperature_2m",
    "wind_speed_10m",
    "wind_gusts_10m",
    "wind_direction_10m",
    "sunshine_duration",
)
UNITS = {
    "temperature_2m": "°C",
    "wind_speed_10m": "km/h",
    "wind_gusts_10m": "km/h",
    "wind_direction_10m": "°",
    "sunshine_duration": "s",
}


def fetch(settings: Settings, client: httpx.Client) -> list[WeatherPoint]:
    """The checked hourly points; :class:`WeatherError` when the provider cannot be used."""
    params = {
        "latitude": str(settings.latitude_deg),
        "longitude": str(settings.longitude_deg),
        "hourly": ",".join(VARIABLES),
        "timeformat": "unixtime",
        "wind_speed_unit": "kmh",
        "forecast_days": str(FORECAST_DAYS),
    }
    answer = get_json(client, f"{settings.open_meteo_url.rstrip('/')}/forecast", params)
    return checked(points(answer), NAME)


def _series(hourly: dict[str, Any], name: str, length: int, where: str) -> list[Any]:
    """The values of one variable; all ``None`` when the answer lacks an optional one."""
    if name not in hourly and name != "temperature_2m":
        return [None] * length
    values = field(hourly, name, where)
    if not isinstance(values, list) or len(values) != length:
        raise WeatherError(f"{where}: {name} is not a list of {length} values")
    return values


def points(answer: Any) -> list[WeatherPoint]:
    """The points of a ``/forecast`` answer (unchecked)."""
    where = NAME
    units = answer.get("hourly_units", {}) if isinstance(answer, dict) else {}
    for name, unit in UNITS.items():
        if isinstance(units, dict) and units.get(name, unit) != unit:
            raise WeatherError(f"{where}: {name} in {units[name]!r}, expected {unit!r}")
    hourly = field(answer, "hourly", where)
    times = field(hourly, "time", where)
    if not isinstance(times, list):
        raise WeatherError(f"{where}: 'time' is not a list")
    starts = []
    for time_s in times:
        value = number(time_s, where)
        if value is None:
            raise WeatherError(f"{where}: a time is null")
        starts.append(int(value))
    temps, winds, gusts, directions, sunshine = (
        _series(hourly, name, len(times), where) for name in VARIABLES
    )
    result = []
    for k, start in enumerate(starts):
        # gusts and sunshine of the hour from start are given with the next hour
        after = k + 1 if k + 1 < len(starts) and starts[k + 1] == start + HOUR_S else None
        at = f"{where} hour {start}"  # an error names the hour and the variable
        sunshine_s = None if after is None else number(sunshine[after], f"{at} sunshine_duration")
        result.append(
            WeatherPoint(
                target_time_s=start,
                period_s=HOUR_S,
                temperature_c=temperature(temps[k], f"{at} temperature_2m"),
                wind_kmh=number(winds[k], f"{at} wind_speed_10m"),
                gust_kmh=None if after is None else number(gusts[after], f"{at} wind_gusts_10m"),
                wind_dir_deg=number(directions[k], f"{at} wind_direction_10m"),
                sunshine_h=None if sunshine_s is None else sunshine_s / HOUR_S,
            )
        )
    return result
