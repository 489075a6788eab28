"""The demo territory's weather and household load, from standard profiles and a climate model.

Everything the demo measures is built from these, on a regular grid of Unix times:

- household load: the BDEW H25 standard load profile (demandlib; 15-min values, with its
  seasonal dynamisation), scaled to the homes' annual consumption;
- PV: pvlib's clear-sky irradiance on a roof facing south at 30°
  (:func:`elfe_ems.forecast.weather_profile.clear_sky_yield_w_per_kwp`), dimmed by the daily
  cloud cover of the model below (:func:`elfe_ems.forecast.weather_profile.cloud_dimming`);
- outdoor temperature and cloud cover: a seasonal weather model of Rennes (Brittany),
  calibrated on the 1991-2020 climate normals of Rennes-Saint-Jacques (Météo-France): monthly
  mean daily minimum and maximum temperatures and sunshine durations (:data:`TMIN_C`,
  :data:`TMAX_C`, :data:`SUNSHINE_H`). These are rounded values transcribed from the public
  normals, not re-checked against Météo-France's files (no internet here).

The model, per local day ``d`` (a civil date):

- the normals are interpolated to the day of the year by a periodic cubic spline through the
  mid-month values;
- a temperature anomaly ``a(d)``, Gaussian with a standard deviation of
  :data:`ANOMALY_STD_K`, autocorrelated from day to day (:data:`ANOMALY_PHI`), shifts the
  day's minimum and maximum;
- a cloud cover ``c(d)`` in [0, 1], Beta-distributed (:data:`CLOUD_CONCENTRATION`) with the
  month's mean ``1 - sunshine / possible daylight hours`` (:func:`normal_cloud_cover`) and
  persistent from day to day (:data:`CLOUD_PHI`), dims the PV and narrows the day's
  temperature range (clear days have cold nights and warm afternoons:
  :data:`RANGE_CLOUD_GAIN`);
- the temperature follows half cosines from the day's minimum at sunrise to its maximum
  :data:`MAX_AFTER_NOON_H` after solar noon (about 15:00 in winter), then down to the next
  day's minimum at the next sunrise.

It is deterministic: each day's random draws are a hash of its date (no global random
state), so the same times give the same weather whatever else is asked. Nothing here needs the
internet.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib
from demandlib.bdew import H25
from scipy import special
from scipy.interpolate import CubicSpline

from elfe_ems.forecast.weather_profile import clear_sky_yield_w_per_kwp, cloud_dimming
from elfe_ems.timegrid import DAY_S

WEATHER_MODEL_NAME = "seasonal weather model of Rennes (Météo-France 1991-2020 normals)"

# 1991-2020 normals of Rennes-Saint-Jacques (Météo-France), January to December, rounded
# (see the module docstring)
TMIN_C = (2.9, 2.8, 4.6, 6.2, 9.5, 12.4, 14.3, 14.1, 11.7, 9.4, 5.6, 3.4)
"""Monthly mean daily minimum temperature [°C]."""
TMAX_C = (9.0, 10.0, 13.2, 15.8, 19.2, 22.5, 24.7, 24.7, 21.8, 17.4, 12.4, 9.5)
"""Monthly mean daily maximum temperature [°C]."""
SUNSHINE_H = (70.0, 95.0, 140.0, 180.0, 200.0, 210.0, 220.0, 215.0, 185.0, 125.0, 80.0, 70.0)
"""Monthly sunshine duration [h]."""
STATION_LATITUDE_DEG = 48.07  # Rennes-Saint-Jacques: the possible daylight of its normals

ANOMALY_STD_K = 2.5
ANOMALY_PHI = 0.7  # day-to-day correlation of the temperature anomaly
CLOUD_PHI = 0.5  # and of the cloud cover's Gaussian driver
CLOUD_CONCENTRATION = 0.4
"""``a + b`` of the daily cloud cover's Beta(a, b) law. Small, so days are mostly clear or
overcast: ``cloud_dimming`` barely dims a partly cloudy sky (0.87 of clear sky at a cover of
0.6), and with evenly grey days the normals' sunshine would give about 1,340 kWh/kWp a year;
at 0.4 a south 30° roof yields about 1,150 kWh/kWp (1,050 to 1,250 from one year to another)."""
RANGE_CLOUD_GAIN = 0.8  # relative widening of the diurnal range per unit of cloud below mean
MAX_AFTER_NOON_H = 2.0  # the day's maximum after solar noon (about 15:00 CET)
MEMORY_DAYS = 40  # days of white noise behind a day's draws (0.7 ** 40 < 1e-6)
DAY_MARGIN = 2  # days computed on each side of the times asked (sunrise and peak knots)
TEMP_STREAM, CLOUD_STREAM, STREAMS = 0, 1, 2  # independent hashed draws per day

H25_KWH_PER_YEAR = 1e6
"""demandlib's H25 values are kW for a consumption of 1 GWh per year."""


