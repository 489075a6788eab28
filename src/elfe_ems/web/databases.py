"""Read-only connections to the store and the output databases, for the dashboard.

Reading only is enforced by the databases themselves, not just by the queries: an SQLite file
is opened in read-only mode (a missing file is an error, never a new empty database), and a
PostgreSQL transaction is declared ``READ ONLY``. Any database error becomes
:class:`DatabaseUnavailable`, which names the database and never shows a password; the API
answers it with a 503.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy import URL, Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import Settings, redact
from elfe_ems.db.engine import error_reason, make_engine, parse_url
from elfe_ems.logtags import Tag

log = logging.getLogger(__name__)

DatabaseName = Literal["store", "output"]


class DatabaseUnavailable(RuntimeError):  # noqa: N818 - a state, reported as HTTP 503
    """A database that cannot be read now; the message names it and says why."""


def read_only_url(url: str) -> str:
    """``url`` for reading only: an SQLite file as a ``mode=ro`` URI, PostgreSQL unchanged
    (its transactions are made read-only by :meth:`ReadOnlyDatabases.reading`)."""
    parsed = parse_url(url)
    in_file = parsed.database not in (None, "", ":memory:") and not parsed.query.get("uri")
    if parsed.get_backend_name() != "sqlite" or not in_file:
        return url
    uri = Path(str(parsed.database)).resolve().as_uri() + "?mode=ro"
    return URL.create("sqlite", database=uri, query={"uri": "true"}).render_as_string()


class ReadOnlyDatabases:
    """The store's and the output's engines, opened for reading (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self._urls: dict[DatabaseName, str] = {
            "store": settings.store_url,
            "output": settings.output_url,
        }
        self._engines: dict[DatabaseName, Engine] = {
            name: make_engine(read_only_url(url)) for name, url in self._urls.items()
        }

    @contextmanager
    def reading(self, name: DatabaseName) -> Iterator[Connection]:
        """A read-only connection to the ``name`` database; its errors raise
        :class:`DatabaseUnavailable`."""
        try:
            with self._engines[name].connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield connection
        except SQLAlchemyError as error:
            reason = redact(error_reason(error), *self._urls.values())
            log.warning("%s %s database: %s", Tag.DATABASE, name, reason)
            raise DatabaseUnavailable(f"{name} database: {reason}") from None

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in self._engines.values():
            engine.dispose()
