"""The measurement source of the jobs: Zabbix, or the recorded measurements of
``measurements_url``; a failure of either is a :class:`~elfe_ems.jobs.registry.JobError`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JobError
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import note
from elfe_ems.sources.measurements import Item, MeasurementError, MeasurementSource
from elfe_ems.sources.recorded import RecordedMeasurements
from elfe_ems.sources.zabbix import ZabbixClient

log = logging.getLogger(__name__)

MAX_AHEAD_S = 300
"""A value timestamped further than this after the job's time [s] is not a measurement yet:
a clock (of the Zabbix server, proxy or agent) that jumped ahead."""


def source_name(settings: Settings) -> str:
    """What the jobs read measurements from, for messages."""
    return "recorded measurements" if settings.measurements_url else "zabbix"


def open_source(settings: Settings) -> MeasurementSource:
    """The configured source, opened; :class:`MeasurementError` when it cannot be used."""
    if settings.measurements_url:
        return RecordedMeasurements.open(settings.measurements_url)
    return ZabbixClient.connect(settings)


@contextmanager
def measurements(settings: Settings) -> Iterator[MeasurementSource]:
    """The configured source, closed after the block; its failures become a :class:`JobError`
    (Zabbix has logged them with ``[WARN_DATABASE]``)."""
    try:
        with open_source(settings) as source:
            yield source
    except MeasurementError as error:
        raise JobError(f"{source_name(settings)}: {error}") from None


def ahead_of(item: Item, kind: str, now_s: float) -> bool:
    """Whether ``item``'s last value is timestamped more than :data:`MAX_AHEAD_S` after
    ``now_s``; noted (``[WARN_IGNORED]``) when it is. Histories are read up to the job's time,
    so such values are not read until their time comes."""
    ahead_s = (item.last_clock or 0) - now_s
    if ahead_s <= MAX_AHEAD_S:
        return False
    text = f"last value timestamped {ahead_s:.0f} s after the job's time: not read"
    note(log, Notice.VALUE_IN_THE_FUTURE, kind, item.item_id, text, value=ahead_s)
    return True
