"""The weather job on migrated stores (SQLite, and PostgreSQL once), the providers served by
respx: what it stores, the fallback to Open-Meteo, failures that leave the store as it was,
the token kept out of logs and errors, and what a round reads from it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import Engine, func, select
from weather_env import (
    MC_NEXT_HOURS,
    MC_PERIODS,
    NOW,
    OPEN_METEO,
    Serve,
    recorded,
    rows,
    settings,
)

from elfe_ems.jobs.registry import JobError, job_named
from elfe_ems.jobs.weather import job, store_forecast
from elfe_ems.sources import open_meteo
from elfe_ems.sources.weather import checked
from elfe_ems.store.inputs import outdoor_temperature
from elfe_ems.store.tables import weather_forecast, weather_forecast_history
from elfe_ems.timegrid import Grid

H = 3600
R = 1_792_839_600  # 2026-10-24 11:00 UTC: a round just after the fetch
Store = tuple[str, Engine]


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_the_registry_runs_this_job() -> None:
    assert inspect.unwrap(job_named("weather").load()) is job  # within its grouping of warnings


def test_meteo_concept_is_stored_raw_and_on_the_15_min_grid(
    sqlite_store: Store, serve: Serve
) -> None:
    url, engine = sqlite_store
    serve()
    summary = job(settings(url), NOW + 0.7)
    assert summary.startswith("weather: 68 points from meteo-concept stored")
    stored = rows(engine)
    history = stored["weather_forecast_history"]
    assert len(history) == 12 + 56
    assert {r["fetched_at"] for r in history} == {NOW}
    assert sorted({r["period_s"] for r in history}) == [H, 6 * H, 7 * H]
    first = recorded("meteo_concept_next_hours.json")["forecast"][0]
    assert {
        "target_time": R,
        "fetched_at": NOW,
        "period_s": H,
        "temperature_c": 14.0,
        "wind_kmh": first["wind10m"],
        "gust_kmh": first["gust10m"],
        "wind_dir_deg": first["dirwind10m"],
        "sunshine_h": None,
    } in history
    current = stored["weather_forecast"]
    times = [r["target_time"] for r in current]
    # from the first period (2026-10-23 23:00 UTC) to the end of the last (2026-11-07 00:00)
    assert times == list(range(R - 12 * H, R + 13 * H + 13 * 86_400, 900))
    assert {r["fetched_at"] for r in current} == {NOW}
    assert next(r for r in current if r["target_time"] == R + 1800)["temperature_c"] == 14.5


def test_the_round_reads_the_stored_forecast_at_the_middle_of_its_steps(
    sqlite_store: Store, serve: Serve
) -> None:
    url, engine = sqlite_store
    serve()
    job(settings(url), NOW)
    with engine.connect() as connection:
        read = outdoor_temperature(connection, Grid(R, 900, 96))
    assert read.age_s == R - NOW
    temps = read.temp_c
    assert temps is not None
    # 11:00 UTC 14 °C, 12:00 UTC 15 °C: the middles of the first steps, by hand
    assert temps[:4] == pytest.approx([14.125, 14.375, 14.625, 14.875])
    hourly = recorded("meteo_concept_next_hours.json")["forecast"]
    days = recorded("meteo_concept_periods.json")["forecast"]
    # step 48 (23:07:30 UTC): from the last hour (22:00 UTC) to the middle of the 7 h night
    # (02:30 UTC), a quarter of the way
    last, night = hourly[11]["temp2m"], days[1][0]["temp2m"]
    assert temps[48] == pytest.approx(last + (night - last) * 67.5 / 270)
    # step 95 (10:52:30 UTC): between the middles of the morning (09:00) and afternoon (15:00)
    morning, afternoon = days[1][1]["temp2m"], days[1][2]["temp2m"]
    assert temps[95] == pytest.approx(morning + (afternoon - morning) * 112.5 / 360)


def test_postgresql(pg_store: Store, serve: Serve) -> None:
    url, engine = pg_store
    serve()
    assert job(settings(url), NOW).startswith("weather: 68 points from meteo-concept")
    assert count(engine, weather_forecast_history) == 68
    with engine.connect() as connection:
        temps = outdoor_temperature(connection, Grid(R, 900, 96)).temp_c
    assert temps is not None
    assert temps[:2] == pytest.approx([14.125, 14.375])


def test_a_new_fetch_replaces_the_current_forecast_and_keeps_the_past(
    sqlite_store: Store, serve: Serve
) -> None:
    url, engine = sqlite_store
    day_before = recorded("open_meteo_forecast.json")
    day_before["hourly"]["time"] = [t - 86_400 for t in day_before["hourly"]["time"]]
    with engine.begin() as connection:
        store_forecast(connection, checked(open_meteo.points(day_before), "x"), NOW - 86_400)
    serve()
    job(settings(url), NOW)
    current = {r["target_time"]: r["fetched_at"] for r in rows(engine)["weather_forecast"]}
    new_start = R - 12 * H  # Météo-Concept's first period
    assert {f for t, f in current.items() if t < new_start} == {NOW - 86_400}
    assert {f for t, f in current.items() if t >= new_start} == {NOW}
    assert min(current) == new_start - 23 * H
    assert count(engine, weather_forecast_history) == 336 + 68


# --- Météo-Concept away: Open-Meteo ----------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.ReadTimeout("timed out"),
        httpx.Response(200, text="<html>maintenance</html>"),
    ],
    ids=["http-500", "timeout", "not-json"],
)
def test_meteo_concept_down_open_meteo_is_stored(
    failure: Any, sqlite_store: Store, web: respx.MockRouter, serve: Serve, caplog: Any
) -> None:
    url, engine = sqlite_store
    route = web.get(MC_NEXT_HOURS)
    if isinstance(failure, httpx.Response):
        route.mock(return_value=failure)
    else:
        route.mock(side_effect=failure)
    serve(meteo_concept=False)
    assert job(settings(url), NOW).startswith("weather: 336 points from open-meteo")
    assert count(engine, weather_forecast_history, weather_forecast_history.c.period_s == H) == 336
    assert count(engine, weather_forecast) == 14 * 24 * 4
    (line,) = [m for m in caplog.messages if m.startswith("[WARN_DATABASE]")]
    assert line.startswith(f"[WARN_DATABASE] weather: meteo-concept: {MC_NEXT_HOURS}: ")


def test_without_token_meteo_concept_is_skipped(
    sqlite_store: Store, web: respx.MockRouter, serve: Serve, caplog: Any
) -> None:
    url, _engine = sqlite_store
    serve()
    caplog.set_level("INFO")
    assert "from open-meteo" in job(settings(url, meteo_concept_token=None), NOW)
    assert not web.routes[0].called
    assert "weather: meteo-concept skipped: no meteo_concept_token" in caplog.messages
    assert not [m for m in caplog.messages if m.startswith("[WARN")]


def test_the_providers_are_tried_in_the_configured_order(sqlite_store: Store, serve: Serve) -> None:
    url, _engine = sqlite_store
    serve()
    summary = job(settings(url, weather_providers=["open-meteo", "meteo-concept"]), NOW)
    assert "from open-meteo" in summary


# --- nothing usable: the store is left as it was ----------------------------------------------


def _items(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The forecast items of a Météo-Concept answer (hourly, or periods by day)."""
    items = answer["forecast"]
    return [i for day in items for i in day] if isinstance(items[0], list) else items


