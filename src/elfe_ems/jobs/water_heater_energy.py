"""The ``water-heater-energy`` job: what each hot-water tank used over the last 24 h.

Run daily at 16:00 local, before the evening's off-peak windows: the round sizes each tank's
heating from this energy. A tank is known by its power item (``mesures_puissance_elec_id``); its
energy meter, when it has one, is the item of the same Zabbix host whose unit is an energy (Wh,
kWh, MWh: :mod:`elfe_ems.sources.units`). With a meter, the energy is the meter's increase over
the window (a reset counted from zero, a fall or a jump no tank could count counted as 0:
:func:`elfe_ems.learning.meter.energy_from_meter_wh`) from the last reading at or before the
window's start; without one, the power is integrated
(:func:`elfe_ems.learning.meter.energy_from_power_wh`). Either way the share of the window the
readings cover is checked: at least 99 % is the energy; at least half is scaled to 24 h (logged,
``[WARN_DATABASE]``); less is not an energy: a meter falls back to the power, and a power that
covers less than half leaves the tank's energy unknown, not stored (never 0 Wh): an older
energy the round knows is older beats a wrong one. Powers and energies are converted from the
items' units (a power in kW is not read as W); an item in another unit is refused.
"""

from __future__ import annotations

import logging

import numpy as np

from elfe_ems.config import Settings
from elfe_ems.jobs.common import database, measured_items
from elfe_ems.jobs.measurement_access import measurements, source_name
from elfe_ems.jobs.registry import JobError
from elfe_ems.learning.meter import energy_from_meter_wh, energy_from_power_wh
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import note
from elfe_ems.sources.measurements import Item, MeasurementError, MeasurementSource
from elfe_ems.sources.units import Quantity, history_in, is_unit_of
from elfe_ems.store.tables import water_heater_energy
from elfe_ems.store.upsert import upsert
from elfe_ems.timegrid import DAY_S

log = logging.getLogger(__name__)

LOOKBACK_S = 6 * 3600  # the last meter reading before the window is searched this far back
MIN_COVERAGE = 0.5  # share of the window the power must cover
FULL_COVERAGE = 0.99
POWER_ITEM = "water heater power item"  # the items' nouns in the log
ENERGY_ITEM = "water heater energy item"


def energy_meter(client: MeasurementSource, power: Item) -> Item | None:
    """The energy meter beside ``power`` on its host, or None."""
    meters = sorted(
        (i for i in client.host_items(power.host_id) if is_unit_of(i, Quantity.ENERGY_WH)),
        key=lambda i: i.item_id,
    )
    if len(meters) > 1:
        text = f"its host has {len(meters)} energy items: item {meters[0].item_id} used"
        note(log, Notice.SEVERAL_ENERGY_ITEMS, POWER_ITEM, power.item_id, text)
    return meters[0] if meters else None


def tank_energy_wh(client: MeasurementSource, power: Item, now_s: int) -> float | None:
    """Energy [Wh] of one tank over the 24 h before ``now_s``, or None when unknown."""
    start_s = now_s - DAY_S
    meter = energy_meter(client, power)
    if meter is not None:
        times_s, readings = history_in(
            client, meter, Quantity.ENERGY_WH, start_s - LOOKBACK_S, now_s
        )
        before = np.flatnonzero(times_s <= start_s)
        first = int(before[-1]) if before.size else 0
        if times_s.size - first >= 2:
            # the meter counts everything between its readings: its coverage of the window is
            # the span of the readings inside it
            coverage = float(min(times_s[-1], now_s) - max(times_s[first], start_s)) / DAY_S
            energy_wh = energy_from_meter_wh(times_s[first:], readings[first:])
            if coverage >= FULL_COVERAGE:
                return energy_wh
            if coverage >= MIN_COVERAGE:
                _short(ENERGY_ITEM, meter.item_id, coverage, "energy scaled to 24 h")
                return energy_wh / coverage
            _short(ENERGY_ITEM, meter.item_id, coverage, "power integrated")
        else:
            text = "fewer than 2 readings in 24 h: power integrated"
            note(log, Notice.TOO_FEW_READINGS, ENERGY_ITEM, meter.item_id, text)
    times_s, power_w = history_in(client, power, Quantity.POWER_W, start_s - LOOKBACK_S, now_s)
    energy_wh, coverage = energy_from_power_wh(times_s, power_w, start_s, now_s)
    if coverage < MIN_COVERAGE:
        done = "energy unknown, not stored (the round uses an older energy or the tank's volume)"
        _short(POWER_ITEM, power.item_id, coverage, done)
        return None
    if coverage < FULL_COVERAGE:
        _short(POWER_ITEM, power.item_id, coverage, "energy scaled to 24 h")
    return energy_wh / coverage


def _short(kind: str, item_id: int, coverage: float, done: str) -> None:
    """Note an item whose history covers only ``coverage`` of the day, and what was done."""
    text = f"covers {100 * coverage:.0f} % of the last 24 h: {done}"
    note(log, Notice.SHORT_HISTORY, kind, item_id, text, value=100 * coverage, what=done)


def job(settings: Settings, now_s: float) -> str:
    """Measure every tank's energy and store it (see the module docstring)."""
    measured_at = int(now_s)
    item_ids = measured_items(settings).water_heater_power
    rows: list[dict[str, float | int]] = []
    failed = 0
    with measurements(settings) as client:
        items = client.items(item_ids)
        for item_id in item_ids:
            if item_id not in items:
                note(log, Notice.ITEM_NOT_IN_ZABBIX, POWER_ITEM, item_id, "not in Zabbix")
                continue
            try:
                energy_wh = tank_energy_wh(client, items[item_id], measured_at)
            except MeasurementError:  # logged by the client or the unit check; the others go on
                failed += 1
                continue
            if energy_wh is not None:
                rows.append(
                    {"power_item_id": item_id, "measured_at": measured_at, "energy_wh": energy_wh}
                )
    if failed and not rows:
        raise JobError(
            f"{source_name(settings)}: no tank's history could be read ({failed} failed)"
        )
    with database(settings, "store") as store, store.begin() as connection:
        upsert(connection, water_heater_energy, rows)
    return f"{len(rows)} of {len(item_ids)} water heaters measured ({failed} failed)"
