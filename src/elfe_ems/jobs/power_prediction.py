"""The ``power-prediction`` job: the territory balance forecast, every quarter hour.

It reads the balance item (production - consumption [W], an aggregate Zabbix computes) over the last
24 h, turns it into 15-min means (stored in ``balance_measurement``), adds back the piloted devices'
power the plans in force gave each step (:mod:`elfe_ems.store.flexible`: the round places those
devices again, on top of the forecast) and forecasts the balance without them for the next 48 h by
persistence (:mod:`elfe_ems.forecast.persistence`). Every forecast is stored with its issue time
under the source ``persistence``, so a forecast is never overwritten by a later one: the round reads
the latest issue of each step, and forecasts can be scored against what was measured.

Bad samples: NaN and infinite values are left out as they are read (a counted notice,
:func:`elfe_ems.sources.units.history_in`). Gaps of up to 2 h of 15-min means are interpolated; a
longer gap (an item silent for 12 h) is not: the steps a day after it are not forecast by this
issue (``[WARN_DATABASE]``, the notice "gap of more than 2 h in the last 24 h"), and the round
takes them from the previous issues or extends them (its forecast freshness says so).

When its inputs are in the store, the job also issues the weather-profile forecast
(:mod:`elfe_ems.forecast.weather_profile`, source ``weather-profile``): the stored balance means,
with the piloted devices' power added back likewise, of the last :data:`PROFILE_HISTORY_DAYS` days
(at least :data:`~elfe_ems.forecast.weather_profile.MIN_HISTORY_DAYS` days of them) and the share of
sunshine of every step from the history's first to the forecast's last, from the weather fetches
(the latest fetch covering each step, its shortest period). Without them it is not issued (logged at
INFO: persistence is there).
"""

from __future__ import annotations

import logging

import numpy as np
from sqlalchemy import Connection, select

from elfe_ems.config import Settings
from elfe_ems.forecast.persistence import MAX_FILL_STEPS, forecast_from_means, last_day_means
from elfe_ems.forecast.weather_profile import SOURCE as PROFILE_SOURCE
from elfe_ems.forecast.weather_profile import (
    fit_profile,
    profile_forecast,
    sunshine_yield_w_per_kwp,
)
from elfe_ems.jobs.common import database
from elfe_ems.jobs.measurement_access import ahead_of, measurements, source_name
from elfe_ems.jobs.registry import JobError
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import note
from elfe_ems.sources.measurements import Item, MeasurementSource
from elfe_ems.sources.samples import long_gaps
from elfe_ems.sources.units import Quantity, history_in
from elfe_ems.store.flexible import measured_balance_without_devices, planned_power_w
from elfe_ems.store.tables import balance_measurement, forecast, weather_forecast_history
from elfe_ems.store.upsert import upsert
from elfe_ems.timegrid import DAY_S, STEP_S
from elfe_ems.timegrid.local import local_text

log = logging.getLogger(__name__)

SOURCE = "persistence"
"""``forecast.source`` of this job's forecasts."""

HOLD_MARGIN_S = 3_600  # samples before the 24 h window hold into its first step
PROFILE_HISTORY_DAYS = 28
FORECAST_STEPS = 2 * DAY_S // STEP_S


def balance_item(client: MeasurementSource, settings: Settings) -> Item:
    """The balance item: by id when configured, else by name."""
    if settings.balance_item_id is None:
        return client.item_named(settings.balance_item_name)
    found = client.items([settings.balance_item_id])
    if settings.balance_item_id not in found:
        raise JobError(
            f"{source_name(settings)}: no balance item with id {settings.balance_item_id}"
        )
    return found[settings.balance_item_id]