@dataclass(frozen=True)
class TerritoryWeather:
    """Outdoor temperature [°C] and PV yield [W per kWp] at each time asked."""

    outdoor_temp_c: np.ndarray
    pv_w_per_kwp: np.ndarray


def _daily_normal(days: np.ndarray, stream: int) -> np.ndarray:
    """A standard normal draw per day number and stream, a hash of both (splitmix64): the
    same day always draws the same value, whatever other days are asked."""
    z = days.astype(np.int64).view(np.uint64) * np.uint64(STREAMS) + np.uint64(stream)
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    uniform = ((z >> np.uint64(11)).astype(float) + 0.5) / 2.0**53  # in (0, 1)
    normal: np.ndarray = special.ndtri(uniform)  # scipy is untyped
    return normal


def _persistent_normal(first_day: int, count: int, stream: int, phi: float) -> np.ndarray:
    """Standard normal values of ``count`` days from ``first_day``, correlated ``phi ** lag``
    (an AR(1) process): each is a moving average of the past days' hashed white noise, so it
    depends on its date only."""
    weights = phi ** np.arange(MEMORY_DAYS)
    noise = _daily_normal(np.arange(first_day - MEMORY_DAYS + 1, first_day + count), stream)
    # typed: numpy's stubs answer Any for arrays of unspecified dtype
    values: np.ndarray = np.convolve(noise, weights / np.linalg.norm(weights), mode="valid")
    return values


def _day_of_year(dates: np.ndarray) -> np.ndarray:
    """1 on 1 January of each ``datetime64[D]`` date."""
    first = dates.astype("datetime64[Y]").astype("datetime64[D]")
    day: np.ndarray = (dates - first).astype(np.int64) + 1  # typed: the stubs answer Any
    return day


def _daylight_h(day_of_year: np.ndarray, latitude_deg: float) -> np.ndarray:
    """Astronomical day length [h] (the sun's centre above a flat horizon)."""
    declination = pvlib.solarposition.declination_spencer71(day_of_year)
    cos_hour_angle = -np.tan(np.radians(latitude_deg)) * np.tan(declination)
    daylight: np.ndarray = np.degrees(np.arccos(np.clip(cos_hour_angle, -1, 1))) / 7.5
    return daylight


def normal_cloud_cover() -> np.ndarray:
    """Each month's mean cloud cover [0-1]: the share of its possible daylight hours without
    sunshine in the normals (possible hours at the station, in a common year)."""
    dates = np.arange("2001-01-01", "2002-01-01", dtype="datetime64[D]")
    months = dates.astype("datetime64[M]").astype(np.int64) % 12
    daylight = _daylight_h(_day_of_year(dates), STATION_LATITUDE_DEG)
    possible_h = np.bincount(months, weights=daylight, minlength=12)
    cloud: np.ndarray = 1 - np.asarray(SUNSHINE_H) / possible_h
    return cloud


@functools.cache
def _normals() -> CubicSpline:
    """The normals (minimum, maximum, cloud cover) as periodic cubic splines of the month
    position, through their values at mid-month (positions 0.5 to 11.5)."""
    values = np.column_stack([TMIN_C, TMAX_C, normal_cloud_cover()])
    return CubicSpline(np.arange(13) + 0.5, np.vstack([values, values[:1]]), bc_type="periodic")


def _month_position(dates: np.ndarray) -> np.ndarray:
    """Where the middle of each ``datetime64[D]`` date lies in its year [months from
    1 January 00:00]: 0.5 is mid-January."""
    months = dates.astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    # typed: numpy's stubs answer Any for arrays of unspecified dtype
    position: np.ndarray = (
        months.astype(np.int64) % 12 + ((dates - first).astype(np.int64) + 0.5) / length
    )
    return position


@dataclass(frozen=True)
class _Days:
    """The model's consecutive days from day number ``first`` (days since 1970-01-01)."""

    first: int
    min_c: np.ndarray
    max_c: np.ndarray
    cloud: np.ndarray

    @property
    def dates(self) -> np.ndarray:
        return np.arange(self.first, self.first + self.cloud.size).astype("datetime64[D]")


