"""The same round on SQLite gives the same plan as on PostgreSQL.

The coordination tables are built in an SQLite file from the same DDL file as on PostgreSQL
(``serial``, ``numeric(7, 1)``, ``bool`` and ``real`` are accepted by SQLite as they are; the
dataset gives every id), the store and the output side by side in another SQLite file.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.planner.scenario import read_scenario
from elfe_ems.timegrid.local import local_text


def test_same_plan_as_postgresql(sqlite_env: Any, published: Any, case: Any) -> None:
    outcome = sqlite_env.run()
    reference = published.outcome
    # the same inputs, read from the other databases ...
    assert read_scenario(outcome.scenario_path) == read_scenario(reference.scenario_path)
    assert outcome.input_ages_s == reference.input_ages_s
    assert outcome.issues == reference.issues
    # ... the same decisions per device, and the same rows published
    assert {d.id: d.decisions for d in outcome.plan.devices} == {
        d.id: d.decisions for d in reference.plan.devices
    }
    assert outcome.plan.import_wh == reference.plan.import_wh

    def without_ids(env: Any) -> dict[int, dict[str, Any]]:
        return {i: {k: v for k, v in r.items() if k != "id"} for i, r in env.results().items()}

    assert without_ids(sqlite_env) == without_ids(published.env)
    assert sorted(sqlite_env.results()) == sorted(case.PLANNED_IDS)
    for table in ("p_c_without_flexible_consumption", "p_c_with_flexible_consumption"):
        assert sqlite_env.output(table) == published.env.output(table)
    (info,) = sqlite_env.output("ems_run_info")
    (reference_info,) = published.env.output("ems_run_info")
    assert {k: v for k, v in info.items() if k != "run_time_ms"} == {
        k: v for k, v in reference_info.items() if k != "run_time_ms"
    }
    (entry,) = sqlite_env.run_log()
    assert entry["status"] == "succeeded"
    assert entry["input_ages_s"] == reference.input_ages_s


def test_rerun_on_sqlite_changes_nothing(sqlite_env: Any, case: Any) -> None:
    """One SQLite file for the store and the output: a re-run replaces the round's rows."""
    sqlite_env.run()
    before = sqlite_env.output_snapshot()
    sqlite_env.run()
    after = sqlite_env.output_snapshot()
    varying = {"id", "run_time_ms"}  # a new serial id; the solver's time
    for table, rows in before.items():
        strip = [{k: v for k, v in r.items() if k not in varying} for r in rows]
        assert [{k: v for k, v in r.items() if k not in varying} for r in after[table]] == strip
    assert len(after["result"]) == len(case.HISTORY_ROWS) + len(case.PLANNED_IDS)


def test_cli_run(sqlite_env: Any, case: Any) -> None:
    """``ems run --at`` on SQLite: exit 0, the summary, the rows published."""
    variables = {
        "EMS_COORDINATION_URL": sqlite_env.coordination_url,
        "EMS_STORE_URL": sqlite_env.store_url,
        "EMS_OUTPUT_URL": sqlite_env.output_url,
        "EMS_RUN_CONDITIONS_DIR": str(sqlite_env.run_dir),
        "EMS_PLANNING_METHOD": case.METHOD,
    }
    result = CliRunner().invoke(app, ["run", "--at", str(case.AT)], env=variables)
    assert result.exit_code == 0, result.output
    start = local_text(case.R, ZoneInfo("Europe/Paris"))  # the territory's local time
    assert f"9 plan rows published from round start {start}; 9 device issues" in result.output
    scenario = sqlite_env.run_dir / f"{case.R}-{case.METHOD}.scenario.json"
    assert f"Scenario saved to {scenario}" in result.output
    assert sorted(sqlite_env.results()) == sorted(case.PLANNED_IDS)
