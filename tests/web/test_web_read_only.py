"""The dashboard changes nothing: every route answers GET (and HEAD) only, any other method
405, and the databases it reads, through its own URLs (:func:`read_only_settings`, the health
checks' too), refuse writes: SQLite opened read-only, PostgreSQL sessions whose transactions
are read-only. A database file that is missing is never created.

The schemathesis run (``test_web_schema.py``) checks that the store's and the output's files
are byte-identical after every operation was tried.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.exc import DBAPIError
from starlette.routing import BaseRoute, Mount, Route
from web_dataset import Dashboard

from elfe_ems.db.engine import engine_for
from elfe_ems.store import migrate
from elfe_ems.store.tables import run_log
from elfe_ems.web.app import create_app
from elfe_ems.web.databases import read_only_settings, read_only_url
from postgres import create_database, drop_database, url_of

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def leaf_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """``routes`` and, in place of each included router (FastAPI's ``original_router``), its
    own."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from leaf_routes(included.routes) if included is not None else [route]


def test_every_route_reads_only(dashboard: Dashboard) -> None:
    app = create_app(dashboard.settings)
    paths = []
    for route in leaf_routes(app.routes):
        if isinstance(route, Mount):
            assert isinstance(route.app, StaticFiles)  # which serves GET and HEAD only
            paths.append(f"{route.path}/common.js")
        else:
            assert isinstance(route, APIRoute | Route)
            assert route.methods is not None
            assert route.methods <= {"GET", "HEAD"}, route.path
            paths.append(re.sub(r"\{run_id(:int)?\}", str(dashboard.current_round), route.path))
    assert len(paths) == 15  # the OpenAPI description, 8 API routes, 5 pages, static files
    client = TestClient(app)
    assert {p: client.get(p).status_code for p in paths} == dict.fromkeys(paths, 200)
    answers = {(m, p): client.request(m, p).status_code for p in paths for m in WRITES}
    assert answers == dict.fromkeys(answers, 405)
    assert len(dashboard.env.rows(run_log)) == 3


def test_the_web_urls_refuse_writes_on_sqlite(dashboard: Dashboard) -> None:
    settings = read_only_settings(dashboard.settings)
    for url in (settings.store_url, settings.output_url):
        with (
            engine_for(url) as engine,
            pytest.raises(DBAPIError, match="readonly database"),
            engine.begin() as connection,
        ):
            connection.execute(delete(run_log))
    assert len(dashboard.env.rows(run_log)) == 3


def test_the_web_urls_refuse_writes_on_postgresql() -> None:
    name = create_database("ems_web_ro")
    try:
        # a search path of the operator's must stay beside the read-only option
        url = f"{url_of(name)}?options=-c%20search_path%3Dpublic"
        with engine_for(url) as engine:
            migrate.upgrade(engine, "store")
        read_only = read_only_url(url)
        assert read_only_url(read_only) == read_only
        with engine_for(read_only) as engine:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SHOW search_path").scalar() == "public"
                assert connection.execute(run_log.select()).all() == []
            with (
                pytest.raises(DBAPIError, match="read-only transaction"),
                engine.begin() as connection,
            ):
                connection.execute(delete(run_log))
    finally:
        drop_database(name)


def test_the_health_checks_create_no_database(dashboard: Dashboard, tmp_path: Path) -> None:
    """The checks of /api/health and /api/monitoring used to open read-write engines: a
    missing SQLite file was created (empty), and its folder."""
    store, output = tmp_path / "absent" / "store.sqlite", tmp_path / "output.sqlite"
    settings = dashboard.settings.model_copy(
        update={"store_url": f"sqlite:///{store}", "output_url": f"sqlite:///{output}"}
    )
    client = TestClient(create_app(settings))
    health = client.get("/api/health").json()
    assert health["verdict"] == "failed"
    assert client.get("/api/monitoring").json()["healthy"] == 0
    assert list(tmp_path.iterdir()) == []
