"""The ``cycles`` job: learn each machine's cycle from its power over the last 3 days.

For every machine (washing machine, dishwasher, dryer) with a power item, the cycles of the
last :data:`WINDOW_S` are detected with the machine's own settings
(:func:`elfe_ems.learning.cycles.detect_cycles`; a cycle still running is not learned). The latest
complete cycle becomes the machine's profile, at the planning step whatever the detection
period, when it is newer than the current one; the old profile is kept in the history. Until a
machine has a learned cycle the round uses the default cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from elfe_ems.config import Settings
from elfe_ems.jobs.common import database, measured_items
from elfe_ems.jobs.measurement_access import measurements, source_name
from elfe_ems.jobs.registry import JobError
from elfe_ems.learning.cycles import Cycle, CycleSettings, detect_cycles, to_step_profile
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import note
from elfe_ems.sources.measurements import Item, MeasurementError, MeasurementSource
from elfe_ems.sources.units import Quantity, history_in
from elfe_ems.store.cycles import current_profile, replace_profile, settings_of
from elfe_ems.timegrid import DAY_S, STEP_S

log = logging.getLogger(__name__)

WINDOW_S = 3 * DAY_S


@dataclass(frozen=True)
class Detection:
    """The cycles of one machine's power item over a window, with the settings and the
    samples used."""

    item: Item
    settings: CycleSettings
    cycles: list[Cycle]
    times_s: np.ndarray
    power_w: np.ndarray


def detect(client: MeasurementSource, item: Item, settings: CycleSettings, now_s: int) -> Detection:
    """The cycles of ``item`` over the :data:`WINDOW_S` before ``now_s``."""
    times_s, power_w = history_in(client, item, Quantity.POWER_W, now_s - WINDOW_S, now_s)
    return Detection(item, settings, detect_cycles(times_s, power_w, settings), times_s, power_w)


def _learn(store: Engine, detection: Detection, now_s: int) -> bool:
    """Store the latest cycle of ``detection`` if it is new; whether it was."""
    if not detection.cycles:
        return False
    latest = detection.cycles[-1]
    profile_w = to_step_profile(latest.profile_w, detection.settings.period_s, STEP_S)
    item_id = detection.item.item_id
    with store.begin() as connection:
        current = current_profile(connection, item_id)
        if current is not None and current.cycle_start_s >= latest.start_s:
            return False
        replace_profile(connection, item_id, latest.start_s, profile_w, now_s)
    log.info(
        "machine item %d: cycle of %s learned (%d steps, %.0f Wh)",
        item_id,
        latest.start_s,
        len(profile_w),
        sum(profile_w) * STEP_S / 3600,
    )
    return True


def job(settings: Settings, now_s: float) -> str:
    """Learn every machine's latest cycle (see the module docstring)."""
    now = int(now_s)
    item_ids = measured_items(settings).machine_power
    learned = failed = 0
    with database(settings, "store") as store, measurements(settings) as client:
        items = client.items(item_ids)
        for item_id in item_ids:
            if item_id not in items:
                note(log, Notice.ITEM_NOT_IN_ZABBIX, "machine power item", item_id, "not in Zabbix")
                continue
            with store.begin() as connection:
                machine_settings = settings_of(connection, item_id)
            try:
                detection = detect(client, items[item_id], machine_settings, now)
            except MeasurementError:  # logged by the client or the unit check; the others go on
                failed += 1
                continue
            learned += _learn(store, detection, now)
    if failed and failed == len(item_ids):
        raise JobError(
            f"{source_name(settings)}: no machine's history could be read ({failed} failed)"
        )
    return f"{learned} new cycles learned for {len(item_ids)} machines ({failed} failed)"
