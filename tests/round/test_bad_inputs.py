"""Bad measurements and forecasts, from the source to the plan (docs/reliability.md, its
"Bad measurement" and "Weather answer" cells): the real acquisition jobs read them, the real
round plans on what they stored, and says in its run log and plan file how its inputs were.

- the balance item with NaN and infinite samples and a 12 h hole: the forecast leaves the
  steps a day after the hole out; the round plans with finite numbers only and states the
  forecast stale, how much of the horizon it covers and how the rest was filled;
- the weather provider answering an HTML error page, JSON without its fields, lists of the
  wrong length, strings for numbers: the weather job fails with a clear error and the store
  keeps the previous fetch; the round plans the thermostatic heater on it and states the
  weather stale with its age.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import respx
from sqlalchemy import insert

from elfe_ems.db.engine import engine_for
from elfe_ems.jobs import power_prediction, weather
from elfe_ems.jobs.registry import JobError
from elfe_ems.notices.catalogue import Notice
from elfe_ems.planner.scenario import read_plan, read_scenario
from elfe_ems.sources import open_meteo
from elfe_ems.sources.recorded import create_tables, record_items, record_samples
from elfe_ems.sources.weather import checked
from elfe_ems.store.run_files import saved_plan_path
from elfe_ems.store.tables import forecast, weather_forecast
from postgres import create_database, drop_database, url_of

R = 1_792_886_400  # the round's dataset (conftest.py)
AT = R - 30
H = 3600
STEP = 900
BALANCE_ITEM = 9001
OPEN_METEO = "https://api.open-meteo.com/v1/forecast"
RECORDED = Path(__file__).parents[1] / "sources" / "weather" / "recorded"


@pytest.fixture
def recordings() -> Iterator[str]:
    """Recorded measurements in PostgreSQL (which keeps NaN and infinities): the balance
    item [W] sampled every minute over the 25 h before the :59 job, silent from 20 h to 8 h
    before the round, with 4 NaN or infinite samples."""
    name = create_database("ems_bad_inputs")
    url = url_of(name)
    job_s = R - 60
    times = np.arange(job_s - 25 * H, job_s + 1, 60)
    times = times[(times < R - 20 * H) | (times >= R - 8 * H)]
    power_w = 3000.0 + 1000 * np.sin(2 * math.pi * times / 86_400)
    power_w[[10, 200, 400, 700]] = [math.nan, math.inf, -math.inf, math.nan]
    with engine_for(url) as engine:
        create_tables(engine)
        record_items(
            engine,
            [
                {"item_id": BALANCE_ITEM, "host_id": 1, "name": "balance", "key": "balance"}
                | {"units": "W", "value_type": 0}
            ],
        )
        record_samples(engine, BALANCE_ITEM, times, power_w)
    yield url
    drop_database(name)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _inputs(outcome: Any) -> dict[str, Any]:
    """The plan file's input states, by name; the run log holds the same."""
    plan = read_plan(saved_plan_path(outcome.scenario_path))
    assert plan.inputs is not None
    return {i.name: i for i in plan.inputs}


def _finite(outcome: Any) -> Any:
    """The scenario the planner got: every number in it finite (pydantic refuses NaN too)."""
    scenario = read_scenario(outcome.scenario_path)
    assert all(math.isfinite(w) for w in scenario.net_load_w)
    assert scenario.outdoor_temp_c is None or all(map(math.isfinite, scenario.outdoor_temp_c))
    return scenario