def _days(first: int, count: int) -> _Days:
    """The daily minimum and maximum temperatures [°C] and cloud covers of ``count`` days
    (see the module docstring)."""
    dates = np.arange(first, first + count).astype("datetime64[D]")
    min_c, max_c, mean_cloud = _normals()(_month_position(dates)).T
    cloud_share = special.ndtr(_persistent_normal(first, count, CLOUD_STREAM, CLOUD_PHI))
    cloud = special.betaincinv(
        CLOUD_CONCENTRATION * mean_cloud, CLOUD_CONCENTRATION * (1 - mean_cloud), cloud_share
    )
    anomaly_k = ANOMALY_STD_K * _persistent_normal(first, count, TEMP_STREAM, ANOMALY_PHI)
    middle_c = (min_c + max_c) / 2 + anomaly_k
    # the range's mean stays the normals': the cloud's mean is the month's
    half_range_k = (max_c - min_c) / 2 * (1 + RANGE_CLOUD_GAIN * (mean_cloud - cloud))
    return _Days(first, middle_c - half_range_k, middle_c + half_range_k, cloud)


def _temperature_c(
    times_s: np.ndarray, days: _Days, latitude_deg: float, longitude_deg: float
) -> np.ndarray:
    """The temperature at ``times_s`` [Unix s]: half cosines through each day's minimum at
    sunrise and maximum :data:`MAX_AFTER_NOON_H` after solar noon."""
    day_of_year = _day_of_year(days.dates)
    noon_s = (
        days.dates.astype("datetime64[s]").astype(np.int64)
        + 43_200
        - longitude_deg * 240  # 4 min per degree east
        - pvlib.solarposition.equation_of_time_spencer71(day_of_year) * 60
    )
    sunrise_s = noon_s - _daylight_h(day_of_year, latitude_deg) / 2 * 3600
    knots_s = np.column_stack([sunrise_s, noon_s + MAX_AFTER_NOON_H * 3600]).ravel()
    knots_c = np.column_stack([days.min_c, days.max_c]).ravel()
    i = np.searchsorted(knots_s, times_s, side="right") - 1
    share = (times_s - knots_s[i]) / (knots_s[i + 1] - knots_s[i])
    temp_c: np.ndarray = (
        knots_c[i] + (knots_c[i + 1] - knots_c[i]) * (1 - np.cos(np.pi * share)) / 2
    )
    return temp_c


def _local_day(times_s: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """The local date of each Unix time, as a day number (days since 1970-01-01)."""
    utc = pd.DatetimeIndex(pd.to_datetime(times_s, unit="s", utc=True))
    local = utc.tz_convert(tz).tz_localize(None).to_numpy()
    day: np.ndarray = local.astype("datetime64[D]").astype(np.int64)  # typed: pandas' Any
    return day


def territory_weather(
    times_s: np.ndarray, latitude_deg: float, longitude_deg: float, tz: ZoneInfo
) -> TerritoryWeather:
    """Outdoor temperature and PV yield at ``times_s`` [Unix s] (see the module docstring);
    the cloud cover of each time is its local date's."""
    times = np.asarray(times_s, dtype=float)
    first = int(times.min() // DAY_S) - DAY_MARGIN
    days = _days(first, int(times.max() // DAY_S) + DAY_MARGIN + 1 - first)
    temp_c = _temperature_c(times, days, latitude_deg, longitude_deg)
    clear = clear_sky_yield_w_per_kwp(times, latitude_deg, longitude_deg)
    pv = clear * cloud_dimming(days.cloud[_local_day(times, tz) - first])
    return TerritoryWeather(temp_c, pv)


def household_load_w(first_s: int, steps: int, annual_kwh: float, tz: ZoneInfo) -> np.ndarray:
    """Mean load [W] over each 15-min step from ``first_s`` (a multiple of 900 s) of homes
    consuming ``annual_kwh`` together in a year, shaped by BDEW H25 in local time."""
    index = pd.date_range(
        pd.Timestamp(first_s, unit="s", tz="UTC").tz_convert(tz), periods=steps, freq="15min"
    )
    with warnings.catch_warnings():  # demandlib's own pandas calls, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", module="demandlib")
        kw_per_gwh: npt.NDArray[np.float64] = H25(index).to_numpy(dtype=float)  # untyped lib
    return kw_per_gwh * 1000 * annual_kwh / H25_KWH_PER_YEAR
