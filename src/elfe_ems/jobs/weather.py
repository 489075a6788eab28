"""The ``weather`` job: fetch the weather forecast and store it (hourly, see the registry).

The providers of ``weather_providers`` are tried in order; the first that gives usable points
is stored, in one transaction of the store:

- every point as the provider gave it (hourly and quarter-day periods) into
  ``weather_forecast_history``, with ``fetched_at`` = the job's time;
- the points resampled to the 15-min grid (:func:`elfe_ems.sources.weather.resample`) into
  ``weather_forecast``, the current forecast that rounds read: each quarter hour of the new
  forecast replaces the stored one, and the quarter hours it does not cover (the past) keep
  their rows.

A provider that fails is logged (``[WARN_DATABASE]``) and the next is tried; Météo-Concept
without a token is skipped (info). When none gives points, or the store cannot be written,
:class:`JobError` is raised and the store is as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from sqlalchemy import Connection, insert

from elfe_ems.config import Settings
from elfe_ems.jobs.common import database
from elfe_ems.jobs.registry import JobError
from elfe_ems.logtags import Tag
from elfe_ems.sources import meteo_concept, open_meteo
from elfe_ems.sources.weather import WeatherError, WeatherPoint, resample
from elfe_ems.store.tables import weather_forecast, weather_forecast_history
from elfe_ems.store.upsert import upsert
from elfe_ems.timegrid.local import local_text

log = logging.getLogger(__name__)

Fetch = Callable[[Settings, httpx.Client], list[WeatherPoint]]

PROVIDERS: dict[str, Fetch] = {
    meteo_concept.NAME: meteo_concept.fetch,
    open_meteo.NAME: open_meteo.fetch,
}
"""Every provider by the name ``weather_providers`` gives it."""


def job(settings: Settings, now_s: float) -> str:
    """Fetch and store the weather forecast (see the module docstring); a one-line summary."""
    provider, points = first_forecast(settings)
    with database(settings, "store") as engine, engine.begin() as connection:
        quarters = store_forecast(connection, points, int(now_s))
    zone = settings.zone
    span = (
        f"{local_text(quarters[0], zone)} to {local_text(quarters[-1], zone)}"
        if quarters
        else "unchanged"
    )
    return f"weather: {len(points)} points from {provider} stored, current forecast {span}"


def first_forecast(settings: Settings) -> tuple[str, list[WeatherPoint]]:
    """The name of the first provider that gives points, and its points; :class:`JobError`
    when none does."""
    failures: list[str] = []
    headers = {"User-Agent": "elfe-ems"}
    with httpx.Client(timeout=settings.http_timeout_s, headers=headers) as client:
        for name in settings.weather_providers:
            if name == meteo_concept.NAME and settings.meteo_concept_token is None:
                log.info("weather: %s skipped: no meteo_concept_token", name)
                failures.append(f"{name}: no token")
                continue
            try:
                return name, PROVIDERS[name](settings, client)
            except WeatherError as error:
                log.warning("%s weather: %s: %s", Tag.DATABASE, name, error)
                failures.append(f"{name}: {error}")
    raise JobError(f"weather: no provider gave a forecast ({'; '.join(failures)})")


def store_forecast(
    connection: Connection, points: Sequence[WeatherPoint], fetched_at: int
) -> list[int]:
    """Write a fetch's points (see the module docstring) in the connection's transaction;
    the quarter hours of the current forecast written, in order."""
    connection.execute(
        insert(weather_forecast_history),
        [_row(point, fetched_at) | {"period_s": point.period_s} for point in points],
    )
    quarters = resample(points)
    upsert(connection, weather_forecast, [_row(q, fetched_at) for q in quarters])
    return [q.target_time_s for q in quarters]


def _row(point: WeatherPoint, fetched_at: int) -> dict[str, Any]:
    return {
        "target_time": point.target_time_s,
        "fetched_at": fetched_at,
        "temperature_c": point.temperature_c,
        "wind_kmh": point.wind_kmh,
        "gust_kmh": point.gust_kmh,
        "wind_dir_deg": point.wind_dir_deg,
        "sunshine_h": point.sunshine_h,
    }