def job(settings: Settings, now_s: float) -> str:
    """Forecast the balance from Zabbix and store it (see the module docstring)."""
    issue_time = int(now_s)
    with measurements(settings) as client:
        item = balance_item(client, settings)
        ahead_of(item, "balance item", issue_time)  # a clock jump: said, its values not read
        times_s, power_w = history_in(
            client, item, Quantity.POWER_W, issue_time - DAY_S - HOLD_MARGIN_S, issue_time
        )
    first_s, means_w = last_day_means(times_s, power_w, issue_time, STEP_S)
    measured = [
        {
            "step_start": first_s - DAY_S + k * STEP_S,
            "power_w": float(mean),
            "measured_at": issue_time,
        }
        for k, mean in enumerate(means_w)
        if np.isfinite(mean)
    ]
    with database(settings, "store") as store, store.begin() as connection:
        upsert(connection, balance_measurement, measured)
        flexible_w = planned_power_w(
            connection, settings.planning_method, first_s - DAY_S, means_w.size, STEP_S
        )
    try:
        forecast_w = forecast_from_means(means_w + flexible_w)
    except ValueError as error:
        log.warning("[WARN_DATABASE] balance item %d: %s", item.item_id, error)
        raise JobError(f"balance item {item.item_id}: {error}") from None
    rows = [
        {
            "source": SOURCE,
            "issue_time": issue_time,
            "target_time": first_s + k * STEP_S,
            "power_w": float(value),
        }
        for k, value in enumerate(forecast_w)
        if np.isfinite(value)
    ]
    unforecast = forecast_w.size - len(rows)
    if unforecast:
        text = (
            f"{int(long_gaps(means_w, MAX_FILL_STEPS).sum())} of its last {means_w.size} "
            f"steps are in gaps of more than {MAX_FILL_STEPS} steps: "
            f"{unforecast} of {forecast_w.size} steps not forecast"
        )
        note(log, Notice.LONG_GAP, "balance item", item.item_id, text, value=unforecast)
    with database(settings, "store") as store, store.begin() as connection:
        upsert(connection, forecast, rows)
    with database(settings, "store") as store, store.begin() as connection:  # persistence is in
        profile = issue_profile_forecast(connection, settings, issue_time, first_s)
    return (
        f"balance forecast issued at {local_text(issue_time, settings.zone)}: {len(rows)} "
        f"steps from {local_text(first_s, settings.zone)}"
        f"{f' ({unforecast} not forecast: a gap in the history)' if unforecast else ''}, "
        f"from {len(times_s)} samples of item {item.item_id}, with "
        f"{flexible_w.sum() * STEP_S / 3.6e6:.1f} kWh of piloted devices' planned consumption "
        f"added back; {profile}"
    )


def sunshine_shares(connection: Connection, times_s: np.ndarray) -> np.ndarray:
    """The share of sunshine [0-1] of each 15-min step beginning at ``times_s`` (regular,
    ascending), from the latest weather fetch covering it, its shortest period; NaN where no
    fetch gives sunshine."""
    first, end = int(times_s[0]), int(times_s[-1]) + STEP_S
    history = weather_forecast_history.c
    rows = connection.execute(
        select(history.target_time, history.period_s, history.sunshine_h)
        .where(
            history.target_time < end,
            history.target_time + history.period_s > first,
            history.sunshine_h.is_not(None),
            history.period_s > 0,
        )
        .order_by(history.fetched_at, history.period_s.desc())
    ).all()
    shares = np.full(times_s.size, np.nan)
    for row in rows:  # later fetches, then shorter periods, overwrite
        covered = (times_s >= row.target_time) & (times_s < row.target_time + row.period_s)
        shares[covered] = min(1.0, max(0.0, float(row.sunshine_h) * 3600 / row.period_s))
    return shares


def issue_profile_forecast(
    connection: Connection, settings: Settings, issue_time: int, first_s: int
) -> str:
    """Issue the weather-profile forecast of the 48 h from ``first_s`` (the step in progress)
    when its inputs are there (see the module docstring); a summary either way."""
    history_start = first_s - PROFILE_HISTORY_DAYS * DAY_S
    times = np.arange(history_start, first_s + FORECAST_STEPS * STEP_S, STEP_S)
    balance = np.full(times.size, np.nan)
    for step_start, power_w in measured_balance_without_devices(
        connection, settings.planning_method, history_start, first_s
    ):
        balance[(step_start - history_start) // STEP_S] = power_w
    shares = sunshine_shares(connection, times)
    past, future = slice(None, -FORECAST_STEPS), slice(-FORECAST_STEPS, None)
    if np.isnan(shares[future]).any():
        log.info("weather-profile forecast not issued: no sunshine forecast for the 48 h")
        return "weather-profile forecast not issued (no sunshine forecast)"
    yields = sunshine_yield_w_per_kwp(
        times + STEP_S // 2, shares, settings.latitude_deg, settings.longitude_deg
    )
    try:
        model = fit_profile(times[past], balance[past], yields[past], settings.zone)
    except ValueError as error:
        log.info("weather-profile forecast not issued: %s", error)
        return f"weather-profile forecast not issued ({error})"
    latest = times.size - FORECAST_STEPS - 1  # the latest complete step
    error_w = (
        balance[latest]
        - model.balance_w(times[latest : latest + 1], yields[latest : latest + 1])[0]
    )
    forecast_w = profile_forecast(
        model,
        times[future],
        yields[future],
        float(error_w) if np.isfinite(error_w) else 0.0,
        int(times[latest]),
    )
    upsert(
        connection,
        forecast,
        [
            {
                "source": PROFILE_SOURCE,
                "issue_time": issue_time,
                "target_time": int(t),
                "power_w": float(w),
            }
            for t, w in zip(times[future], forecast_w, strict=True)
        ],
    )
    return f"weather-profile forecast issued ({model.kwp:.1f} kWp fitted)"
