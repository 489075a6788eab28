"""The real PostgreSQL server the tests use, shared by every test folder's fixtures.

The server is ``$ELFE_TEST_POSTGRES_URL`` (default: user postgres on 127.0.0.1:5432, as CI
starts it). Databases are created with unique names (other sessions may use the same server
at the same time) and dropped by the fixtures that create them. When the server cannot be
reached the tests fail: they never skip.
"""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import make_url

ADMIN_URL = os.environ.get(
    "ELFE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def unique_name(prefix: str) -> str:
    """``prefix`` and 12 random hex digits: a name no concurrent test uses."""
    return f"{prefix}_{secrets.token_hex(6)}"


def url_of(database: str, schema: str | None = None, password: str | None = None) -> str:
    """The admin URL pointed at ``database``, with ``schema`` as its search path."""
    url = make_url(ADMIN_URL).set(database=database)
    if password is not None:
        url = url.set(password=password)
    if schema is not None:
        url = url.update_query_dict({"options": f"-c search_path={schema}"})
    return url.render_as_string(hide_password=False)


def admin(database: str | None = None) -> psycopg.Connection:
    """An autocommit connection to ``database`` (default: the admin URL's); a server that
    cannot be reached fails the test."""
    url = ADMIN_URL if database is None else url_of(database)
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is required by these tests and cannot be reached: {error}")


def create_database(prefix: str) -> str:
    """Create a uniquely named empty database and give its name."""
    name = unique_name(prefix)
    with admin() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    """Drop the database ``name``, closing any connection left to it."""
    with admin() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_schema(database: str, schema: str) -> None:
    """Create ``schema`` in ``database``."""
    with admin(database) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
