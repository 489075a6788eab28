"""Every device of the coordination database accounted for in a round (planned, relaxed or
left out, by reason), on the round's dataset in a real PostgreSQL: the counts add up to the
devices of ``equipement_pilote_ou_mesure`` everywhere they are shown."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from elfe_ems.db.engine import make_engine
from elfe_ems.notices.catalogue import Notice
from elfe_ems.round.accounting import Outcome, reason_of
from elfe_ems.sources.coordination import equipement
from elfe_ems.store.health import stored_checks

THERMOSTATIC = {30, 31}


def _devices_in_database(env: Any) -> int:
    engine = make_engine(env.coordination_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(equipement)).scalar_one()
            )
    finally:
        engine.dispose()


def test_reasons_carry_no_values() -> None:
    assert reason_of("[WARN_CONSTRAINT] comfort band out of reach: missed by 2.5 K·h") == (
        "comfort band out of reach"
    )
    assert reason_of("[WARN_IGNORED] skipped: battery already full") == "battery already full"
    assert reason_of("[WARN_CONSTRAINT] heats from 2023-11-10 20:15:00Z: 1 step") == "heats from …"
    assert reason_of("[WARN_CONSTRAINT] 2851.73 Wh does not fit in any window: heats") == (
        "… Wh does not fit in any window"
    )


def test_every_device_is_counted_once_with_its_reason(pg_env: Any) -> None:
    env = pg_env()
    outcome = env.run()
    accounting = outcome.accounting
    assert accounting is not None
    ids = [d.device_id for d in accounting.devices]
    assert len(set(ids)) == len(ids)  # each device once
    assert len(ids) == _devices_in_database(env)
    by = {d.device_id: d for d in accounting.devices}
    assert by[2].outcome == Outcome.LEFT_OUT
    assert by[2].reason == "not piloted (mode 20)"
    assert by[13].reason == "not piloted (mode 70)"
    assert by[10].reason == "switched on less than 12 h ago"
    assert not by[10].problem
    assert by[21].outcome == Outcome.LEFT_OUT
    assert by[21].reason == "puissance_de_charge is NULL"
    assert by[21].problem
    assert by[31].reason == "unknown thermal model"
    assert by[31].problem
    assert {d.outcome for d in accounting.devices} == set(Outcome)
    counts = [len(accounting.of(outcome)) for outcome in Outcome]
    assert sum(counts) == len(ids)
    planned = {d.id for d in outcome.plan.devices if d.status == "planned"}
    assert planned == {d.device_id for d in accounting.devices if d.outcome != Outcome.LEFT_OUT}
    # the run log holds the same figures, and they add up
    (logged,) = [row["devices"] for row in env.run_log()]
    assert logged == accounting.to_json()
    assert logged["planned"] + logged["relaxed"] + logged["left_out"] == logged["total"]
    assert sum(len(v) for v in logged["left_out_by_reason"].values()) == logged["left_out"]


def test_without_weather_the_heaters_are_left_out_and_said_so(
    pg_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    env = pg_env(weather=False)
    with caplog.at_level(logging.WARNING, logger="elfe_ems.round.job"):
        outcome = env.run()
    accounting = outcome.accounting
    assert accounting is not None
    reason = "no outdoor temperature forecast for the horizon"
    left = accounting.by_reason(Outcome.LEFT_OUT)
    assert set(left[reason]) == THERMOSTATIC
    assert all(d.problem for d in accounting.devices if d.device_id in THERMOSTATIC)
    grouped = [
        r.getMessage()
        for r in caplog.records
        if r.name == "elfe_ems.round.job" and reason in r.getMessage()
    ]
    assert grouped == [
        f"[WARN_IGNORED] 2 devices: left out of the round: {reason} (devices 30, 31); "
        f"{Notice.LEFT_OUT.advice}"
    ]
    checks = {c.name: c for c in stored_checks(env.settings(), outcome.plan.round_start)}
    assert checks["weather"].verdict == "failed"  # ems doctor exits non-zero
    assert checks["last round"].verdict == "failed"  # planned without weather
    assert "missing weather" in checks["last round"].detail
    assert f"2 left out: {reason}" in checks["last round"].detail
