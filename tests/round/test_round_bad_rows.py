"""A round on SQLite (which stores any text in any column) with rows that cannot be read: the
round plans and publishes every other device, and counts the bad ones as left out for a
problem, by reason, in its run log."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import make_url


def test_unreadable_rows_are_left_out_and_the_others_published(sqlite_env: Any, case: Any) -> None:
    unreadable_id, wrong_type_id, *others = case.PLANNED_IDS
    path = make_url(sqlite_env.coordination_url).database
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE equipement_pilote_ou_mesure SET equipement_pilote_ou_mesure_type_id = ? "
            "WHERE id = ?",
            ("'; DROP TABLE equipement_pilote_ou_mesure; --", unreadable_id),
        )
        connection.execute(
            "UPDATE equipement_pilote_ou_mesure SET equipement_pilote_ou_mesure_type_id = 999 "
            "WHERE id = ?",
            (wrong_type_id,),
        )
    outcome = sqlite_env.run()
    assert sorted(sqlite_env.results()) == sorted(others)
    assert {d.id for d in outcome.plan.devices} == set(others)
    (entry,) = sqlite_env.run_log()
    assert entry["status"] == "succeeded"
    devices = entry["devices"]
    assert devices["left_out_by_reason"]["row not readable"] == [unreadable_id]
    assert devices["left_out_by_reason"]["type not of its table"] == [wrong_type_id]
    assert {"row not readable", "type not of its table"} <= set(devices["problem_reasons"])
