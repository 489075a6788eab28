"""The ``room-temperature`` job: the last value of every thermostatic heater's room
temperature item [°C], every minute.

Each value is stored with the time Zabbix received it, so a value seen again is stored once
and the round knows how old the room temperature it uses is. A value outside
:data:`PLAUSIBLE_C` (a sensor fault, a unit mix-up), or timestamped more than
:data:`~elfe_ems.jobs.measurement_access.MAX_AHEAD_S` after the job's time (a clock that
jumped ahead: stored, it would hide the real values until then), is left out with
``[WARN_IGNORED]``.
"""

from __future__ import annotations

import logging
import math

from elfe_ems.config import Settings
from elfe_ems.jobs.common import database, measured_items
from elfe_ems.jobs.measurement_access import ahead_of, measurements
from elfe_ems.logtags import Tag
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import note
from elfe_ems.sources.units import Quantity, UnitError, conversion
from elfe_ems.store.tables import room_temperature
from elfe_ems.store.upsert import upsert

log = logging.getLogger(__name__)

PLAUSIBLE_C = (-30.0, 60.0)
"""Room temperatures outside this range [°C] are not measurements."""
ITEM = "room temperature item"


def job(settings: Settings, now_s: float) -> str:
    """Store the last room temperature of every heater (see the module docstring)."""
    item_ids = measured_items(settings).room_temperature
    with measurements(settings) as client:
        items = client.items(item_ids)
    rows: list[dict[str, float | int]] = []
    for item_id in item_ids:
        item = items.get(item_id)
        if item is None or item.last_clock is None or item.last_value is None:
            note(log, Notice.NO_VALUE_IN_ZABBIX, ITEM, item_id, "no value in Zabbix")
            continue
        if ahead_of(item, ITEM, now_s):
            continue
        try:
            temp_c = conversion(item, Quantity.TEMPERATURE_C).one(item.last_value)
        except UnitError as error:
            log.warning("%s %s: not read", Tag.DATABASE, error)
            continue
        low, high = PLAUSIBLE_C
        if not (math.isfinite(temp_c) and low <= temp_c <= high):
            text = f"{temp_c!r} °C is not plausible"
            note(log, Notice.IMPLAUSIBLE_VALUE, ITEM, item_id, text, value=temp_c)
            continue
        rows.append(
            {
                "temperature_item_id": item_id,
                "measured_at": item.last_clock,
                "temp_c": temp_c,
            }
        )
    with database(settings, "store") as store, store.begin() as connection:
        upsert(connection, room_temperature, rows)
    return f"{len(rows)} of {len(item_ids)} room temperatures stored"
