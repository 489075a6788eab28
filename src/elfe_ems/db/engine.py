"""Engines from connection URLs: PostgreSQL through psycopg 3, or an SQLite file.

``postgresql://`` and ``postgres://`` URLs use psycopg 3 (``postgresql+psycopg://``). The
PostgreSQL schema is chosen by the connection's search path, given in the URL as libpq
options, e.g. ``postgresql://ems@db/elfe?options=-c%20search_path%3Dems,public``: unqualified
tables are created in, and read from, its first existing schema. SQLite files get foreign keys
and write-ahead logging (readers do not block the writer), and their folder is created.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from sqlite3 import Connection as SQLiteConnection
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError

from elfe_ems.config import mask_url, redact
from elfe_ems.notices.hints import ems_command

MISSING_TABLE = re.compile(r"no such table|relation .* does not exist")


def missing_table_hint() -> str:
    """What to do about a missing table, naming the command as the user runs it."""
    return (
        f"run `{ems_command('db upgrade')}` for the store and output tables; the coordination "
        "tables belong to the ELFE installation"
    )


CONNECT_TIMEOUT_S = 10
"""How long to wait for a PostgreSQL server [s], unless the URL sets ``connect_timeout``."""


class DatabaseUrlError(ValueError):
    """A database URL that cannot be used as it is; the message says why (password masked)."""


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL for ``url``, with the psycopg 3 driver for PostgreSQL.

    Raises :class:`DatabaseUrlError` for an unparseable URL or a database other than PostgreSQL
    and SQLite.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(f"{mask_url(url)}: not a database URL") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise DatabaseUrlError(
            f"{mask_url(url)}: only PostgreSQL and SQLite databases are supported"
        )
    return parsed


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see the module docstring); it connects lazily."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    connect_args = (
        {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    )
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
    except ArgumentError as error:  # e.g. a driver that is not installed
        raise DatabaseUrlError(f"{mask_url(url)}: {error}") from None


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    """:func:`make_engine`, disposed of (its connections closed) on leaving the block."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def schema_of(connection: Connection) -> str | None:
    """The schema unqualified names resolve to (PostgreSQL ``current_schema()``), or None for
    SQLite and for a search path that names no existing schema."""
    if connection.dialect.name != "postgresql":
        return None
    return connection.exec_driver_sql("SELECT current_schema()").scalar()


def _sqlite_engine(url: URL) -> Engine:
    in_file = url.database not in (None, "", ":memory:") and not url.query.get("uri")
    if in_file:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: SQLiteConnection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if in_file:
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    return engine


def error_reason(error: Exception) -> str:
    """A database error's own message, on one line (without SQLAlchemy's SQL echo)."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig else error
    return " ".join(line.strip() for line in str(cause).splitlines() if line.strip())


def database_location(url: str) -> str:
    """Where ``url``'s database is, without user or password: ``host:port/name`` for
    PostgreSQL (libpq's defaults for what the URL leaves out), the file for SQLite."""
    try:
        parsed = parse_url(url)
    except DatabaseUrlError:
        return mask_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    host = parsed.host or parsed.query.get("host") or "localhost"
    port = parsed.port or parsed.query.get("port") or 5432
    return f"{host}:{port}/{parsed.database or ''}"


def database_problem(database: str, error: Exception, url: str, *other_urls: str) -> str:
    """``"<database> database: <reason> (at <location>)"`` for an error met on one of the
    EMS's databases, the one of ``url``; without the passwords of ``url`` and
    ``other_urls``, with how to create the tables when one is missing."""
    reason = redact(error_reason(error), url, *other_urls)
    missing = isinstance(error, (OperationalError, ProgrammingError)) and MISSING_TABLE.search(
        reason
    )
    where = f"at {database_location(url)}" + (f"; {missing_table_hint()}" if missing else "")
    return f"{database} database: {reason} ({where})"
