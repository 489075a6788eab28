"""Each provider's answers (recorded, see recorded/README.md) read into weather points: UTC
times from the offsets (around the clock change of 2026-10-25), every field kept, and garbage
refused with a WeatherError."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from weather_env import (
    MC_NEXT_HOURS,
    MC_PERIODS,
    OPEN_METEO,
    TOKEN,
    recorded,
    settings,
)

from elfe_ems.sources import meteo_concept, open_meteo
from elfe_ems.sources.weather import WeatherError, WeatherPoint, checked, utc_time

H = 3600


def utc(text: str) -> int:
    """Unix time of a UTC date-time written ``YYYY-MM-DD HH:MM``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


# --- Météo-Concept -------------------------------------------------------------------------


def test_meteo_concept_hourly_points_keep_every_field() -> None:
    answer = recorded("meteo_concept_next_hours.json")
    points = meteo_concept.hourly_points(answer)
    assert len(points) == 12
    assert [p.target_time_s for p in points] == [utc("2026-10-24 11:00") + k * H for k in range(12)]
    assert {p.period_s for p in points} == {H}
    first, item = points[0], answer["forecast"][0]
    assert first == WeatherPoint(
        utc("2026-10-24 11:00"), H, 14.0, item["wind10m"], item["gust10m"], item["dirwind10m"], None
    )
    assert points[1].temperature_c == 15.0


def test_meteo_concept_periods_follow_the_offsets_across_the_clock_change() -> None:
    answer = recorded("meteo_concept_periods.json")
    points = meteo_concept.period_points(answer)
    assert len(points) == 14 * 4
    by_start = {p.target_time_s: p for p in points}
    # 2026-10-24 01:00+0200 is 2026-10-23 23:00 UTC; the night of the change (01:00+0200 to
    # 07:00+0100) lasts 7 h; after it, periods start at 00, 06, 12 and 18 UTC
    assert points[0].target_time_s == utc("2026-10-23 23:00")
    assert by_start[utc("2026-10-24 23:00")].period_s == 7 * H
    assert by_start[utc("2026-10-25 06:00")].period_s == 6 * H
    assert by_start[utc("2026-10-26 00:00")].period_s == 6 * H
    assert points[-1].target_time_s == utc("2026-11-06 18:00")
    assert points[-1].period_s == 6 * H
    item = answer["forecast"][1][0]
    night = by_start[utc("2026-10-24 23:00")]
    assert (night.temperature_c, night.wind_kmh, night.gust_kmh, night.wind_dir_deg) == (
        item["temp2m"],
        item["wind10m"],
        item["gust10m"],
        item["dirwind10m"],
    )


def _period(day: int, period: int, when: str, temp_c: float) -> dict[str, Any]:
    return {"insee": "35236", "day": day, "period": period, "datetime": when, "temp2m": temp_c}


def test_the_spring_night_lasts_5_hours_and_sunshine_is_kept_where_given() -> None:
    answer = {
        "forecast": [
            [
                _period(0, 0, "2027-03-28T01:00:00+0100", 4.0),
                _period(0, 1, "2027-03-28T07:00:00+02:00", 9.0) | {"sun_hours": 2.5},
            ]
        ]
    }
    night, morning = meteo_concept.period_points(answer)
    assert (night.target_time_s, night.period_s) == (utc("2027-03-28 00:00"), 5 * H)
    assert (morning.target_time_s, morning.period_s) == (utc("2027-03-28 05:00"), 6 * H)
    assert (night.sunshine_h, morning.sunshine_h) == (None, 2.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-29T01:00:00+0100", "2026-03-29 00:00"),
        ("2026-03-29T03:00:00+0200", "2026-03-29 01:00"),
        ("2026-10-25T02:30:00+02:00", "2026-10-25 00:30"),
        ("2026-10-25T02:30:00+01:00", "2026-10-25 01:30"),
    ],
)
def test_offsets_give_utc_times(text: str, expected: str) -> None:
    assert utc_time(text, "test") == utc(expected)


@pytest.mark.parametrize("text", ["2026-10-25T02:30:00", "tomorrow", 1792886400, None])
def test_a_time_without_offset_or_not_a_time_is_refused(text: Any) -> None:
    with pytest.raises(WeatherError, match="test"):
        utc_time(text, "test")


