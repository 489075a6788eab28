"""How fresh each input of a round is, on the round's dataset in a real PostgreSQL: stated in
the run log and the plan file, one [WARN_DATABASE] line per input that is not fresh, and the
health checks (ems doctor) failing on it. A balance item that stopped updating makes the
forecast built on it stale, however recently that forecast was issued."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import insert

from elfe_ems.db.engine import make_engine
from elfe_ems.notices.catalogue import Notice
from elfe_ems.planner.scenario import read_plan
from elfe_ems.store.freshness import Freshness, State, age_text
from elfe_ems.store.health import stored_checks
from elfe_ems.store.run_files import saved_plan_path
from elfe_ems.store.tables import balance_measurement, room_temperature

R = 1_792_886_400  # the dataset's round start (conftest.py)
H = 3600
STEP = 900


def _balance_until(env: Any, last_step_start: int, later: bool = False) -> None:
    """Balance measurements over the 6 h before ``last_step_start``; ``later``: and one after
    the round start (as a backtest's store holds: never counted as the round's data)."""
    engine = make_engine(env.store_url)
    try:
        with engine.begin() as connection:
            steps = range(last_step_start - 6 * H, last_step_start + STEP, STEP)
            rows = [{"step_start": t, "power_w": -1000.0, "measured_at": t + STEP} for t in steps]
            if later:
                rows.append({"step_start": R + H, "power_w": 0.0, "measured_at": R + H})
            connection.execute(insert(balance_measurement), rows)
    finally:
        engine.dispose()


def _database_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "elfe_ems.round.job" and r.getMessage().startswith("[WARN_DATABASE] input")
    ]


def test_fresh_inputs_are_said_fresh_everywhere(
    pg_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env()
    _balance_until(env, R - STEP, later=True)  # the last step ends at the round start
    with caplog.at_level(logging.WARNING, logger="elfe_ems.round.job"):
        outcome = env.run()
    states = {source.name: source.state for source in outcome.freshness}
    assert states == dict.fromkeys(states, State.FRESH)
    assert set(states) == {
        "balance measurements",
        "forecast",
        "weather",
        "room temperatures",
        "water-heater energies",
    }
    ages = {source.name: source.age_s for source in outcome.freshness}
    assert ages["balance measurements"] == 0
    assert ages["forecast"] == H
    assert ages["weather"] == 1800
    assert _database_lines(caplog) == []
    (logged,) = [row["input_freshness"] for row in env.run_log()]
    assert logged == [source.to_json() for source in outcome.freshness]
    plan = read_plan(saved_plan_path(outcome.scenario_path))
    assert plan.inputs is not None
    assert [i.model_dump() for i in plan.inputs] == logged
    # where the savings come from: in the plan file and, the same, in the run log
    assert plan.savings is not None
    (savings,) = [row["savings"] for row in env.run_log()]
    assert savings == plan.savings.model_dump(mode="json")
    assert savings["import_avoided_wh"] == pytest.approx(plan.import_wh_asap - plan.import_wh)
    checks = {c.name: c for c in stored_checks(env.settings(), R)}
    assert checks["balance measurements"].verdict == "warning"  # a measurement in the future


def test_a_balance_item_that_stopped_makes_the_round_stale(
    pg_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env()
    _balance_until(env, R - 7 * H)  # the item stopped 6 h 45 min before the round
    with caplog.at_level(logging.WARNING, logger="elfe_ems.round.job"):
        outcome = env.run()
    assert outcome.plan.import_wh >= 0  # it still plans
    balance = next(s for s in outcome.freshness if s.name == "balance measurements")
    assert balance.state == State.STALE
    assert balance.age_s == 7 * H - STEP
    line = "[WARN_DATABASE] input balance measurements: stale, 6.8 h old (limit 60 min)"
    # once, naming it, its age and what to do
    assert _database_lines(caplog) == [f"{line}; {Notice.INPUT_STALE.advice}"]
    plan = read_plan(saved_plan_path(outcome.scenario_path))
    assert plan.inputs is not None
    assert {i.name: i.state for i in plan.inputs}["balance measurements"] == "stale"
    checks = {c.name: c for c in stored_checks(env.settings(), R)}
    assert checks["balance measurements"].verdict == "failed"
    assert checks["last round"].verdict == "failed"


def test_a_room_whose_temperature_stopped_is_named(
    pg_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env()
    _balance_until(env, R - STEP)
    engine = make_engine(env.store_url)
    try:
        with engine.begin() as connection:  # a second room, last measured 3 h ago
            connection.execute(
                insert(room_temperature),
                [{"temperature_item_id": 7031, "measured_at": R - 3 * H, "temp_c": 18.0}],
            )
    finally:
        engine.dispose()
    with caplog.at_level(logging.WARNING, logger="elfe_ems.round.job"):
        outcome = env.run()
    rooms = next(s for s in outcome.freshness if s.name == "room temperatures")
    assert rooms.state == State.STALE
    assert (len(rooms.item_ages_s or {}), rooms.stale_items, rooms.age_s) == (2, (7031,), 3 * H)
    line = (
        "[WARN_DATABASE] input room temperatures: stale, 3.0 h old (limit 30 min); "
        "1 of 2 items older than that (items 7031)"
    )
    assert _database_lines(caplog) == [f"{line}; {Notice.INPUT_STALE.advice}"]
    (logged,) = [row["input_freshness"] for row in env.run_log()]
    assert {i["name"]: i["stale_items"] for i in logged} == {
        "balance measurements": None,
        "forecast": None,
        "weather": None,
        "room temperatures": [7031],
        "water-heater energies": [],
    }
    plan = read_plan(saved_plan_path(outcome.scenario_path))
    assert plan.inputs is not None
    assert {i.name: i.stale_items for i in plan.inputs}["room temperatures"] == [7031]


def test_missing_and_short_inputs(pg_env: Any, caplog: pytest.LogCaptureFixture) -> None:
    env = pg_env(forecast_steps=40, weather=False)  # no balance rows at all either
    with caplog.at_level(logging.WARNING, logger="elfe_ems.round.job"):
        outcome = env.run()
    by_name = {source.name: source for source in outcome.freshness}
    assert by_name["balance measurements"].state == State.MISSING
    assert by_name["weather"].state == State.MISSING
    forecast = by_name["forecast"]
    assert forecast.state == State.STALE  # 1 h old (fresh) but 40 of 96 steps
    assert forecast.coverage == pytest.approx(40 / 96)
    lines = _database_lines(caplog)
    missing = Notice.INPUT_MISSING.advice
    assert f"[WARN_DATABASE] input balance measurements: missing; {missing}" in lines
    assert f"[WARN_DATABASE] input weather: missing; {missing}" in lines
    # the short forecast in one line: its state, and how the round completed it (nothing
    # forecast a day earlier: zeros, not persistence)
    assert (
        "[WARN_DATABASE] input forecast: stale, 60 min old (limit 2.0 h); the forecast covers "
        f"40 of 96 steps: the rest taken as a zero net load; {Notice.INPUT_STALE.advice}" in lines
    )
    assert len(lines) == 3


def test_states_and_words() -> None:
    assert Freshness("forecast", None, 1800).state == State.MISSING
    assert Freshness("forecast", 1800, 1800, 1.0).state == State.FRESH
    assert Freshness("forecast", 1801, 1800, 1.0).state == State.STALE
    assert Freshness("forecast", 0, 1800, 0.94).state == State.STALE
    assert Freshness("weather", 0, 1800, 0.95).state == State.FRESH
    assert age_text(90) == "90 s"
    assert age_text(5400) == "90 min"
    assert age_text(7 * H) == "7.0 h"
