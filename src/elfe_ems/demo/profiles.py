"""The demo territory's weather and household load, from standard profiles and shipped samples.

Everything the demo measures is built from these, on a regular grid of Unix times:

- household load: the BDEW H25 standard load profile (demandlib; 15-min values, with its
  seasonal dynamisation), scaled to the homes' annual consumption;
- PV: pvlib's clear-sky irradiance (Ineichen, with the Linke turbidity pvlib ships) on a roof
  facing south at 30°, dimmed by the cloud cover of the sample below (Kasten and Czeplak);
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
import pandas as pd
import pvlib
from demandlib.bdew import H25

STEP_S = 900
TMY_FILE = Path(pvlib.__file__).with_name("data") / "723170TYA.CSV"
"""pvlib's TMY3 sample of Greensboro (NC): hourly values, local standard time."""
TMY_NAME = "TMY3 sample of Greensboro, NC (shipped with pvlib)"
HOURS_PER_YEAR = 8760

H25_KWH_PER_YEAR = 1e6
"""demandlib's H25 values are kW for a consumption of 1 GWh per year."""

ROOF_TILT_DEG = 30.0
ROOF_AZIMUTH_DEG = 180.0  # south
SYSTEM_EFFICIENCY = 0.85  # inverter, wiring, soiling and heat losses of a roof PV system
ALTITUDE_M = 30.0


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
    return np.interp(
        hours % HOURS_PER_YEAR, np.arange(1, values.size + 1), values, period=values.size
    )


def territory_weather(
    times_s: np.ndarray, latitude_deg: float, longitude_deg: float, tz: ZoneInfo
) -> TerritoryWeather:
    """Outdoor temperature and PV yield at ``times_s`` [Unix s] (see the module docstring)."""
    temp_c, cloud = _tmy()
    hours = _hour_of_year(times_s, tz)
    index = pd.DatetimeIndex(pd.to_datetime(times_s, unit="s", utc=True))
    site = pvlib.location.Location(latitude_deg, longitude_deg, tz="UTC", altitude=ALTITUDE_M)
    with warnings.catch_warnings():  # pvlib's own pandas calls, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", module="pvlib")
        clear = site.get_clearsky(index, model="ineichen")
        sun = site.get_solarposition(index)
    poa = pvlib.irradiance.get_total_irradiance(
        ROOF_TILT_DEG,
        ROOF_AZIMUTH_DEG,
        sun["apparent_zenith"],
        sun["azimuth"],
        clear["dni"],
        clear["ghi"],
        clear["dhi"],
    )["poa_global"].to_numpy(dtype=float)
    dimming = 1 - 0.75 * _from_sample(cloud, hours) ** 3.4  # Kasten and Czeplak (1980)
    pv = np.nan_to_num(poa) * dimming * SYSTEM_EFFICIENCY  # W/m² at 1000 W/m² = 1 kWp
    return TerritoryWeather(_from_sample(temp_c, hours), np.maximum(pv, 0.0))


def household_load_w(first_s: int, steps: int, annual_kwh: float, tz: ZoneInfo) -> np.ndarray:
    """Mean load [W] over each 15-min step from ``first_s`` (a multiple of 900 s) of homes
    consuming ``annual_kwh`` together in a year, shaped by BDEW H25 in local time."""
    index = pd.date_range(
        pd.Timestamp(first_s, unit="s", tz="UTC").tz_convert(tz), periods=steps, freq="15min"
    )
    with warnings.catch_warnings():  # demandlib's own pandas calls, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", module="demandlib")
        kw_per_gwh = H25(index).to_numpy(dtype=float)
    return kw_per_gwh * 1000 * annual_kwh / H25_KWH_PER_YEAR