def _broken_hourly(change: str) -> Any:
    answer = recorded("meteo_concept_next_hours.json")
    item = answer["forecast"][3]
    if change == "no forecast":
        del answer["forecast"]
    elif change == "forecast not a list":
        answer["forecast"] = {"0": item}
    elif change == "no temp2m":
        del item["temp2m"]
    elif change == "no datetime":
        del item["datetime"]
    elif change == "text wind":
        item["wind10m"] = "12 km/h"
    else:
        answer = [answer]
    return answer


@pytest.mark.parametrize(
    "change",
    [
        "no forecast",
        "forecast not a list",
        "no temp2m",
        "no datetime",
        "text wind",
        "a list, not an object",
    ],
)
def test_meteo_concept_answers_not_in_its_format_are_refused(change: str) -> None:
    with pytest.raises(WeatherError, match="meteo-concept nextHours"):
        meteo_concept.hourly_points(_broken_hourly(change))


def test_a_period_number_out_of_0_to_3_is_refused() -> None:
    answer = recorded("meteo_concept_periods.json")
    answer["forecast"][2][1]["period"] = 4
    with pytest.raises(WeatherError, match="period 4"):
        meteo_concept.period_points(answer)


def test_meteo_concept_asks_by_insee_or_by_latitude_and_longitude(
    web: respx.MockRouter,
) -> None:
    hourly = web.get(MC_NEXT_HOURS).respond(json=recorded("meteo_concept_next_hours.json"))
    periods = web.get(MC_PERIODS).respond(json=recorded("meteo_concept_periods.json"))
    with httpx.Client() as client:
        by_insee = meteo_concept.fetch(settings(), client)
        meteo_concept.fetch(settings(meteo_concept_insee=""), client)
    assert len(by_insee) == 12 + 56
    first, second = (call.request.url.params for call in hourly.calls)
    assert dict(first) == {"token": TOKEN, "hourly": "true", "insee": "35236"}
    assert dict(second) == {"token": TOKEN, "hourly": "true", "latlng": "47.65,-2.08"}
    assert dict(periods.calls[1].request.url.params) == {"token": TOKEN, "latlng": "47.65,-2.08"}


# --- Open-Meteo ----------------------------------------------------------------------------


def test_open_meteo_points_take_gusts_and_sunshine_from_the_next_hour() -> None:
    answer = recorded("open_meteo_forecast.json")
    hourly = answer["hourly"]
    points = open_meteo.points(answer)
    assert len(points) == 14 * 24
    assert points[0].target_time_s == utc("2026-10-24 00:00") == hourly["time"][0]
    assert points[-1].target_time_s == utc("2026-11-06 23:00")
    k = 12  # 12:00 UTC: the gusts and sunshine of 12-13 h are given at 13:00
    assert points[k] == WeatherPoint(
        hourly["time"][k],
        H,
        hourly["temperature_2m"][k],
        hourly["wind_speed_10m"][k],
        hourly["wind_gusts_10m"][k + 1],
        hourly["wind_direction_10m"][k],
        hourly["sunshine_duration"][k + 1] / 3600,
    )
    assert 0 < points[k].sunshine_h <= 1  # type: ignore[operator]
    assert (points[-1].gust_kmh, points[-1].sunshine_h) == (None, None)


def test_open_meteo_asks_for_every_field_in_kmh_and_unix_times(web: respx.MockRouter) -> None:
    route = web.get(OPEN_METEO).respond(json=recorded("open_meteo_forecast.json"))
    with httpx.Client() as client:
        assert len(open_meteo.fetch(settings(), client)) == 336
    assert dict(route.calls[0].request.url.params) == {
        "latitude": "47.65",
        "longitude": "-2.08",
        "hourly": "temperature_2m,wind_speed_10m,wind_gusts_10m,wind_direction_10m,"
        "sunshine_duration",
        "timeformat": "unixtime",
        "wind_speed_unit": "kmh",
        "forecast_days": "14",
    }


def test_a_variable_open_meteo_does_not_give_is_none() -> None:
    answer = recorded("open_meteo_forecast.json")
    del answer["hourly"]["sunshine_duration"]
    answer["hourly"]["wind_gusts_10m"][5] = None
    points = open_meteo.points(answer)
    assert {p.sunshine_h for p in points} == {None}
    assert points[4].gust_kmh is None
    assert points[5].gust_kmh is not None


