"""Every operation of the API's OpenAPI description, tried by schemathesis (property-based):
no server error, and every answer's status code, content type and body as the description
says, on the store of real rounds (``web_dataset``) and on an empty one (migrated, no row).

Each operation gets schemathesis's coverage cases (boundaries, invalid types and values) and
``MAX_EXAMPLES`` generated ones, valid and invalid, from the fixed ``SEED``. The run must
leave every file of the databases' folder (store, output, run files) byte-identical: the
fixture compares them after the run (:func:`folder_bytes`). ``-s`` prints the answers' status
codes per operation.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web_dataset import Dashboard, web_settings

from acquisition_env import new_env
from elfe_ems.config import Settings
from elfe_ems.web.app import create_app

SEED = 1717
MAX_EXAMPLES = 40
"""Generated cases per operation and generation mode (the coverage cases come on top)."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = {
    "seed": SEED,
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
    },
}

STATUSES: Counter[tuple[str, str, int]] = Counter()
"""(store, operation, status code) → answers."""

# the description depends on the code only: it is read from an app on no database
schema = schemathesis.openapi.from_asgi(
    "/api/openapi.json",
    create_app(Settings(store_url="sqlite://", output_url="sqlite://")),
    config=schemathesis.Config.from_dict(CONFIG),
)


def folder_bytes(folder: Path) -> dict[str, str]:
    """The SHA-256 of every file under ``folder``, by relative path, but SQLite's side files
    that hold no data: the shared-memory index (``-shm``) and an empty write-ahead log
    (``-wal``), which a reader of a WAL database creates when they are missing."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not path.name.endswith("-shm")
        and not (path.name.endswith("-wal") and path.stat().st_size == 0)
    }


@pytest.fixture(scope="module", params=["rounds", "empty"])
def web_app(
    request: pytest.FixtureRequest,
    dashboard: Dashboard,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, FastAPI]]:
    """The store's name and the app on it: the store of real rounds, or an empty one. After
    every operation was tried on it, every file of its folder must be as before."""
    env = dashboard.env if request.param == "rounds" else new_env(tmp_path_factory.mktemp("empty"))
    before = folder_bytes(env.folder)
    yield request.param, create_app(web_settings(env))
    report = {k[1:]: n for k, n in sorted(STATUSES.items()) if k[0] == request.param}
    print(f"\n{request.param}: {sum(report.values())} answers (operation, status): {report}")
    assert folder_bytes(env.folder) == before


@schema.parametrize()
def test_every_operation_answers_as_described(
    case: schemathesis.Case, web_app: tuple[str, FastAPI]
) -> None:
    store, app = web_app
    response = case.call(app=app)
    STATUSES[store, case.operation.label, response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


def test_integers_past_the_databases_are_422(dashboard: Dashboard) -> None:
    """Found by hand while making the run above: an id or a time larger than SQLite's
    INTEGER reached the database, whose driver raised (500)."""
    client = TestClient(create_app(web_settings(dashboard.env)), raise_server_exceptions=False)
    too_large = 2**63
    for path in (f"/api/rounds/{too_large}", f"/api/rounds/{too_large}/plan"):
        assert client.get(path).status_code == 422
    assert client.get("/api/forecast", params={"end": too_large}).status_code == 422
    assert client.get(f"/api/rounds/{too_large - 1}").status_code == 404
