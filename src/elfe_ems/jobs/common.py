"""What the jobs share: their databases, with failures as
:class:`~elfe_ems.jobs.registry.JobError` that name the database and never show a password."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import Settings
from elfe_ems.db.engine import DatabaseUrlError, database_problem, engine_for
from elfe_ems.jobs.registry import JobError
from elfe_ems.sources.coordination import MeasuredItems, read_measured_items

log = logging.getLogger(__name__)


@contextmanager
def database(settings: Settings, name: str) -> Iterator[Engine]:
    """The engine of the ``name`` database (``store``, ``coordination`` or ``output``); a
    database error inside the block becomes a :class:`JobError` naming it."""
    url = str(getattr(settings, f"{name}_url"))
    try:
        with engine_for(url) as engine:
            yield engine
    except (SQLAlchemyError, DatabaseUrlError) as error:
        message = database_problem(name, error, url)
        log.warning("[WARN_DATABASE] %s", message)
        raise JobError(message) from None


def measured_items(settings: Settings) -> MeasuredItems:
    """The Zabbix items of the coordination database's devices."""
    with database(settings, "coordination") as coordination:
        return read_measured_items(coordination)