def test_nan_samples_and_a_12_h_hole_plan_on_finite_numbers_and_say_so(
    pg_env: Any, recordings: str, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env(forecast_steps=0)  # only what the job forecasts
    # the steps a day after the hole (R+4h15 .. R+15h45) are not forecast; a forecast of
    # yesterday covers the first 20 a day earlier
    hole = [k for k, t in enumerate(range(R, R + 96 * STEP, STEP)) if R + 4 * H < t < R + 16 * H]
    assert len(hole) == 47
    yesterday = [R + STEP * k - 86_400 for k in hole[:20]]
    env_rows = [
        {"source": "persistence", "issue_time": R - 25 * H, "target_time": t, "power_w": 1234.0}
        for t in yesterday
    ]
    with engine_for(env.store_url) as store, store.begin() as connection:
        connection.execute(insert(forecast), env_rows)
    settings = env.settings(measurements_url=recordings, balance_item_id=BALANCE_ITEM)
    with caplog.at_level(logging.WARNING):
        power_prediction.job(settings, R - 60)
        outcome = env.run()
    scenario = _finite(outcome)
    # extended by 24 h persistence where a day earlier has a forecast, else a zero net load
    assert [scenario.net_load_w[k] for k in hole] == [-1234.0] * 20 + [0.0] * 27
    assert all(w != 0 for k, w in enumerate(scenario.net_load_w) if k not in hole)
    warnings = _warnings(caplog)
    notices = "\n".join(warnings)
    assert "[WARN_IGNORED] power item 9001: 4 of " in notices
    assert f"[WARN_DATABASE] balance item {BALANCE_ITEM}: 47 of its last 96 steps" in notices
    forecast_line = (
        "[WARN_DATABASE] input forecast: stale, 60 s old (limit 2.0 h); the forecast covers "
        "49 of 96 steps: the rest 20 extended by 24 h persistence, 27 taken as a zero net "
        "load; "
    )
    assert f"{forecast_line}{Notice.INPUT_STALE.advice}" in warnings
    states = _inputs(outcome)
    assert states["forecast"].state == "stale"
    assert states["forecast"].coverage == pytest.approx(49 / 96)
    assert states["balance measurements"].state == "fresh"
    (logged,) = [row["input_freshness"] for row in env.run_log()]
    assert logged == [state.model_dump() for state in states.values()]


def _answer() -> dict[str, Any]:
    answer: dict[str, Any] = json.loads((RECORDED / "open_meteo_forecast.json").read_text())
    return answer


def _bad(kind: str) -> httpx.Response:
    """Open-Meteo answering in a wrong format."""
    if kind == "html error page":
        page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
        return httpx.Response(200, text=page, headers={"content-type": "text/html"})
    answer = _answer()
    hourly = answer["hourly"]
    if kind == "fields missing":
        del hourly["temperature_2m"]
    elif kind == "wrong lengths":
        hourly["temperature_2m"] = hourly["temperature_2m"][:100]
    else:  # strings for numbers
        hourly["temperature_2m"] = [f"{t}" for t in hourly["temperature_2m"]]
    return httpx.Response(200, json=answer)


BAD_ANSWERS = {
    "html error page": f"{OPEN_METEO}: the answer is not JSON",
    "fields missing": "open-meteo: no field 'temperature_2m'",
    "wrong lengths": "open-meteo: temperature_2m is not a list of 336 values",
    "strings for numbers": "open-meteo hour 1792800000 temperature_2m: '7.1' is not a number",
}


def test_a_weather_answer_in_a_wrong_format_keeps_the_previous_fetch(
    pg_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env(weather=False)
    fetched_s = R - 4 * H  # the previous fetch: 4 h old at the round, stale (limit 3 h)
    with engine_for(env.store_url) as store, store.begin() as connection:
        weather.store_forecast(connection, checked(open_meteo.points(_answer()), "x"), fetched_s)
    before = env.store_rows(weather_forecast)
    settings = env.settings()  # no Météo-Concept token: Open-Meteo alone
    for kind, reason in BAD_ANSWERS.items():
        with respx.mock(assert_all_mocked=True) as web:
            web.get(OPEN_METEO).mock(return_value=_bad(kind))
            with pytest.raises(JobError, match="no provider gave a forecast") as raised:
                weather.job(settings, R - 120)
        assert f"open-meteo: {reason}" in str(raised.value), kind
    assert env.store_rows(weather_forecast) == before
    with caplog.at_level(logging.WARNING):
        outcome = env.run()
    scenario = _finite(outcome)
    assert scenario.outdoor_temp_c is not None
    assert 30 in env.results()  # the thermostatic heater is planned on the previous fetch
    states = _inputs(outcome)
    assert states["weather"].state == "stale"
    assert states["weather"].age_s == 4 * H
    line = "[WARN_DATABASE] input weather: stale, 4.0 h old (limit 3.0 h)"
    assert f"{line}; {Notice.INPUT_STALE.advice}" in _warnings(caplog)
