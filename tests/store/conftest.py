"""Fixtures of the store tests: a real PostgreSQL server and SQLite files.

PostgreSQL: one fresh database per test session, named ``ems_test_<random>`` (other sessions
may run at the same time on the same server), dropped at the end; each test gets its own
schema in it, chosen by the URL's search path, so every PostgreSQL test also runs outside
``public``. The server is ``$ELFE_TEST_POSTGRES_URL`` (default: user postgres on
127.0.0.1:5432). When it cannot be reached the PostgreSQL tests fail: they never skip.

Every test runs in its own empty working directory (the embedded default database is
``./ems-data/ems.sqlite``) with no ``EMS_…`` variable set.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, make_url
from typer.testing import CliRunner, Result

from elfe_ems.cli import app
from elfe_ems.store import migrate
from elfe_ems.store.engine import make_engine

ADMIN_URL = os.environ.get(
    "ELFE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def unique_name(prefix: str) -> str:
    """``prefix`` and 12 random hex digits: a name no concurrent test uses."""
    return f"{prefix}_{secrets.token_hex(6)}"


def with_database(database: str, schema: str | None = None) -> str:
    """The admin URL pointed at ``database``, with ``schema`` as its search path."""
    url = make_url(ADMIN_URL).set(database=database)
    if schema is not None:
        url = url.update_query_dict({"options": f"-c search_path={schema}"})
    return url.render_as_string(hide_password=False)


def admin(database: str | None = None) -> psycopg.Connection:
    """An autocommit connection to ``database`` (default: the admin URL's); a server that
    cannot be reached fails the test."""
    url = ADMIN_URL if database is None else with_database(database)
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is required by these tests and cannot be reached: {error}")


def create_database() -> str:
    """Create a uniquely named empty database and give its name."""
    name = unique_name("ems_test")
    with admin() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def drop_database(name: str) -> None:
    """Drop the database ``name``, closing any connection left to it."""
    with admin() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The name of this session's fresh PostgreSQL database."""
    name = create_database()
    yield name
    drop_database(name)


@pytest.fixture
def pg_fresh_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database of its own, without search path (so ``public``)."""
    name = create_database()
    yield with_database(name)
    drop_database(name)


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """URL of a new empty schema of this session's database (search path = that schema)."""
    schema = unique_name("s")
    with admin(pg_database) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return with_database(pg_database, schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new SQLite file."""
    return f"sqlite:///{tmp_path / 'db' / 'ems.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind, in turn."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "pg_url"}[request.param]
    return request.getfixturevalue(fixture)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database of each kind."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    """``engine``, with both databases (store and output) upgraded to the latest revision."""
    for database in migrate.DATABASES:
        migrate.upgrade(engine, database)
    return engine


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Empty working directory, no ``EMS_…`` variable, root logger restored afterwards
    (``ems`` reconfigures it on the CLI runner's stream, closed after the run)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.upper().startswith("EMS_")]:
        monkeypatch.delenv(name)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


EmsCli = Callable[..., Result]
"""``ems_cli(*args, **env)``: run ``ems ARGS`` in-process with extra environment variables."""


@pytest.fixture
def ems_cli() -> EmsCli:
    """Runs the ``ems`` command in-process (see :data:`EmsCli`)."""
    runner = CliRunner()

    def run(*args: str, **env: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return run
