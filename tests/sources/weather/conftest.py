"""Fixtures of the weather tests: the providers' web APIs (respx) serving the recorded
answers, and migrated stores (an SQLite file, or a fresh PostgreSQL database).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from sqlalchemy import Engine
from weather_env import MC_NEXT_HOURS, MC_PERIODS, OPEN_METEO, Serve, recorded

from elfe_ems.db.engine import make_engine
from elfe_ems.store import migrate
from postgres import create_database, drop_database, url_of


@pytest.fixture(autouse=True)
def _no_ems_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``EMS_…`` variable changes the settings of the tests."""
    for name in [n for n in os.environ if n.upper().startswith("EMS_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def web() -> Iterator[respx.MockRouter]:
    """The providers' web APIs; nothing else is reachable. Routes are added by the tests."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture
def serve(web: respx.MockRouter) -> Serve:
    """``serve(meteo_concept=True, open_meteo=True)``: answer with the recorded answers."""

    def add(meteo_concept: bool = True, open_meteo: bool = True) -> None:
        if meteo_concept:
            web.get(MC_NEXT_HOURS).respond(json=recorded("meteo_concept_next_hours.json"))
            web.get(MC_PERIODS).respond(json=recorded("meteo_concept_periods.json"))
        if open_meteo:
            web.get(OPEN_METEO).respond(json=recorded("open_meteo_forecast.json"))

    return add


def _migrated(url: str) -> Engine:
    engine = make_engine(url)
    migrate.upgrade(engine, "store")
    return engine


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(URL, engine) of a migrated SQLite store."""
    url = f"sqlite:///{tmp_path / 'ems.sqlite'}"
    engine = _migrated(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def pg_store() -> Iterator[tuple[str, Engine]]:
    """(URL, engine) of a migrated store in a fresh PostgreSQL database."""
    name = create_database("ems_weather")
    url = url_of(name)
    engine = _migrated(url)
    yield url, engine
    engine.dispose()
    drop_database(name)


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """``caplog`` recording every level of every logger (httpx's request lines too)."""
    caplog.set_level(logging.DEBUG)
    return caplog
