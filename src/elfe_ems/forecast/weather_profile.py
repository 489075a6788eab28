"""A balance forecaster better than persistence: PV from the weather forecast, plus the
household load learned by day type and local quarter hour.

The territory balance (production - consumption [W]) is modelled as::

    balance(t) = kwp · yield(t) - load[day type of t, local quarter hour of t]

where ``yield`` [W per kWp] is the PV yield of a reference roof given by the weather (forecast
for the future, as forecast or measured for the past), ``kwp`` the PV power the balance sees
and ``load`` the consumption of each quarter hour of a weekday, a Saturday and a Sunday. Both
are fitted by least squares on the measured history (:func:`fit_profile`, at least
:data:`MIN_HISTORY_DAYS` days with data). The forecast (:func:`profile_forecast`) is the model
plus its latest measured error, fading with the time constant :data:`ERROR_FADING_S`: the
recent past tells how today differs, as in persistence.

The yield is pvlib's clear-sky irradiance (Ineichen, with the Linke turbidity pvlib ships) on a
roof facing south at 30° (:func:`clear_sky_yield_w_per_kwp`), dimmed by the cloud cover
(:func:`cloud_dimming`); production takes the cloud cover as ``1 -`` the forecast's share of
sunshine (:func:`sunshine_yield_w_per_kwp`). The demo's PV is made the same way.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pvlib

from elfe_ems.timegrid import HOUR_S, STEP_S

SOURCE = "weather-profile"
"""``forecast.source`` of this forecaster's forecasts (persistence's is ``persistence``)."""

SLOTS = 96  # quarter hours of a day
DAY_TYPES = 3  # Monday to Friday, Saturday, Sunday
MIN_HISTORY_DAYS = 7
ERROR_FADING_S = 3 * 3600

ROOF_TILT_DEG = 30.0
ROOF_AZIMUTH_DEG = 180.0  # south
SYSTEM_EFFICIENCY = 0.85  # inverter, wiring, soiling and heat losses of a roof PV system
ALTITUDE_M = 30.0


def clear_sky_yield_w_per_kwp(
    times_s: np.ndarray, latitude_deg: float, longitude_deg: float
) -> np.ndarray:
    """A reference roof's clear-sky PV yield [W per kWp] at each Unix time."""
    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(times_s), unit="s", utc=True))
    site = pvlib.location.Location(latitude_deg, longitude_deg, tz="UTC", altitude=ALTITUDE_M)
    with warnings.catch_warnings():  # pvlib's own pandas calls, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", module="pvlib")
        clear = site.get_clearsky(index, model="ineichen")
        sun = site.get_solarposition(index)
    poa: npt.NDArray[np.float64] = pvlib.irradiance.get_total_irradiance(  # pvlib is untyped
        ROOF_TILT_DEG,
        ROOF_AZIMUTH_DEG,
        sun["apparent_zenith"],
        sun["azimuth"],
        clear["dni"],
        clear["ghi"],
        clear["dhi"],
    )["poa_global"].to_numpy(dtype=float)
    return np.maximum(np.nan_to_num(poa) * SYSTEM_EFFICIENCY, 0.0)  # 1000 W/m² = 1 kWp


def cloud_dimming(cloud_cover: np.ndarray) -> np.ndarray:
    """The share of the clear-sky irradiance left under a cloud cover in [0, 1] (Kasten and
    Czeplak, 1980)."""
    # typed: numpy's stubs answer Any for arrays of unspecified dtype
    share: np.ndarray = 1 - 0.75 * np.clip(cloud_cover, 0.0, 1.0) ** 3.4
    return share


def sunshine_yield_w_per_kwp(
    times_s: np.ndarray, sunshine_share: np.ndarray, latitude_deg: float, longitude_deg: float
) -> np.ndarray:
    """The PV yield [W per kWp] with a share of sunshine in [0, 1] at each time (the cloud
    cover taken as the rest); NaN where the share is."""
    cloud = 1 - np.asarray(sunshine_share, dtype=float)
    # typed: numpy's stubs answer Any for arrays of unspecified dtype
    yield_w: np.ndarray = clear_sky_yield_w_per_kwp(
        times_s, latitude_deg, longitude_deg
    ) * cloud_dimming(cloud)
    return yield_w


