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

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from elfe_ems.cli import app
from elfe_ems.db.engine import make_engine
from elfe_ems.store import migrate
from postgres import create_database, create_schema, drop_database, unique_name, url_of


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The name of this session's fresh PostgreSQL database."""
    name = create_database("ems_test")
    yield name
    drop_database(name)


@pytest.fixture
def pg_fresh_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database of its own, without search path (so ``public``)."""
    name = create_database("ems_test")
    yield url_of(name)
    drop_database(name)


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """URL of a new empty schema of this session's database (search path = that schema)."""
    schema = unique_name("s")
    create_schema(pg_database, schema)
    return url_of(pg_database, schema)


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
def _isolated(isolated: None) -> None:
    """Every test here runs isolated (``isolated`` of the root conftest)."""


EmsCli = Callable[..., Result]
"""``ems_cli(*args, **env)``: run ``ems ARGS`` in-process with extra environment variables."""


@pytest.fixture
def ems_cli() -> EmsCli:
    """Runs the ``ems`` command in-process (see :data:`EmsCli`)."""
    runner = CliRunner()

    def run(*args: str, **env: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return run
