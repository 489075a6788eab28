"""Zabbix for the jobs: a client whose failures are :class:`~elfe_ems.jobs.registry.JobError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JobError
from elfe_ems.sources.zabbix import ZabbixClient, ZabbixError


@contextmanager
def zabbix(settings: Settings) -> Iterator[ZabbixClient]:
    """A Zabbix client, closed after the block; a Zabbix failure becomes a :class:`JobError`
    (the client has logged it with ``[WARN_DATABASE]``)."""
    try:
        with ZabbixClient.connect(settings) as client:
            yield client
    except ZabbixError as error:
        raise JobError(f"zabbix: {error}") from None
