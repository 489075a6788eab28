"""The ``power-prediction`` job: the territory balance forecast, every quarter hour.

It reads the balance item (production - consumption [W], an aggregate Zabbix computes) over
the last 24 h, turns it into 15-min means (stored in ``balance_measurement``, what forecasts
are scored against) and forecasts the next 48 h by persistence
(:mod:`elfe_ems.persistence`). Every forecast is stored with its issue time
under the source ``persistence``, so a forecast is never overwritten by a later one: the round
reads the latest issue of each step, and forecasts can be scored against what was measured.
"""

from __future__ import annotations

import logging

import numpy as np

from elfe_ems.config import Settings
from elfe_ems.jobs.common import DAY_S, database
from elfe_ems.jobs.measurement_access import measurements, source_name
from elfe_ems.jobs.registry import JobError
from elfe_ems.persistence import forecast_from_means, last_day_means
from elfe_ems.sources.measurements import Item, MeasurementSource
from elfe_ems.store.tables import balance_measurement, forecast
from elfe_ems.store.upsert import upsert

log = logging.getLogger(__name__)

SOURCE = "persistence"
"""``forecast.source`` of this job's forecasts."""

STEP_S = 900
HOLD_MARGIN_S = 3_600  # samples before the 24 h window hold into its first step


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
        times_s, power_w = client.history(item, issue_time - DAY_S - HOLD_MARGIN_S, issue_time)
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
    try:
        forecast_w = forecast_from_means(means_w)
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
    ]
    with database(settings, "store") as store, store.begin() as connection:
        upsert(connection, forecast, rows)
    return (
        f"balance forecast issued at {issue_time}: {len(rows)} steps from {first_s}, "
        f"from {len(times_s)} samples of item {item.item_id}"
    )
