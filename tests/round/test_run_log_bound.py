"""The round records the plan's lower bound and gap in the store's run log (SQLite here; the
migration itself is checked on PostgreSQL and SQLite by tests/store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from elfe_ems.db.engine import make_engine
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import parse_scenario
from elfe_ems.round import job as round_module
from elfe_ems.store import migrate
from elfe_ems.store.tables import run_log
from elfe_ems.timegrid import Grid


def test_run_log_holds_the_lower_bound(tmp_path: Path, ems: Any) -> None:
    raw = ems.scenario(
        [800.0, -1200.0, -1200.0, 900.0],
        [
            {
                "id": 1,
                "type": "machine",
                "profile_w": [1000.0, 500.0],
                "earliest_start": ems.at(0),
                "latest_end": ems.at(4),
            }
        ],
    )
    plan, stats = solve(parse_scenario(raw), SolveOptions(time_limit_s=5))
    assert plan.solver.lower_bound_wh is not None
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    try:
        migrate.upgrade(engine, "store")
        grid = Grid(plan.round_start, plan.step_s, plan.steps)
        run_id = round_module._log_start(engine, grid, "elfe-ems")
        outcome = round_module.RoundOutcome(plan, stats, 1, tmp_path / "s.json", {})
        round_module._log_success(engine, run_id, outcome, "elfe-ems")
        with engine.connect() as connection:
            entry = connection.execute(select(run_log)).mappings().one()
    finally:
        engine.dispose()
    assert entry["lower_bound_wh"] == pytest.approx(plan.solver.lower_bound_wh)
    assert entry["gap"] == pytest.approx(plan.solver.gap)
    assert entry["lower_bound_wh"] <= entry["import_wh"]
