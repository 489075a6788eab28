"""Météo-Concept (https://api.meteo-concept.com): hourly forecast for the next hours and
quarter-day periods for 14 days.

Two requests, the token and the place in the query (``token``, and ``insee`` or, without an
INSEE code, ``latlng=LAT,LON``):

- ``/forecast/nextHours?hourly=true``: ``forecast`` is a list of hourly items;
- ``/forecast/daily/periods``: ``forecast`` is a list of days, each a list of 4 periods
  (``period`` 0 night 01-07 h, 1 morning 07-13 h, 2 afternoon 13-19 h, 3 evening 19-01 h,
  local time).

Every item has its local ``datetime`` with its UTC offset (``2026-10-25T07:00:00+0100``): the
start of its hour or period. A period lasts until the next one starts, so the night of a
daylight saving change lasts 5 or 7 h (6 h for the last period). Fields used: ``temp2m``
[°C], ``wind10m`` and ``gust10m`` [km/h], ``dirwind10m`` [°], and ``sun_hours`` [h] where an
item has it. ``city`` (the forecast's town) is only logged.

Both answers are needed: either failing fails the provider (Open-Meteo is then tried).
"""

from __future__ import annotations

import logging
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
    utc_time,
)
from elfe_ems.timegrid import HOUR_S

log = logging.getLogger(__name__)

NAME = "meteo-concept"
PERIOD_S = 6 * HOUR_S
PERIODS_PER_DAY = 4


def fetch(settings: Settings, client: httpx.Client) -> list[WeatherPoint]:
    """The checked hourly and period points; :class:`WeatherError` when the provider cannot
    be used (no token, HTTP error, timeout, an answer not in its format)."""
    if settings.meteo_concept_token is None:
        raise WeatherError("no meteo_concept_token")
    token = settings.meteo_concept_token.get_secret_value()
    insee = (settings.meteo_concept_insee or "").strip()
    place = (
        {"insee": insee}
        if insee
        else {"latlng": f"{settings.latitude_deg},{settings.longitude_deg}"}
    )
    base = settings.meteo_concept_url.rstrip("/")
    hourly = get_json(
        client, f"{base}/forecast/nextHours", {"token": token, "hourly": "true", **place}, token
    )
    periods = get_json(client, f"{base}/forecast/daily/periods", {"token": token, **place}, token)
    points = hourly_points(hourly) + period_points(periods)
    city = periods.get("city") if isinstance(periods, dict) else None
    if isinstance(city, dict):
        log.info("weather: %s: forecast for %s (%s)", NAME, city.get("name"), city.get("insee"))
    return checked(points, NAME)


def _forecast(answer: Any, where: str) -> list[Any]:
    items = field(answer, "forecast", where)
    if not isinstance(items, list):
        raise WeatherError(f"{where}: 'forecast' is not a list")
    return items


def _point(item: Any, start_s: int, period_s: int, where: str) -> WeatherPoint:
    return WeatherPoint(
        target_time_s=start_s,
        period_s=period_s,
        temperature_c=temperature(field(item, "temp2m", where), where),
        wind_kmh=number(item.get("wind10m"), where),
        gust_kmh=number(item.get("gust10m"), where),
        wind_dir_deg=number(item.get("dirwind10m"), where),
        sunshine_h=number(item.get("sun_hours"), where),
    )


def hourly_points(answer: Any) -> list[WeatherPoint]:
    """The points of a ``/forecast/nextHours?hourly=true`` answer (unchecked)."""
    where = f"{NAME} nextHours"
    return [
        _point(item, utc_time(field(item, "datetime", where), where), HOUR_S, where)
        for item in _forecast(answer, where)
    ]


def period_points(answer: Any) -> list[WeatherPoint]:
    """The points of a ``/forecast/daily/periods`` answer (unchecked), each lasting until
    the next period starts."""
    where = f"{NAME} periods"
    items: list[tuple[int, Any]] = []
    for day in _forecast(answer, where):
        if not isinstance(day, list):
            raise WeatherError(f"{where}: a day is not a list of periods")
        for item in day:
            if number(field(item, "period", where), where) not in range(PERIODS_PER_DAY):
                raise WeatherError(f"{where}: period {item['period']!r} is not 0 to 3")
            items.append((utc_time(field(item, "datetime", where), where), item))
    items.sort(key=lambda pair: pair[0])
    starts = [start for start, _ in items]
    points = []
    for k, (start, item) in enumerate(items):
        following = starts[k + 1] if k + 1 < len(starts) else None
        # the next period, unless the answer skips one: 6 h ± a clock change
        consecutive = following is not None and abs(following - start - PERIOD_S) <= HOUR_S
        length = following - start if following is not None and consecutive else PERIOD_S
        points.append(_point(item, start, length, where))
    return points
