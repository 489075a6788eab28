"""The measurement source of the jobs: Zabbix, or the recorded measurements of
``measurements_url``; a failure of either is a :class:`~elfe_ems.jobs.registry.JobError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JobError
from elfe_ems.sources.measurements import MeasurementError, MeasurementSource
from elfe_ems.sources.recorded import RecordedMeasurements
from elfe_ems.sources.zabbix import ZabbixClient


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
