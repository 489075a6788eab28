"""A missing or short forecast: the round still plans, and says so.

Steps the forecast does not cover are extended by 24 h persistence (the value a day earlier);
with no forecast at all the net load is zero. Either way ``[WARN_DATABASE]`` is logged and the
run log's input ages give the number of steps extended (``forecast_steps_extended``).

These stores have no outdoor temperature forecast either: the thermostatic heater (30) is
not planned (``[WARN_DATABASE]``), and the weather's age is None. (It also keeps these rounds
quick: on a flat net load the planner takes seconds over that one heater's switches.)
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import update

from elfe_ems.db.engine import make_engine
from elfe_ems.planner.scenario import read_scenario
from elfe_ems.store.tables import forecast, weather_forecast


def _round(env: Any, caplog: pytest.LogCaptureFixture) -> tuple[Any, list[str]]:
    with caplog.at_level(logging.WARNING):
        outcome = env.run()
    return outcome, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _forecast_line(warnings: list[str]) -> str:
    """The one line about the forecast: its freshness and how the round completed it."""
    (line,) = [w for w in warnings if w.startswith("[WARN_DATABASE] input forecast: ")]
    assert not [w for w in warnings if w.startswith("[WARN_DATABASE] the forecast covers")]
    return line


def _published(env: Any, case: Any, outcome: Any, net_load_w: list[float]) -> None:
    """The round published all its rows, from the net load it used."""
    assert outcome.plan.round_start == case.R
    assert sorted(env.results()) == sorted(set(case.PLANNED_IDS) - {30})
    before = env.output("p_c_without_flexible_consumption")
    assert [r["power"] for r in before] == [round(-w) for w in net_load_w]
    assert len(env.output("p_c_with_flexible_consumption")) == 96
    assert len(env.output("ems_run_info")) == 1
    (entry,) = env.run_log()
    assert entry["status"] == "succeeded"
    assert entry["input_ages_s"] == outcome.input_ages_s
    assert entry["input_ages_s"]["weather"] is None
    skipped = "[WARN_DATABASE] device 30 (thermostatic_heater): no outdoor temperature"
    assert skipped + " forecast for the horizon: not planned" in outcome.issues


def test_short_forecast_extended_by_persistence(
    pg_env: Any, case: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env(forecast_steps=48, yesterday=True, weather=False)
    outcome, warnings = _round(env, caplog)
    expected = [-case.surplus_w(k) for k in range(48)]
    expected += [-case.yesterday_w(k - 96) for k in range(48, 96)]  # a day earlier
    scenario_net_load = _scenario_net_load(outcome)
    assert scenario_net_load == expected
    _published(env, case, outcome, expected)
    assert "; the forecast covers 48 of 96 steps: the rest extended by 24 h " in (
        _forecast_line(warnings)
    )
    (entry,) = env.run_log()
    assert entry["input_ages_s"]["forecast_steps_extended"] == 48
    assert entry["input_ages_s"]["forecast"] == case.H  # the newest issue used


def test_only_yesterday_forecast(pg_env: Any, case: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing forecast for the horizon: all of it is yesterday's forecast, 25 h old."""
    env = pg_env(forecast_steps=0, yesterday=True, weather=False)
    outcome, warnings = _round(env, caplog)
    expected = [-case.yesterday_w(k - 96) for k in range(96)]
    assert _scenario_net_load(outcome) == expected
    _published(env, case, outcome, expected)
    assert "; the forecast covers 0 of 96 steps: the rest extended" in _forecast_line(warnings)
    (entry,) = env.run_log()
    assert entry["input_ages_s"]["forecast_steps_extended"] == 96
    # the data used were issued at R - 25 h: their age is known, and recorded
    assert entry["input_ages_s"]["forecast"] == 25 * case.H


def test_no_forecast_at_all(pg_env: Any, case: Any, caplog: pytest.LogCaptureFixture) -> None:
    env = pg_env(forecast_steps=0, weather=False)
    outcome, warnings = _round(env, caplog)
    assert _scenario_net_load(outcome) == [0.0] * 96
    _published(env, case, outcome, [0.0] * 96)
    assert _forecast_line(warnings).startswith(
        "[WARN_DATABASE] input forecast: missing; the forecast covers 0 of 96 steps: the rest "
        "taken as a zero net load; "
    )
    (entry,) = env.run_log()
    assert entry["input_ages_s"]["forecast_steps_extended"] == 96
    assert entry["input_ages_s"]["forecast"] is None  # nothing used


def _scenario_net_load(outcome: Any) -> list[float]:
    return read_scenario(outcome.scenario_path).net_load_w


def test_nan_and_infinite_forecast_values_are_missing(
    pg_env: Any, case: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL stores NaN and infinities in a double column: such a value is no forecast
    (the step is extended like any other missing one), never a scenario the round cannot
    build. Step 5's latest issue is NaN: its older issue (99 999 W) is the latest finite one;
    step 6 is infinite in both issues: a day earlier."""
    env = pg_env(yesterday=True, weather=False)
    _update(
        env,
        forecast,
        power_w=float("inf"),
        where=forecast.c.target_time == case.R + 5400,
    )
    _update(
        env,
        forecast,
        power_w=float("nan"),
        where=(forecast.c.target_time == case.R + 4500) & (forecast.c.issue_time == case.R - 3600),
    )
    outcome, warnings = _round(env, caplog)
    expected = [-case.surplus_w(k) for k in range(96)]
    expected[5] = -99_999.0
    expected[6] = -case.yesterday_w(6 - 96)
    assert _scenario_net_load(outcome) == expected
    _published(env, case, outcome, expected)
    # fresh (95 of 96 steps is enough), but completed: said all the same
    assert "fresh, 60 min old (limit 2.0 h); the forecast covers 95 of 96 steps" in (
        _forecast_line(warnings)
    )


def test_nan_weather_point_left_out(pg_env: Any, case: Any) -> None:
    env = pg_env()
    _update(
        env,
        weather_forecast,
        temperature_c=float("nan"),
        where=weather_forecast.c.target_time == case.R + 5 * case.H,
    )
    outcome = env.run()
    assert read_scenario(outcome.scenario_path).outdoor_temp_c == [18.0] * 96
    assert 30 in env.results()  # the thermostatic heater is planned


def _update(env: Any, table: Any, where: Any, **values: float) -> None:
    engine = make_engine(env.store_url)
    try:
        with engine.begin() as connection:
            connection.execute(update(table).where(where).values(**values))
    finally:
        engine.dispose()
