"""A round on PostgreSQL publishes exactly the expected rows, and only those.

The dataset and its expected plan are described in ``conftest.py``: round at ``R`` - 30 s,
``R`` = 2026-10-25 00:00Z, the day the clocks go back in Paris. The ``published`` round is run
once per session; the tests that run rounds again get environments of their own.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from elfe_ems.planner.scenario import read_plan, read_scenario
from elfe_ems.round.job import round_start_after, run_round, solver_budget_s
from elfe_ems.round.replay import read_options
from elfe_ems.store.tables import device_plan_power, flexible_power

THERMAL_MODEL_1 = (0.004570, 2_835_616.0)  # R [K/W], C [J/K], seeded in the store
OUTDOOR_C = 18.0
INITIAL_ROOM_C = 17.0


def test_result_rows_for_planned_devices_only(published: Any, case: Any) -> None:
    rows = published.env.output("result")
    new = [r for r in rows if r["first_valid_timestamp"] == case.R]
    # one row per planned device; none for a manual or disabled device (2, 13, 43), the
    # started machine (3), the resting water heater (10) or a skipped device (12, 21, 23, 31)
    assert sorted(r["machine_id"] for r in new) == sorted(case.PLANNED_IDS)
    plan = {d.id: d for d in published.outcome.plan.devices}
    assert sorted(plan) == sorted(case.PLANNED_IDS)
    for row in new:
        device = row["machine_id"]
        assert row["planning_method"] == case.METHOD
        assert row["result_type"] == (0 if device in case.ONE_SHOT_IDS else 1), device
        assert row["machine_type"] == case.MACHINE_TYPES[device], device
        assert plan[device].status == "planned"
        assert case.decisions_of(row) == plan[device].decisions, device
        assert set(case.decisions_of(row)) <= {0, 1}, device  # never NULL
    # the previous rounds' rows are still there, unchanged
    old = [r for r in rows if r["first_valid_timestamp"] != case.R]
    assert len(old) == len(case.HISTORY_ROWS)
    for row, expected in zip(
        old,
        sorted(case.HISTORY_ROWS, key=lambda r: (r["first_valid_timestamp"], r["machine_id"])),
        strict=True,
    ):
        assert {k: row[k] for k in expected} == expected
    assert published.outcome.rows_published == len(case.PLANNED_IDS)


def test_hand_checked_decisions(published: Any, case: Any) -> None:
    rows = published.env.results()
    for device, start in case.START_STEP.items():  # one-shot devices: 1 at the start only
        assert case.ones(case.decisions_of(rows[device])) == [start], device
    # the water heater's run ends at R + 5 h = 06:00 CET (not CEST): the DST change is applied
    assert case.ones(case.decisions_of(rows[11])) == list(case.WATER_HEATER_RUN)
    # 03:00-04:00 on the DST day is CET: R + 2 h to R + 3 h; 0 % eco: comfort all of it
    assert case.ones(case.decisions_of(rows[41])) == list(case.PILOT_41_COMFORT)
    pilot_40 = case.decisions_of(rows[40])
    in_periods = set()
    for steps, owed in case.PILOT_40_PERIODS:
        in_periods |= set(steps)
        assert sum(pilot_40[k] for k in steps) >= owed
        for first in range(steps.start, steps.stop - 3):  # at most 1 eco step in any hour
            assert sum(pilot_40[first : first + 4]) >= 3, first
    assert set(case.ones(pilot_40)) <= in_periods  # eco outside its comfort periods


def test_thermostatic_heater_holds_its_band(published: Any, case: Any) -> None:
    """The published decisions of heater 30, simulated with its 1R1C model, keep the room in
    its band: comfort 19.95 +- 1.5 °C when a step ends between 08:00 and 23:00 CET on
    Sunday (R + 7 h to R + 22 h), eco 17.95 +- 1.5 °C elsewhere."""
    decisions = case.decisions_of(published.env.results()[30])
    r_k_per_w, c_j_per_k = THERMAL_MODEL_1
    a = math.exp(-case.STEP / (r_k_per_w * c_j_per_k))
    temp = INITIAL_ROOM_C
    for k, heat in enumerate(decisions):
        temp = a * temp + (1 - a) * (OUTDOOR_C + r_k_per_w * 2500 * heat)
        end = case.R + case.STEP * (k + 1)
        centre = 19.95 if case.R + 7 * case.H <= end < case.R + 22 * case.H else 17.95
        assert centre - 1.5 - 1e-5 <= temp <= centre + 1.5 + 1e-5, k


def test_first_valid_timestamp_is_the_next_quarter_hour(published: Any, case: Any) -> None:
    assert {r["first_valid_timestamp"] for r in published.env.results().values()} == {case.R}
    assert published.outcome.plan.round_start == case.R
    # a round at 14:14:30 publishes from 14:15:00; one exactly at 14:15:00 too (the daemon's
    # pass at 14:15:05 applies column 0), never from 14:30
    for at, start in (
        (case.R - 899.5, case.R),
        (case.R - 30, case.R),
        (case.R - 0.001, case.R),
        (case.R, case.R),
        (case.R + 0.5, case.R + 900),
        (case.R + 899, case.R + 900),
    ):
        assert round_start_after(at) == start, at


def test_curves(published: Any, case: Any) -> None:
    """96 rows each: production - consumption, i.e. -net load, before and after placing."""
    env, plan = published.env, published.outcome.plan
    times = [case.R + case.STEP * k for k in range(case.STEPS)]
    before = env.output("p_c_without_flexible_consumption")
    assert [r["data_timestamp"] for r in before] == times
    assert [r["power"] for r in before] == [round(case.surplus_w(k)) for k in range(96)]
    after = env.output("p_c_with_flexible_consumption")
    assert [r["data_timestamp"] for r in after] == times
    for k, row in enumerate(after):
        flexible_w = sum(d.power_w[k] for d in plan.devices)
        assert abs(row["power"] - (case.surplus_w(k) - flexible_w)) <= 0.5 + 1e-6, k
        assert row["power"] == round(-plan.net_load_with_flexible_w[k])


def test_flexible_power_recorded(published: Any, case: Any) -> None:
    """The planned devices' power per step, what the forecasts add back to the measured
    balance, and each planned device's plan."""
    env, plan = published.env, published.outcome.plan
    recorded = env.store_rows(flexible_power)
    assert [r["step_start"] for r in recorded] == [case.R + case.STEP * k for k in range(96)]
    assert {r["round_start"] for r in recorded} == {case.R}
    for k, row in enumerate(recorded):
        assert row["power_w"] == pytest.approx(sum(d.power_w[k] for d in plan.devices)), k
    kept = {r["device_id"]: r for r in env.store_rows(device_plan_power)}
    assert sorted(kept) == sorted(case.PLANNED_IDS)
    assert kept[11]["power_w"] == pytest.approx({d.id: d for d in plan.devices}[11].power_w)


