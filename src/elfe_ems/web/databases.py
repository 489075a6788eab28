"""Read-only connections to the store and the output databases, for the dashboard.

Reading only is enforced by the databases themselves, not just by the queries: an SQLite file
is opened in read-only mode (a missing file is an error, never a new empty database), and a
PostgreSQL session starts with ``default_transaction_read_only`` on. The whole app reads
through such URLs (:func:`read_only_settings`), the health checks too. Any database error becomes
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


READ_ONLY_OPTION = "-c default_transaction_read_only=on"


def read_only_url(url: str) -> str:
    """``url`` for reading only: an SQLite file as a ``mode=ro`` URI, PostgreSQL with every
    transaction read-only (its other ``options`` kept). Unchanged when it already reads only."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "postgresql":
        options = str(parsed.query.get("options", ""))
        if READ_ONLY_OPTION in options:
            return url
        read_only = parsed.update_query_dict({"options": f"{options} {READ_ONLY_OPTION}".strip()})
        return read_only.render_as_string(hide_password=False)
    in_file = parsed.database not in (None, "", ":memory:") and not parsed.query.get("uri")
    if not in_file:
        return url
    uri = Path(str(parsed.database)).resolve().as_uri() + "?mode=ro"
    return URL.create("sqlite", database=uri, query={"uri": "true"}).render_as_string()


def read_only_settings(settings: Settings) -> Settings:
    """``settings`` with the store's and the output's URLs for reading only."""
    return settings.model_copy(
        update={
            "store_url": read_only_url(settings.store_url),
            "output_url": read_only_url(settings.output_url),
        }
    )


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
                yield connection
        except SQLAlchemyError as error:
            reason = redact(error_reason(error), *self._urls.values())
            log.warning("%s %s database: %s", Tag.DATABASE, name, reason)
            raise DatabaseUnavailable(f"{name} database: {reason}") from None

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in self._engines.values():
            engine.dispose()
