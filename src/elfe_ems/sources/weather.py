"""Weather forecast points from any provider: checking, merging, and the 15-min resampling.

A provider (:mod:`~elfe_ems.sources.meteo_concept`, :mod:`~elfe_ems.sources.open_meteo`)
turns its answer into :class:`WeatherPoint` values, one per period of its forecast (an hour,
or a quarter of a day), and passes them through :func:`checked`. The weather job stores them
as they are (the fetch history) and :func:`resample`\\ s them to the 15-min grid (the current
forecast that rounds read).

Time of a temperature: hourly values are the provider's value *at* the hour, so an hourly
point's temperature stands at its period's start; a longer period's temperature stands for the
whole period, so it is placed at the period's middle. :func:`resample` interpolates linearly
between these times.

Precedence: at any time the point with the shortest period covering it wins (hourly over
quarter-day periods), for the temperature as for the other fields.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import numpy as np

from elfe_ems.logtags import Tag
from elfe_ems.timegrid import HOUR_S, STEP_S, Grid

log = logging.getLogger(__name__)

MASK = "***"

TEMPERATURE_RANGE_C = (-60.0, 60.0)
WIND_RANGE_KMH = (0.0, 450.0)  # above the strongest gust ever measured (408 km/h)
DIRECTION_RANGE_DEG = (0.0, 360.0)


class WeatherError(RuntimeError):
    """A provider that could not be used: unreachable, an HTTP error, or an answer that is
    not its format or holds no usable point. The message never holds a token."""


@dataclass(frozen=True)
class WeatherPoint:
    """A provider's forecast for one period: ``[target_time_s, target_time_s + period_s)``
    (Unix s UTC). Temperature of the air at 2 m [°C]; mean wind and gusts at 10 m [km/h];
    direction the wind comes from [° clockwise from north]; hours of sunshine in the period.
    ``None``: the provider does not give it."""

    target_time_s: int
    period_s: int
    temperature_c: float
    wind_kmh: float | None
    gust_kmh: float | None
    wind_dir_deg: float | None
    sunshine_h: float | None

    @property
    def end_s(self) -> int:
        """End of the period (exclusive) [Unix s]."""
        return self.target_time_s + self.period_s

    @property
    def temperature_time_s(self) -> float:
        """The time the temperature stands at (see the module docstring) [Unix s]."""
        if self.period_s <= HOUR_S:
            return float(self.target_time_s)
        return self.target_time_s + self.period_s / 2

    def covers(self, time_s: float) -> bool:
        """Whether ``time_s`` falls in the period."""
        return self.target_time_s <= time_s < self.end_s


# --- reading answers ---------------------------------------------------------------------


def hide(message: str, secret: str | None) -> str:
    """``message`` with ``secret`` (plain or URL-encoded) replaced by ``***``."""
    if secret:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            message = message.replace(form, MASK)
    return message


class _HideSecret(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = hide(record.getMessage(), self.secret), None
        return True


@contextmanager
def secret_hidden_from_httpx(secret: str | None) -> Iterator[None]:
    """httpx logs the URL of every request (logger ``httpx``, INFO): while in the block, a
    ``secret`` sent in a URL is shown as ``***`` in those lines."""
    if not secret:
        yield
        return
    logger, hider = logging.getLogger("httpx"), _HideSecret(secret)
    logger.addFilter(hider)
    try:
        yield
    finally:
        logger.removeFilter(hider)


def get_json(
    client: httpx.Client, url: str, params: Mapping[str, str], secret: str | None = None
) -> Any:
    """The decoded JSON answer to ``GET url?params``; :class:`WeatherError` for an HTTP
    error, a timeout, an unreachable server or an answer that is not JSON. Messages name
    ``url`` without its query, and ``secret`` (a parameter value) is never shown."""
    try:
        with secret_hidden_from_httpx(secret):
            response = client.get(url, params=params)
        response.raise_for_status()
    except httpx.HTTPStatusError as error:
        status = error.response
        raise WeatherError(f"{url}: HTTP {status.status_code} {status.reason_phrase}") from None
    except httpx.TimeoutException:
        raise WeatherError(f"{url}: no answer within the timeout") from None
    except httpx.HTTPError as error:  # connection refused, name not found, …
        raise WeatherError(hide(f"{url}: {type(error).__name__}: {error}", secret)) from None
    try:
        return response.json()
    except ValueError:  # also a body that is not UTF-8
        raise WeatherError(f"{url}: the answer is not JSON") from None


def field(item: Any, name: str, where: str) -> Any:
    """``item[name]`` of a JSON object; :class:`WeatherError` when ``item`` is not an object
    or has no ``name``."""
    if not isinstance(item, dict):
        raise WeatherError(f"{where}: expected an object, got {type(item).__name__}")
    if name not in item:
        raise WeatherError(f"{where}: no field {name!r}")
    return item[name]


def number(value: Any, where: str) -> float | None:
    """A JSON number as a float (``null`` is ``None``); :class:`WeatherError` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WeatherError(f"{where}: {value!r} is not a number")
    return float(value)


def temperature(value: Any, where: str) -> float:
    """A temperature number; ``null`` becomes NaN, which :func:`checked` leaves out."""
    found = number(value, where)
    return math.nan if found is None else found