def test_run_info(published: Any, case: Any) -> None:
    plan = published.outcome.plan
    (info,) = published.env.output("ems_run_info")
    assert info["timestamp"] == case.R
    assert info["run_time_ms"] == round(plan.solver.solve_ms)
    assert info["consumer_count"] == len(case.PLANNED_IDS)
    surplus_after = [-w for w in plan.net_load_with_flexible_w]
    means = [sum(surplus_after[4 * h : 4 * h + 4]) / 4 for h in range(24)]
    for which, extreme in (("min", min), ("max", max)):
        hour_start = info[f"conso_{which}_hour_timestamp"]
        assert (hour_start - case.R) % 3600 == 0
        assert case.R <= hour_start < case.R + 24 * 3600
        assert info[f"conso_{which}_hour"] == round(extreme(means))
        assert round(means[(hour_start - case.R) // 3600]) == round(extreme(means))


def test_run_log(published: Any, case: Any) -> None:
    outcome = published.outcome
    (entry,) = published.env.run_log()
    assert entry["status"] == "succeeded"
    assert entry["round_start"] == case.R
    assert entry["planning_method"] == case.METHOD
    assert entry["error"] is None
    assert entry["started_at"] <= entry["finished_at"]
    assert entry["solver_status"] == outcome.plan.solver.status == "optimal"
    assert entry["import_wh"] == pytest.approx(outcome.plan.import_wh)
    assert entry["import_wh_asap"] == pytest.approx(outcome.plan.import_wh_asap)
    assert entry["devices_planned"] == len(case.PLANNED_IDS)
    assert entry["devices_skipped"] == 0
    assert entry["scenario_path"] == str(outcome.scenario_path)
    assert entry["input_ages_s"] == {
        "forecast": case.H,  # the latest issue, at R - 1 h
        "forecast_steps_extended": 0,
        "weather": 1800,
        "water_heater_energy": 600,
        "room_temperature": 300,
        "learned_cycles": 5 * case.H,  # the current profiles; the superseded one is older
    }
    assert outcome.input_ages_s == entry["input_ages_s"]


def test_scenario_and_plan_files(published: Any, case: Any) -> None:
    folder = published.env.run_dir
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{case.R}-{case.METHOD}.options.json",
        f"{case.R}-{case.METHOD}.plan.json",
        f"{case.R}-{case.METHOD}.scenario.json",
    ]
    scenario = read_scenario(folder / f"{case.R}-{case.METHOD}.scenario.json")
    assert published.outcome.scenario_path == folder / f"{case.R}-{case.METHOD}.scenario.json"
    assert (scenario.round_start, scenario.step_s, scenario.steps) == (case.R, 900, 96)
    assert scenario.net_load_w == [-case.surplus_w(k) for k in range(96)]
    assert scenario.outdoor_temp_c == [OUTDOOR_C] * 96
    assert [d.id for d in scenario.devices] == sorted(case.PLANNED_IDS)
    machine_1 = next(d for d in scenario.devices if d.id == 1)
    assert machine_1.profile_w == [1000.0, 2000.0, 500.0]  # the current learned cycle
    water_heater = next(d for d in scenario.devices if d.id == 11)
    assert water_heater.energy_wh == 3000.0  # the latest measure
    heater = next(d for d in scenario.devices if d.id == 30)
    assert heater.initial_temp_c == INITIAL_ROOM_C  # not the later measure
    plan = read_plan(folder / f"{case.R}-{case.METHOD}.plan.json")
    assert plan == published.outcome.plan


def test_device_issues_are_logged(published: Any) -> None:
    issues = published.outcome.issues
    for tag, device in (
        ("[WARN_DATABASE]", 4),  # NULL wanted end, no cycle row
        ("[WARN_DATABASE]", 5),  # negative wait
        ("[WARN_IMPOSSIBLE]", 12),  # negative power
        ("[WARN_DATABASE]", 21),  # NULL power
        ("[WARN_IMPOSSIBLE]", 23),  # negative capacity
        ("[WARN_IMPOSSIBLE]", 31),  # unknown thermal model
        ("[WARN_DATABASE]", 41),  # NULL pourcentage_eco_force
    ):
        line = next(i for i in issues if i.startswith(f"{tag} device {device} "))
        # alone of its kind: its own line, with what to do; else in its kind's line
        assert any(
            w.startswith(line) or (w.startswith(tag) and f" {device}" in w.split("(")[-1])
            for w in published.warnings
        ), line
    assert not [w for w in published.warnings if "forecast" in w]


def test_rerun_changes_nothing(pg_env: Any, case: Any) -> None:
    env = pg_env()
    first = env.run()
    before = env.output_snapshot()
    again = env.run()
    after = env.output_snapshot()
    assert again.plan == first.plan.model_copy(update={"solver": again.plan.solver})
    for table in ("p_c_without_flexible_consumption", "p_c_with_flexible_consumption"):
        assert after[table] == before[table]
    assert len(after["ems_run_info"]) == 1
    assert _without_ids(after["result"]) == _without_ids(before["result"])  # no duplicates
    assert len(after["result"]) == len(case.HISTORY_ROWS) + len(case.PLANNED_IDS)
    assert [e["status"] for e in env.run_log()] == ["succeeded", "succeeded"]


def test_two_methods_side_by_side(pg_env: Any, case: Any) -> None:
    env = pg_env()
    env.run("ems-a")
    rows_a = [r for r in env.output("result") if r["planning_method"] == "ems-a"]
    env.run("ems-b")
    after_b = env.output("result")
    assert [r for r in after_b if r["planning_method"] == "ems-a"] == rows_a  # ids included
    # method B has no previous row: it does not know that A's plan started machine 3
    assert sorted(env.results("ems-b")) == sorted((*case.PLANNED_IDS, 3))
    rows_b = [r for r in after_b if r["planning_method"] == "ems-b"]
    env.run("ems-a")  # A again: B's rows stay, A's are replaced, not duplicated
    final = env.output("result")
    assert [r for r in final if r["planning_method"] == "ems-b"] == rows_b
    assert _without_ids([r for r in final if r["planning_method"] == "ems-a"]) == _without_ids(
        rows_a
    )


def _without_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def test_solver_budget_leaves_time_to_publish_before_the_daemon() -> None:
    quarter = 1_792_886_400  # a quarter hour
    # a round at :14:30 publishes before the daemon's pass at :15:05: 35 s - 15 s margin
    assert solver_budget_s(60.0, quarter, quarter - 30) == 20.0
    assert solver_budget_s(10.0, quarter, quarter - 30) == 10.0  # the configured limit
    assert solver_budget_s(60.0, quarter, quarter - 300) == 60.0
    assert solver_budget_s(60.0, quarter, quarter) == 5.0  # run late by hand: the minimum
    # a limit below the minimum stays the limit, late or not (it once became 5 s)
    assert solver_budget_s(0.1, quarter, quarter - 30) == 0.1
    assert solver_budget_s(1.0, quarter, quarter) == 1.0


def test_a_short_time_limit_is_the_round_budget(pg_env: Any, case: Any) -> None:
    """A configured limit below the late-run minimum stays the limit, and the step says so
    as it is (it once read "time limit 0 s"); the round publishes every planned device."""
    env = pg_env()
    settings = env.settings().model_copy(update={"time_limit_s": 0.1})
    steps: list[str] = []
    outcome = run_round(settings, case.AT, steps.append)
    assert "planning (time limit 0.1 s)" in steps
    options = read_options(outcome.scenario_path)
    assert options is not None
    assert options.time_limit_s == 0.1  # the solver's budget, saved for replays
    assert sorted(env.results()) == sorted(case.PLANNED_IDS)