def _broken_open_meteo(change: str) -> Any:
    answer = recorded("open_meteo_forecast.json")
    hourly = answer["hourly"]
    if change == "no hourly":
        del answer["hourly"]
    elif change == "no time":
        del hourly["time"]
    elif change == "no temperature":
        del hourly["temperature_2m"]
    elif change == "short list":
        hourly["wind_speed_10m"].pop()
    elif change == "null time":
        hourly["time"][7] = None
    else:
        answer["hourly_units"]["wind_speed_10m"] = "m/s"
    return answer


@pytest.mark.parametrize(
    "change",
    ["no hourly", "no time", "no temperature", "short list", "null time", "wind in m/s"],
)
def test_open_meteo_answers_not_in_its_format_are_refused(change: str) -> None:
    with pytest.raises(WeatherError, match="open-meteo"):
        open_meteo.points(_broken_open_meteo(change))


# --- absurd values ---------------------------------------------------------------------------


def _with(point: WeatherPoint, **values: Any) -> WeatherPoint:
    fields = {**point.__dict__, **values}
    return WeatherPoint(**fields)


GOOD = WeatherPoint(utc("2026-10-24 12:00"), H, 14.0, 20.0, 38.0, 350.0, 0.5)


@pytest.mark.parametrize(
    "values",
    [
        {"temperature_c": 61.0},
        {"temperature_c": -60.5},
        {"temperature_c": float("nan")},
        {"wind_kmh": -1.0},
        {"gust_kmh": 1e4},
        {"wind_dir_deg": 361.0},
        {"wind_dir_deg": -5.0},
        {"sunshine_h": 1.5},
        {"wind_kmh": float("inf")},
    ],
)
def test_a_point_with_an_absurd_value_is_left_out(
    values: dict[str, float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    later = _with(GOOD, target_time_s=GOOD.target_time_s + H)
    assert checked([_with(GOOD, **values), later], "test") == [later]
    (line,) = caplog.messages
    assert line.startswith("[WARN_IGNORED] weather: test: 1 of 2 points left out")


def test_an_answer_with_no_usable_point_is_an_error() -> None:
    with pytest.raises(WeatherError, match="no usable point"):
        checked([_with(GOOD, temperature_c=99.0)], "test")
    with pytest.raises(WeatherError, match="no usable point"):
        checked([], "test")


def test_a_second_point_for_the_same_period_is_left_out() -> None:
    other = _with(GOOD, temperature_c=3.0)
    assert checked([GOOD, other], "test") == [GOOD]


def test_a_recorded_answer_with_absurd_values_keeps_the_others() -> None:
    answer = copy.deepcopy(recorded("meteo_concept_next_hours.json"))
    answer["forecast"][2]["temp2m"] = 85
    answer["forecast"][3]["dirwind10m"] = 720
    points = checked(meteo_concept.hourly_points(answer), "meteo-concept")
    assert len(points) == 10
    assert utc("2026-10-24 13:00") not in {p.target_time_s for p in points}


def test_nan_and_infinity_in_the_json_text_are_left_out(
    web: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    """JSON has no NaN, but Python's decoder (httpx's) reads the ``NaN`` and ``Infinity`` a
    broken server writes: those points are left out, counted in one line, never stored."""
    answer = copy.deepcopy(recorded("open_meteo_forecast.json"))
    hourly = answer["hourly"]
    hourly["temperature_2m"][5] = float("nan")
    hourly["wind_speed_10m"][6] = float("inf")
    hourly["wind_direction_10m"][7] = float("-inf")
    text = json.dumps(answer)  # writes NaN, Infinity, as a broken server may
    assert "NaN" in text
    assert "-Infinity" in text
    web.get(OPEN_METEO).respond(200, text=text)
    with httpx.Client() as client:
        points = open_meteo.fetch(settings(), client)
    assert len(points) == len(hourly["time"]) - 3
    left_out = {hourly["time"][k] for k in (5, 6, 7)}
    assert not left_out & {p.target_time_s for p in points}
    (line,) = [m for m in caplog.messages if m.startswith("[WARN_IGNORED]")]
    assert f"open-meteo: 3 of {len(hourly['time'])} points left out" in line