def utc_time(text: Any, where: str) -> int:
    """Unix time [s] of an ISO 8601 date-time with its UTC offset (``+02:00`` or ``+0200``)."""
    if not isinstance(text, str):
        raise WeatherError(f"{where}: {text!r} is not a date-time")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise WeatherError(f"{where}: {text!r} is not an ISO 8601 date-time") from None
    if parsed.utcoffset() is None:
        raise WeatherError(f"{where}: {text!r} has no UTC offset")
    return int(parsed.timestamp())


# --- checking and merging ----------------------------------------------------------------


def _absurd(point: WeatherPoint) -> str | None:
    """Why ``point`` cannot be used, or None."""
    if point.period_s <= 0:
        return f"period of {point.period_s} s"
    low, high = TEMPERATURE_RANGE_C
    if not low <= point.temperature_c <= high:  # also NaN
        return f"temperature {point.temperature_c} °C not in [{low:g}, {high:g}]"
    checks = (
        ("wind", point.wind_kmh, WIND_RANGE_KMH, "km/h"),
        ("gust", point.gust_kmh, WIND_RANGE_KMH, "km/h"),
        ("wind direction", point.wind_dir_deg, DIRECTION_RANGE_DEG, "°"),
        ("sunshine", point.sunshine_h, (0.0, point.period_s / HOUR_S), "h"),
    )
    for name, value, (low, high), unit in checks:
        if value is not None and not low <= value <= high:
            return f"{name} {value} {unit} not in [{low:g}, {high:g}]"
    return None


def checked(points: Iterable[WeatherPoint], provider: str) -> list[WeatherPoint]:
    """The usable points of an answer, in their order: a point with an absurd value (a
    temperature outside [-60, 60] °C or missing, a wind direction outside [0, 360]°, …) or a
    second point for the same period is left out, in one ``[WARN_IGNORED]`` line.
    :class:`WeatherError` when no point is left."""
    kept: dict[tuple[int, int], WeatherPoint] = {}
    dropped: list[str] = []
    total = 0
    for point in points:
        total += 1
        key = (point.target_time_s, point.period_s)
        why = _absurd(point) or ("a second point for this period" if key in kept else None)
        if why is None:
            kept[key] = point
        else:
            dropped.append(f"{Grid.iso(point.target_time_s)}: {why}")
    if dropped:
        log.warning(
            "%s weather: %s: %d of %d points left out, first %s",
            Tag.IGNORED,
            provider,
            len(dropped),
            total,
            dropped[0],
        )
    if not kept:
        raise WeatherError(f"no usable point in the answer ({total} points)")
    return list(kept.values())


def _finer_first(points: Iterable[WeatherPoint]) -> list[WeatherPoint]:
    return sorted(points, key=lambda p: p.period_s)  # stable: equal periods keep their order


def _owners(points: Sequence[WeatherPoint]) -> dict[int, WeatherPoint]:
    """The winning point at every quarter hour that some point covers."""
    owners: dict[int, WeatherPoint] = {}
    for point in reversed(_finer_first(points)):  # finer (and earlier) points paint last
        first = -(-point.target_time_s // STEP_S) * STEP_S
        for time_s in range(first, point.end_s, STEP_S):
            owners[time_s] = point
    return owners


def merge(points: Sequence[WeatherPoint]) -> list[WeatherPoint]:
    """The points that win somewhere, by start time: at any quarter hour, the point with the
    shortest period covering it wins (among equal periods, the first given). A point whose
    whole period is covered by shorter ones (a quarter-day period within the hourly
    forecast) is left out."""
    winners = {id(p) for p in _owners(points).values()}
    return sorted((p for p in points if id(p) in winners), key=lambda p: p.target_time_s)


def _temperature_anchors(points: Sequence[WeatherPoint]) -> tuple[np.ndarray, np.ndarray]:
    """(times, temperatures) of the points whose temperature time no shorter point covers."""
    anchors = sorted(
        (p.temperature_time_s, p.temperature_c)
        for p in points
        if not any(q.period_s < p.period_s and q.covers(p.temperature_time_s) for q in points)
    )
    return np.array([a[0] for a in anchors]), np.array([a[1] for a in anchors])


def resample(points: Sequence[WeatherPoint]) -> list[WeatherPoint]:
    """The forecast on the 15-min grid: one value per quarter hour that a point covers,
    with ``period_s`` = 900.

    - temperature: the value *at* the quarter hour, interpolated linearly between the
      temperature times of the winning points (held flat before the first and after the
      last). The rounds interpolate these values again at the middle of their steps, which
      gives exactly the interpolation of the points: their times fall on quarter hours.
    - wind, gusts, direction and sunshine: those of the point that wins at the quarter hour,
      unchanged (a direction is never averaged, so nothing goes wrong across north;
      sunshine stays the hours of sunshine in that point's period).
    """
    owners = _owners(points)
    if not owners:
        return []
    winners = merge(points)
    times, temps = _temperature_anchors(winners)
    grid = sorted(owners)
    interpolated = np.interp(np.array(grid, dtype=float), times, temps)
    return [
        WeatherPoint(t, STEP_S, float(temp), p.wind_kmh, p.gust_kmh, p.wind_dir_deg, p.sunshine_h)
        for t, temp in zip(grid, interpolated, strict=True)
        for p in [owners[t]]
    ]