@dataclass(frozen=True)
class ProfileModel:
    """The fitted model: PV power seen by the balance [kWp] and load [W] by day type and
    local quarter hour."""

    kwp: float
    load_w: np.ndarray  # (DAY_TYPES, SLOTS)
    tz: ZoneInfo

    def balance_w(self, times_s: np.ndarray, yield_w_per_kwp: np.ndarray) -> np.ndarray:
        """The model's balance [W] for the steps beginning at ``times_s``."""
        day_type, slot = day_slots(times_s, self.tz)
        # typed: numpy's stubs answer Any for arrays of unspecified dtype
        balance: np.ndarray = (
            self.kwp * np.asarray(yield_w_per_kwp, dtype=float) - self.load_w[day_type, slot]
        )
        return balance


def day_slots(times_s: np.ndarray, tz: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """The day type (0 Monday to Friday, 1 Saturday, 2 Sunday) and the local quarter hour of
    each Unix time."""
    times = np.asarray(times_s, dtype=np.int64)
    hours = times // HOUR_S
    offsets = {int(h): _offset_s(int(h) * HOUR_S, tz) for h in np.unique(hours)}
    local = times + np.array([offsets[int(h)] for h in hours], dtype=np.int64)
    weekday = (local // 86_400 + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    day_type = np.where(weekday < 5, 0, weekday - 4)
    return day_type, (local % 86_400) // STEP_S


def _offset_s(time_s: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(time_s, tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def fit_profile(
    times_s: np.ndarray, balance_w: np.ndarray, yield_w_per_kwp: np.ndarray, tz: ZoneInfo
) -> ProfileModel:
    """The model fitted on the measured balance [W] of the steps beginning at ``times_s``,
    with the PV yield [W per kWp] of the same steps; steps with a NaN are left out. A day
    type and quarter hour without data takes the mean of that quarter hour over the other
    day types. Raises ValueError with less than :data:`MIN_HISTORY_DAYS` days of data."""
    balance = np.asarray(balance_w, dtype=float)
    yields = np.asarray(yield_w_per_kwp, dtype=float)
    known = np.isfinite(balance) & np.isfinite(yields)
    if known.sum() < MIN_HISTORY_DAYS * SLOTS:
        raise ValueError(
            f"{known.sum()} steps of balance history with weather: at least "
            f"{MIN_HISTORY_DAYS * SLOTS} ({MIN_HISTORY_DAYS} days) needed"
        )
    day_type, slot = day_slots(np.asarray(times_s)[known], tz)
    cell = day_type * SLOTS + slot
    design = np.zeros((cell.size, 1 + DAY_TYPES * SLOTS))
    design[:, 0] = yields[known]
    design[np.arange(cell.size), 1 + cell] = -1.0
    solution = np.linalg.lstsq(design, balance[known], rcond=None)[0]
    seen = np.bincount(cell, minlength=DAY_TYPES * SLOTS).reshape(DAY_TYPES, SLOTS) > 0
    load = np.where(seen, solution[1:].reshape(DAY_TYPES, SLOTS), np.nan)
    slot_means = np.nanmean(np.where(seen, load, np.nan), axis=0)
    load = np.where(seen, load, slot_means[None, :])
    load = np.where(np.isfinite(load), load, np.nanmean(load))
    return ProfileModel(max(0.0, float(solution[0])), load, tz)


def profile_forecast(
    model: ProfileModel,
    target_times_s: np.ndarray,
    forecast_yield_w_per_kwp: np.ndarray,
    latest_error_w: float,
    latest_time_s: int,
) -> np.ndarray:
    """The balance forecast [W] of the steps beginning at ``target_times_s``: the model with
    the forecast yield, plus ``latest_error_w`` (measured - model, at the latest measured step,
    beginning at ``latest_time_s``) fading with the lead time."""
    times = np.asarray(target_times_s, dtype=np.int64)
    fading = np.exp(-np.maximum(times - latest_time_s, 0) / ERROR_FADING_S)
    return model.balance_w(times, forecast_yield_w_per_kwp) + latest_error_w * fading
