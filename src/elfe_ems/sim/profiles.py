"""The demo territory's weather and household load, from standard profiles and shipped samples.

Everything the demo measures is built from these, on a regular grid of Unix times:

- household load: the BDEW H25 standard load profile (demandlib; 15-min values, with its
  seasonal dynamisation), scaled to the homes' annual consumption;
- PV: pvlib's clear-sky irradiance on a roof facing south at 30°
  (:func:`elfe_ems.forecast.weather_profile.clear_sky_yield_w_per_kwp`), dimmed by the cloud cover
  of the sample below (:func:`elfe_ems.forecast.weather_profile.cloud_dimming`);
- outdoor temperature and cloud cover: the typical meteorological year (TMY3) of Greensboro,
  North Carolina, that pvlib ships, read at the same local day of the year and hour of day.
  No Breton sample is shipped; Greensboro's winters are close to Brittany's (0 to 12 °C).

Nothing here needs the internet.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib
from demandlib.bdew import H25

from elfe_ems.forecast.weather_profile import clear_sky_yield_w_per_kwp, cloud_dimming

TMY_FILE = Path(pvlib.__file__).with_name("data") / "723170TYA.CSV"
"""pvlib's TMY3 sample of Greensboro (NC): hourly values, local standard time."""
TMY_NAME = "TMY3 sample of Greensboro, NC (shipped with pvlib)"
HOURS_PER_YEAR = 8760

H25_KWH_PER_YEAR = 1e6
"""demandlib's H25 values are kW for a consumption of 1 GWh per year."""


@dataclass(frozen=True)
class TerritoryWeather:
    """Outdoor temperature [°C] and PV yield [W per kWp] at each time asked."""

    outdoor_temp_c: np.ndarray
    pv_w_per_kwp: np.ndarray


@functools.cache
def _tmy() -> tuple[np.ndarray, np.ndarray]:
    """The sample's hourly air temperature [°C] and total cloud cover [0-1], one per hour of
    the year; value ``i`` is for the end of hour ``i + 1`` (the TMY3 convention)."""
    data, _meta = pvlib.iotools.read_tmy3(TMY_FILE, map_variables=True)
    return (
        data["temp_air"].to_numpy(dtype=float),
        data["TotCld (tenths)"].to_numpy(dtype=float) / 10,
    )


def _hour_of_year(times_s: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Local hours since 1 January 00:00 of each Unix time (fractional)."""
    local = pd.DatetimeIndex(pd.to_datetime(times_s, unit="s", utc=True)).tz_convert(tz)
    return np.asarray(
        (local.day_of_year - 1) * 24 + local.hour + local.minute / 60 + local.second / 3600,
        dtype=float,
    )


def _from_sample(values: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """The hourly sample interpolated at ``hours`` of the year (the year wraps around)."""
    # typed: numpy's stubs answer Any for arrays of unspecified dtype
    at_hours: np.ndarray = np.interp(
        hours % HOURS_PER_YEAR, np.arange(1, values.size + 1), values, period=values.size
    )
    return at_hours


def territory_weather(
    times_s: np.ndarray, latitude_deg: float, longitude_deg: float, tz: ZoneInfo
) -> TerritoryWeather:
    """Outdoor temperature and PV yield at ``times_s`` [Unix s] (see the module docstring)."""
    temp_c, cloud = _tmy()
    hours = _hour_of_year(times_s, tz)
    clear = clear_sky_yield_w_per_kwp(np.asarray(times_s), latitude_deg, longitude_deg)
    pv = clear * cloud_dimming(_from_sample(cloud, hours))
    return TerritoryWeather(_from_sample(temp_c, hours), pv)


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