def _garbage(name: str, kind: str) -> httpx.Response:
    """A recorded answer spoilt: ``down`` (503), ``invalid json``, ``missing fields`` or
    ``absurd values`` (every point)."""
    if kind == "down":
        return httpx.Response(503)
    if kind == "invalid json":
        return httpx.Response(200, text='{"forecast": [')
    answer = recorded(name)
    hourly = answer.get("hourly")
    if kind == "missing fields" and hourly:
        del hourly["time"]
    elif kind == "missing fields":
        del _items(answer)[0]["temp2m"]
    elif hourly:
        hourly["temperature_2m"] = [99.0] * len(hourly["time"])
    else:
        for item in _items(answer):
            item["dirwind10m"] = 400
    return httpx.Response(200, json=answer)


@pytest.mark.parametrize(
    ("meteo_concept_answer", "open_meteo_answer"),
    [
        ("invalid json", "missing fields"),
        ("missing fields", "absurd values"),
        ("absurd values", "invalid json"),
        ("down", "down"),
    ],
)
def test_no_usable_answer_leaves_the_store_unchanged(
    meteo_concept_answer: str,
    open_meteo_answer: str,
    sqlite_store: Store,
    web: respx.MockRouter,
    caplog: Any,
) -> None:
    url, engine = sqlite_store
    answer = recorded("open_meteo_forecast.json")
    with engine.begin() as connection:
        store_forecast(connection, checked(open_meteo.points(answer), "x"), NOW - H)
    before = rows(engine)
    for route, name, kind in (
        (MC_NEXT_HOURS, "meteo_concept_next_hours.json", meteo_concept_answer),
        (MC_PERIODS, "meteo_concept_periods.json", meteo_concept_answer),
        (OPEN_METEO, "open_meteo_forecast.json", open_meteo_answer),
    ):
        web.get(route).mock(return_value=_garbage(name, kind))
    with pytest.raises(JobError, match="no provider gave a forecast") as raised:
        job(settings(url), NOW)
    assert "meteo-concept: " in str(raised.value)
    assert "open-meteo: " in str(raised.value)
    assert rows(engine) == before
    warnings = [m for m in caplog.messages if m.startswith("[WARN_DATABASE]")]
    assert [w.split(":")[1] for w in warnings] == [" meteo-concept", " open-meteo"]


