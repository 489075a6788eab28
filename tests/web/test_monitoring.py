"""``GET /api/monitoring``: the stored facts as flat keys, on a copy of the dashboard's dataset
with a run of every job recorded; a database down still answers, unhealthy."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import respx
from fastapi.testclient import TestClient
from web_dataset import NOW, Dashboard

from elfe_ems.config import Settings
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs.registry import JOBS
from elfe_ems.jobs.runs import record
from elfe_ems.store.freshness import limits_s
from elfe_ems.store.job_runs import JobRun
from elfe_ems.store.tables import run_log
from elfe_ems.web.app import create_app
from elfe_ems.web.monitoring import key_of

H = 3600


@pytest.fixture
def settings(dashboard: Dashboard, tmp_path: Path) -> Settings:
    """The dataset's store copied (the session's stays as it is), every job run 30 s ago
    but the weather job, which failed after its last success."""
    copy = f"sqlite:///{tmp_path / 'ems.sqlite'}"
    shutil.copy(dashboard.env.folder / "ems.sqlite", tmp_path / "ems.sqlite")
    settings = dashboard.settings.model_copy(update={"store_url": copy, "output_url": copy})
    now_s = time.time()
    for job in JOBS:
        record(settings, JobRun(job.name, now_s - 30, now_s - 29, "succeeded", "done"))
    record(settings, JobRun("weather", now_s - 10, now_s - 9, "failed", "provider away"))
    return settings


def _document(settings: Settings) -> dict[str, Any]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        answer = TestClient(create_app(settings)).get("/api/monitoring")
    assert not router.calls  # no source contacted
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def test_the_document_has_every_fact_as_a_flat_key(
    settings: Settings, dashboard: Dashboard
) -> None:
    before_s = time.time()
    document = _document(settings)
    assert all(not isinstance(v, dict | list) for v in document.values())  # flat
    last = max(dashboard.env.rows(run_log), key=lambda r: r["started_at"])
    assert document["round_status"] == "failed" == last["status"]  # the dataset's last round
    assert document["round_age_s"] == pytest.approx(before_s - last["started_at"], abs=5)
    assert document["healthy"] == 0
    assert document["verdict"] == "failed"
    assert "last round: " in document["failed"]
    # the latest forecast was issued at NOW - 1 h
    assert document["input_forecast_age_s"] == pytest.approx(before_s - (NOW - H), abs=5)
    for name in limits_s(settings):
        assert document[f"input_{key_of(name)}_state"] in ("fresh", "stale", "missing")
    for job in JOBS:
        assert document[f"job_{key_of(job.name)}_last_success_age_s"] == pytest.approx(30, abs=5)
    assert document["job_round_verdict"] == "ok"
    assert document["job_weather_verdict"] == "warning"  # failed after its last success
    assert "job weather: last success" in document["warnings"]
    assert "provider away" in document["warnings"]


def test_a_round_that_succeeded_gives_its_solver_and_devices(
    settings: Settings, dashboard: Dashboard
) -> None:
    rows = dashboard.env.rows(run_log)
    succeeded = next(r for r in reversed(rows) if r["status"] == "succeeded")
    # the failed round removed from the copy: the last round is the current plan's
    with engine_for(settings.store_url) as store, store.begin() as connection:
        connection.execute(run_log.delete().where(run_log.c.status == "failed"))
    document = _document(settings)
    assert document["round_status"] == "succeeded"
    assert document["round_solver_status"] == succeeded["solver_status"]
    assert document["round_gap"] == pytest.approx(succeeded["gap"])
    devices = succeeded["devices"]
    assert document["round_devices_planned"] == devices["planned"]
    assert document["round_devices_relaxed"] == devices["relaxed"]
    assert document["round_devices_left_out"] == devices["left_out"]


def test_a_database_down_answers_unhealthy_without_its_password(settings: Settings) -> None:
    down = "postgresql://ems:s3cret-pw@127.0.0.1:1/ems"
    document = _document(settings.model_copy(update={"store_url": down, "output_url": down}))
    assert document["healthy"] == 0
    assert document["verdict"] == "failed"
    assert document["round_age_s"] is None
    assert document["input_forecast_age_s"] is None
    assert document["input_forecast_state"] == "missing"
    assert "store database" in document["failed"]
    assert "s3cret-pw" not in str(document)
