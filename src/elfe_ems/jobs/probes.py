"""The live probes of ``ems doctor --live``: the coordination database, the measurement source
and the weather providers, contacted now. Only ``ems doctor --live`` runs them (``ems doctor``
and the dashboard read the stored facts of :mod:`elfe_ems.store.health`: they never reach a
source, nor spend the weather providers' quota)."""

from __future__ import annotations

import time
from dataclasses import replace

from sqlalchemy import Connection, func, select

from elfe_ems.config import Settings, without_secrets
from elfe_ems.jobs.common import measured_items
from elfe_ems.jobs.measurement_access import open_source, source_name
from elfe_ems.jobs.power_prediction import balance_item
from elfe_ems.jobs.registry import JobError
from elfe_ems.jobs.weather import first_forecast
from elfe_ems.sources.coordination import equipement
from elfe_ems.sources.measurements import MeasurementError
from elfe_ems.sources.units import Quantity, UnitError, conversion
from elfe_ems.store.health import Check, database_check, stored_checks


def _coordination_probe(connection: Connection) -> Check:
    devices = connection.execute(select(func.count()).select_from(equipement)).scalar_one()
    return Check("coordination database", "ok", f"reachable, {devices} devices")


def _measurements_check(settings: Settings) -> Check:
    name = f"measurements ({source_name(settings)})"
    if not settings.measurements_url and not settings.zabbix_url:
        return Check(name, "failed", "zabbix_url is not set (nor measurements_url)")
    try:
        with open_source(settings) as source:
            item = balance_item(source, settings)
            conversion(item, Quantity.POWER_W)
    except (MeasurementError, JobError) as error:
        return Check(name, "failed", str(error))
    if item.last_clock is None:
        return Check(name, "warning", f"balance item {item.item_id} has no value yet")
    return Check(name, "ok", f"reachable, balance item {item.item_id} ({item.name})")


def _listed(texts: list[str], limit: int = 5) -> str:
    return "; ".join(texts[:limit]) + (
        f"; … ({len(texts) - limit} more)" if len(texts) > limit else ""
    )


def _items_check(settings: Settings) -> Check:
    """Every item the jobs read: set on its device, in the source, in a unit of its quantity."""
    name = "measured items"
    try:
        wanted = measured_items(settings)
    except JobError as error:
        return Check(name, "failed", str(error))
    quantities = {
        **dict.fromkeys(wanted.machine_power, Quantity.POWER_W),
        **dict.fromkeys(wanted.water_heater_power, Quantity.POWER_W),
        **dict.fromkeys(wanted.room_temperature, Quantity.TEMPERATURE_C),
    }
    problems = [f"device {d}: {column} is NULL" for d, column in wanted.without_item]
    try:
        with open_source(settings) as source:
            found = source.items(sorted(quantities))
    except MeasurementError as error:
        return Check(name, "failed", str(error))
    problems += [
        f"item {i} not in {source_name(settings)}" for i in sorted(quantities) if i not in found
    ]
    for item_id, item in sorted(found.items()):
        try:
            conversion(item, quantities[item_id])
        except UnitError as error:
            problems.append(str(error))
    if problems:
        return Check(name, "failed", f"{len(problems)} configuration errors: {_listed(problems)}")
    return Check(name, "ok", f"{len(quantities)} items, each in the source in a unit of its own")


def _weather_check(settings: Settings) -> Check:
    try:
        provider, points = first_forecast(settings)
    except JobError as error:  # every provider failed
        return Check("weather provider", "failed", str(error))
    return Check("weather provider", "ok", f"{provider} answers ({len(points)} points)")


def live_checks(settings: Settings) -> list[Check]:
    """The sources, contacted now: the coordination database, the measurement source and its
    items, the weather providers (one forecast: it spends a request of their quota)."""
    return [
        database_check(settings, "coordination", _coordination_probe),
        _measurements_check(settings),
        _items_check(settings),
        _weather_check(settings),
    ]


def doctor_checks(
    settings: Settings, now_s: float | None = None, *, live: bool = False
) -> list[Check]:
    """Every check of ``ems doctor``, in the order of its report: with ``live``, the sources
    contacted now (:func:`live_checks`); then the stored facts
    (:func:`~elfe_ems.store.health.stored_checks`). No detail shows a secret of the settings,
    not even one that a source's answer quoted."""
    now = time.time() if now_s is None else now_s
    checks = [*(live_checks(settings) if live else []), *stored_checks(settings, now)]
    return [replace(c, detail=without_secrets(c.detail, settings)) for c in checks]
