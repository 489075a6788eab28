"""The seasonal weather model of Rennes: its climate against the normals it is calibrated on."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from elfe_ems.sim.profiles import TMAX_C, TMIN_C, normal_cloud_cover, territory_weather

TZ = ZoneInfo("Europe/Paris")
LATITUDE_DEG, LONGITUDE_DEG = 47.65, -2.08  # the settings' default site (Redon)
NORMALS_TOLERANCE_K = 0.7
YIELD_KWH_PER_KWP = (950.0, 1250.0)  # a south 30° roof in Brittany, a year


def _times_s(first: str, end: str, step_s: float) -> np.ndarray:
    return np.arange(
        pd.Timestamp(first, tz=TZ).timestamp(), pd.Timestamp(end, tz=TZ).timestamp(), step_s
    )


@functools.cache
def _daily_extremes() -> pd.DataFrame:
    """The model's daily minimum and maximum [°C] over the normals' 30 years, 1991-2020,
    from hourly values (one year is not enough: a month's mean varies by about 1 K from one
    year to the next, as in the real climate)."""
    times = _times_s("1991-01-01", "2021-01-01", 3600.0)
    temp_c = territory_weather(times, LATITUDE_DEG, LONGITUDE_DEG, TZ).outdoor_temp_c
    local = pd.DatetimeIndex(pd.to_datetime(times, unit="s", utc=True)).tz_convert(TZ)
    frame = pd.DataFrame({"temp_c": temp_c, "day": local.date, "month": local.month})
    return frame.groupby("day").agg(
        min_c=("temp_c", "min"), max_c=("temp_c", "max"), month=("month", "first")
    )


def test_the_monthly_mean_minimum_and_maximum_match_the_normals() -> None:
    monthly = _daily_extremes().groupby("month")[["min_c", "max_c"]].mean()
    assert np.abs(monthly["min_c"].to_numpy() - TMIN_C).max() < NORMALS_TOLERANCE_K
    assert np.abs(monthly["max_c"].to_numpy() - TMAX_C).max() < NORMALS_TOLERANCE_K


def test_days_vary_around_the_normals_as_a_temperate_climate_does() -> None:
    daily = _daily_extremes()
    winter = daily[daily["month"].isin([12, 1, 2])]
    frost_days_per_year = (daily["min_c"] < 0).sum() / 30
    assert 2.0 < winter["min_c"].std() < 4.0
    assert 5 < frost_days_per_year < 60  # Rennes has a few tens a year
    assert (daily["max_c"] > daily["min_c"]).all()


def test_the_sunshine_normals_give_a_cloudier_winter_than_summer() -> None:
    cloud = normal_cloud_cover()
    assert ((cloud > 0.3) & (cloud < 0.9)).all()
    assert cloud[[0, 11]].min() > cloud[5:8].max()


def test_a_year_of_pv_yields_what_a_breton_roof_does() -> None:
    """On average over ten years: a year's yield varies by some 5 % around it."""
    times = _times_s("2021-01-01", "2031-01-01", 1800.0)
    yield_w = territory_weather(times, LATITUDE_DEG, LONGITUDE_DEG, TZ).pv_w_per_kwp
    kwh_per_kwp = float(yield_w.sum()) * 0.5 / 1000 / 10
    assert YIELD_KWH_PER_KWP[0] < kwh_per_kwp < YIELD_KWH_PER_KWP[1]
    assert (yield_w >= 0).all()


def test_the_same_times_give_the_same_weather_whatever_else_is_asked() -> None:
    week = _times_s("2026-12-01", "2026-12-08", 900.0)
    month = _times_s("2026-11-20", "2027-01-01", 900.0)
    first = territory_weather(week, LATITUDE_DEG, LONGITUDE_DEG, TZ)
    again = territory_weather(week, LATITUDE_DEG, LONGITUDE_DEG, TZ)
    inside = territory_weather(month, LATITUDE_DEG, LONGITUDE_DEG, TZ)
    at_week = np.isin(month, week)
    assert np.array_equal(first.outdoor_temp_c, again.outdoor_temp_c)
    assert np.array_equal(first.pv_w_per_kwp, again.pv_w_per_kwp)
    np.testing.assert_allclose(inside.outdoor_temp_c[at_week], first.outdoor_temp_c)
    np.testing.assert_allclose(inside.pv_w_per_kwp[at_week], first.pv_w_per_kwp)


def test_winter_days_are_coldest_near_sunrise_and_warmest_mid_afternoon() -> None:
    times = _times_s("2026-12-01", "2027-01-01", 900.0)
    temp_c = territory_weather(times, LATITUDE_DEG, LONGITUDE_DEG, TZ).outdoor_temp_c.reshape(
        31, 96
    )
    coldest_h = np.median(temp_c.argmin(axis=1)) / 4
    warmest_h = np.median(temp_c.argmax(axis=1)) / 4
    assert 7.5 <= coldest_h <= 9.5  # sunrise is near 08:50 CET
    assert 14.0 <= warmest_h <= 16.0