def test_a_store_that_cannot_be_written_is_a_job_error_without_password(
    serve: Serve, sqlite_store: Store
) -> None:
    serve()
    down = "postgresql://postgres:s3cret-pw@127.0.0.1:1/ems"
    with pytest.raises(JobError, match=r"store database: connection failed") as raised:
        job(settings(down), NOW)
    assert "s3cret-pw" not in str(raised.value)
    url, engine = sqlite_store
    with engine.begin() as connection:
        # the history is written, then the current forecast fails
        connection.exec_driver_sql("DROP TABLE weather_forecast")
    with pytest.raises(JobError, match=r"store database: .*no such table: weather_forecast"):
        job(settings(url), NOW)
    assert count(engine, weather_forecast_history) == 0  # the transaction was rolled back


# --- the token ----------------------------------------------------------------------------------


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"cannot connect for {request.url}", request=request)


Failure = Callable[[respx.MockRouter], None]


@pytest.mark.parametrize(
    "break_meteo_concept",
    [
        lambda web: web.get(MC_NEXT_HOURS).mock(side_effect=_refused),
        lambda web: web.get(MC_NEXT_HOURS).respond(401, json={"code": 401}),
        lambda web: web.get(MC_NEXT_HOURS).mock(side_effect=httpx.ConnectTimeout("timed out")),
    ],
    ids=["connection-error-quoting-the-url", "http-401", "timeout"],
)
def test_the_token_is_never_in_a_log_or_an_error(
    break_meteo_concept: Failure, web: respx.MockRouter, all_logs: Any
) -> None:
    break_meteo_concept(web)
    web.get(OPEN_METEO).respond(503)
    with pytest.raises(JobError) as raised:
        job(settings(), NOW)
    shown = str(raised.value) + "\n" + all_logs.text
    assert "meteo-concept" in shown
    assert "3f9a2c7e" not in shown  # the token, plain or URL-encoded


def test_httpx_request_lines_show_the_token_masked(
    sqlite_store: Store, serve: Serve, all_logs: Any
) -> None:
    url, _engine = sqlite_store
    serve()
    job(settings(url), NOW)
    requests = [r.getMessage() for r in all_logs.records if r.name == "httpx"]
    assert any("nextHours?token=***&hourly=true" in line for line in requests)
    assert "tok-3f9a2c7e" not in all_logs.text
