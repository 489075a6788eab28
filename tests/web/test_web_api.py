"""The JSON API on real rounds' databases and files: what each route answers, and a database
down answers 503 without showing its password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx
from fastapi.testclient import TestClient
from sqlalchemy import delete
from web_dataset import CURRENT_TYPES, EXPECTED_MAE_W, NOW, STEP, Dashboard, measured_w

from elfe_ems.db.engine import engine_for
from elfe_ems.round.accounting import reason_of
from elfe_ems.sources.coordination import equipement
from elfe_ems.store import migrate
from elfe_ems.store.health import ROUND_AGE_LIMITS_S, stored_checks
from elfe_ems.store.tables import (
    p_c_with_flexible_consumption,
    p_c_without_flexible_consumption,
    run_log,
)
from elfe_ems.web.app import create_app
from elfe_ems.web.databases import DatabaseUnavailable, ReadOnlyDatabases
from postgres import create_database, drop_database, url_of


@pytest.fixture(scope="module")
def client(dashboard: Dashboard) -> TestClient:
    return TestClient(create_app(dashboard.settings))


def test_the_current_plan_is_the_latest_successful_round(
    client: TestClient, dashboard: Dashboard
) -> None:
    answer = client.get("/api/plan/current")
    assert answer.status_code == 200
    plan = answer.json()
    assert plan["round"]["id"] == dashboard.current_round  # not the later failed one
    assert plan["round_start"] == NOW + STEP
    assert {d["id"]: d["type"] for d in plan["devices"]} == CURRENT_TYPES
    warned = {d["id"]: d["warnings"] for d in plan["devices"] if d["warnings"]}
    assert list(warned) == [41]
    assert warned[41][0].startswith("[WARN_CONSTRAINT]")
    times = [NOW + STEP * (1 + k) for k in range(96)]
    before, after = (
        {r["data_timestamp"]: r["power"] for r in dashboard.env.rows(table)}
        for table in (p_c_without_flexible_consumption, p_c_with_flexible_consumption)
    )
    assert plan["balance"]["source"] == "published"
    # the output keeps production - consumption; the API shows net loads, import > 0
    assert plan["balance"]["net_load_before_w"] == [-before[t] for t in times]
    assert plan["balance"]["net_load_after_w"] == [-after[t] for t in times]
    devices = plan["round"]["devices"]  # every device of the coordination database
    assert devices["planned"] + devices["relaxed"] + devices["left_out"] == devices["total"]
    assert devices["total"] == len(
        dashboard.env.rows(equipement, dashboard.settings.coordination_url)
    )
    assert devices["relaxed_by_reason"] == {
        "no cycle row (cycle id …)": [2, 3],  # repaired rows
        reason_of(warned[41][0]): [41],  # the planner's relaxation
    }


def test_a_round_plan_comes_with_the_curves_of_its_files(
    client: TestClient, dashboard: Dashboard
) -> None:
    plan = client.get(f"/api/rounds/{dashboard.first_round}/plan").json()
    assert plan["round_start"] == NOW
    assert sorted(d["id"] for d in plan["devices"]) == [1, 2, 3, 20, 40, 41]
    folder = dashboard.settings.run_conditions_dir
    scenario = json.loads((folder / f"{NOW}-elfe-ems.scenario.json").read_text())
    saved = json.loads((folder / f"{NOW}-elfe-ems.plan.json").read_text())
    assert plan["balance"]["source"] == "saved files"
    assert plan["balance"]["net_load_before_w"] == scenario["net_load_w"]
    assert plan["balance"]["net_load_after_w"] == saved["net_load_with_flexible_w"]
    assert plan["solver"] == saved["solver"]


def test_rounds_without_a_plan_are_404(client: TestClient, dashboard: Dashboard) -> None:
    failed = client.get(f"/api/rounds/{dashboard.failed_round}/plan")
    assert failed.status_code == 404
    assert "status is failed" in failed.json()["detail"]
    assert client.get("/api/rounds/999/plan").status_code == 404
    assert client.get("/api/rounds/999").status_code == 404


def test_the_rounds_history(client: TestClient, dashboard: Dashboard) -> None:
    rounds = client.get("/api/rounds").json()
    expected_ids = [dashboard.failed_round, dashboard.current_round, dashboard.first_round]
    assert [r["id"] for r in rounds] == expected_ids
    assert [r["status"] for r in rounds] == ["failed", "succeeded", "succeeded"]
    assert [r["plan_available"] for r in rounds] == [False, True, True]
    assert [r["devices_planned"] for r in rounds] == [None, 5, 6]
    assert "coordination database" in rounds[0]["error"]
    assert all(r["duration_s"] >= 0 for r in rounds)
    assert rounds[1]["import_wh"] <= rounds[1]["import_wh_asap"]
    savings = rounds[1]["savings"]
    assert savings["import_avoided_wh"] == pytest.approx(
        rounds[1]["import_wh_asap"] - rounds[1]["import_wh"]
    )
    assert sum(t["import_avoided_wh"] for t in savings["by_type"]) == pytest.approx(
        savings["import_avoided_wh"], abs=1e-6
    )
    assert rounds[0]["savings"] is None  # a failed round saves nothing
    assert [r["id"] for r in client.get("/api/rounds", params={"limit": 1}).json()] == [
        dashboard.failed_round
    ]
    assert client.get("/api/rounds", params={"limit": 0}).status_code == 422


def test_forecasts_scored_per_horizon(client: TestClient) -> None:
    view = client.get("/api/forecast", params={"end": NOW, "days": 2}).json()
    steps = list(range(NOW - 2 * 86_400, NOW, STEP))
    assert view["step_starts"] == steps
    # the store keeps production - consumption; the API shows net loads, import > 0
    assert view["measured_net_load_w"] == pytest.approx([-measured_w(t) for t in steps])
    scores = {h["horizon_h"]: h for h in view["horizons"]}
    assert {h: s["mae_w"] for h, s in scores.items()} == pytest.approx(EXPECTED_MAE_W)
    # the dataset's forecasts overestimate the surplus: they forecast less import
    assert all(s["bias_w"] == pytest.approx(-s["mae_w"]) for s in scores.values())
    assert all(s["steps_scored"] == len(steps) for s in scores.values())
    day_ahead = scores[24.0]["forecast_net_load_w"]
    # the step at NOW - 1 h: the latest issue at least 24 h before it was made at NOW - 25 h
    assert day_ahead[-4] == pytest.approx(-measured_w(NOW - 3600) - 240.0)


def test_a_period_without_forecasts_scores_nothing(client: TestClient) -> None:
    view = client.get("/api/forecast", params={"end": NOW - 10 * 86_400, "days": 1}).json()
    assert view["step_starts"] == []
    assert all(h["mae_w"] is None and h["steps_scored"] == 0 for h in view["horizons"])


def test_health_reads_stored_facts_only(client: TestClient, dashboard: Dashboard) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        view = client.get("/api/health").json()
    assert not router.calls  # neither a weather provider nor Zabbix was asked
    names = [c["name"] for c in view["checks"]]
    assert names == [check.name for check in stored_checks(dashboard.settings, NOW)]
    assert not [n for n in names if n.startswith(("coordination", "measurements", "weather p"))]
    verdicts = {c["name"]: c["verdict"] for c in view["checks"]}
    assert verdicts["store database"] == "ok"
    assert view["verdict"] == max(verdicts.values(), key=["ok", "warning", "failed"].index)


def test_meta_gives_the_health_limits_and_the_type_names(client: TestClient) -> None:
    meta = client.get("/api/meta").json()
    assert meta["timezone"] == "Europe/Paris"
    assert tuple(meta["round_age_limits_s"]) == ROUND_AGE_LIMITS_S
    names = {int(code): name for code, name in meta["machine_type_names"].items()}
    # every code of the dataset's devices (111, 131, 151, 221) has its name
    assert {names[c] for c in (111, 131, 151, 221)} == {
        "washing machine",
        "water heater",
        "pilot-wire heater",
        "electric vehicle",
    }


def test_the_openapi_describes_every_route(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/meta",
        "/api/plan/current",
        "/api/rounds",
        "/api/rounds/{run_id}",
        "/api/rounds/{run_id}/plan",
        "/api/forecast",
        "/api/health",
        "/api/monitoring",
    }
    assert {"PlanView", "RoundSummary", "ForecastView", "HealthView"} <= set(
        schema["components"]["schemas"]
    )


def test_pages_and_the_chart_library_are_served(client: TestClient) -> None:
    for path in ("/", "/rounds", "/rounds/1", "/forecast", "/health"):
        page = client.get(path)
        assert page.status_code == 200
        assert "/static/vendor/uPlot.iife.min.js" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
    library = client.get("/static/vendor/uPlot.iife.min.js")
    assert library.status_code == 200
    assert "uPlot" in library.text


def test_a_database_down_is_503_without_its_password(dashboard: Dashboard, tmp_path: Path) -> None:
    down = "postgresql://ems:s3cret-pw@127.0.0.1:1/ems"
    settings = dashboard.settings.model_copy(update={"store_url": down})
    client = TestClient(create_app(settings))
    answer = client.get("/api/rounds")
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("store database: ")
    assert "s3cret-pw" not in answer.text
    assert client.get("/api/plan/current").status_code == 503
    assert client.get("/").status_code == 200  # the page loads and shows the error
    missing = tmp_path / "none.sqlite"
    settings = dashboard.settings.model_copy(update={"output_url": f"sqlite:///{missing}"})
    answer = TestClient(create_app(settings)).get("/api/plan/current")
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith("output database: ")
    assert not missing.exists()  # read-only: never created


def test_sqlite_is_opened_read_only(dashboard: Dashboard) -> None:
    databases = ReadOnlyDatabases(dashboard.settings)
    try:
        with (
            pytest.raises(DatabaseUnavailable, match="readonly"),
            databases.reading("store") as connection,
        ):
            connection.execute(delete(run_log))
    finally:
        databases.dispose()
    assert len(dashboard.env.rows(run_log)) == 3


def test_postgresql_transactions_are_read_only(dashboard: Dashboard) -> None:
    name = create_database("ems_web")
    try:
        url = url_of(name)
        with engine_for(url) as engine:
            migrate.upgrade(engine, "store")
        settings = dashboard.settings.model_copy(update={"store_url": url})
        databases = ReadOnlyDatabases(settings)
        try:
            with databases.reading("store") as connection:
                assert connection.execute(run_log.select()).all() == []
            with (
                pytest.raises(DatabaseUnavailable, match="read-only transaction"),
                databases.reading("store") as connection,
            ):
                connection.execute(delete(run_log))
        finally:
            databases.dispose()
    finally:
        drop_database(name)
