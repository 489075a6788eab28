"""The housekeeping job: what is past its retention goes, what a round needs stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from acquisition_env import JobsEnv, new_env
from elfe_ems.jobs.housekeeping import job
from elfe_ems.round.job import run_round
from elfe_ems.store import tables

DAY = 86_400
NOW = 1_800_000_000  # on the 900 s grid
METHOD = "elfe-ems"


@pytest.fixture
def env(tmp_path: Path) -> JobsEnv:
    return new_env(tmp_path)


def _result(first_valid: int, device: int, method: str = METHOD) -> dict[str, object]:
    row: dict[str, object] = {
        "first_valid_timestamp": first_valid,
        "machine_id": device,
        "result_type": 0,
        "machine_type": 111,
        "planning_method": method,
    }
    row.update({f"decisions_{k}": 0 for k in range(tables.DECISION_COUNT)})
    return row


def test_forecasts_keep_recent_issues_and_the_latest_issue_a_round_reads(env: JobsEnv) -> None:
    rows = [
        # an issue 40 days old, for a step long past: deleted
        {"source": "persistence", "issue_time": NOW - 40 * DAY, "target_time": NOW - 39 * DAY},
        # an old issue superseded by a later one for the same step: deleted
        {"source": "persistence", "issue_time": NOW - 35 * DAY, "target_time": NOW + 900},
        # an old issue, but still the latest for a step the next round reads: kept
        {"source": "persistence", "issue_time": NOW - 35 * DAY, "target_time": NOW + 1800},
        # a recent issue: kept
        {"source": "persistence", "issue_time": NOW - 3600, "target_time": NOW + 900},
    ]
    env.write(tables.forecast, [r | {"power_w": 1.0} for r in rows])
    summary = job(env.settings(forecast_retention_days=30), NOW)
    kept = [(r["issue_time"], r["target_time"]) for r in env.rows(tables.forecast)]
    assert sorted(kept) == [(NOW - 35 * DAY, NOW + 1800), (NOW - 3600, NOW + 900)]
    assert "2 forecasts" in summary


def test_piloted_devices_power_goes_after_its_retention_not_within_three_days(
    env: JobsEnv,
) -> None:
    env.write(
        tables.flexible_power,
        [
            {"planning_method": METHOD, "step_start": t, "power_w": 1.0, "round_start": t}
            for t in (NOW - 40 * DAY, NOW - 3 * DAY - 900, NOW - 3 * DAY, NOW - 900)
        ],
    )
    env.write(
        tables.device_plan_power,
        [
            {
                "planning_method": METHOD,
                "device_id": 1,
                "round_start": NOW - 3 * DAY - 900,
                "step_s": 900,
                "power_w": [1.0],
            },
            {
                "planning_method": METHOD,
                "device_id": 2,
                "round_start": NOW - 3 * DAY,
                "step_s": 900,
                "power_w": [1.0],
            },
        ],
    )
    summary = job(env.settings(forecast_retention_days=1e-6, plan_retention_days=1e-6), NOW)
    kept = [r["step_start"] for r in env.rows(tables.flexible_power)]
    assert kept == [NOW - 3 * DAY, NOW - 900]
    assert [r["device_id"] for r in env.rows(tables.device_plan_power)] == [2]
    assert "2 piloted devices' power" in summary
    assert "1 device plans" in summary


def test_measurements_keep_the_latest_value_of_each_item(env: JobsEnv) -> None:
    env.write(
        tables.room_temperature,
        [
            {"temperature_item_id": 1, "measured_at": NOW - 60 * DAY, "temp_c": 19.0},
            {"temperature_item_id": 1, "measured_at": NOW - 50 * DAY, "temp_c": 19.5},
            {"temperature_item_id": 2, "measured_at": NOW - 50 * DAY, "temp_c": 20.0},
            {"temperature_item_id": 2, "measured_at": NOW - 60, "temp_c": 20.5},
        ],
    )
    env.write(
        tables.water_heater_energy,
        [
            {"power_item_id": 7, "measured_at": NOW - 45 * DAY, "energy_wh": 3000.0},
            {"power_item_id": 7, "measured_at": NOW - 44 * DAY, "energy_wh": 3100.0},
        ],
    )
    job(env.settings(measurement_retention_days=30), NOW)
    temperatures = [
        (r["temperature_item_id"], r["measured_at"]) for r in env.rows(tables.room_temperature)
    ]
    assert temperatures == [(1, NOW - 50 * DAY), (2, NOW - 60)]
    energies = [r["measured_at"] for r in env.rows(tables.water_heater_energy)]
    assert energies == [NOW - 44 * DAY]


def test_job_runs_go_but_the_latest_success_of_each_job(env: JobsEnv) -> None:
    rows = [
        ("weather", NOW - 50 * DAY, "succeeded"),
        ("weather", NOW - 40 * DAY, "succeeded"),  # its latest success: kept
        ("weather", NOW - 35 * DAY, "failed"),
        ("weather", NOW - 60, "failed"),
        ("cycles", NOW - 45 * DAY, "failed"),
        ("cycles", NOW - 60, "succeeded"),
    ]
    env.write(
        tables.job_run,
        [
            {"job": j, "started_at": t, "finished_at": t + 1, "status": st, "detail": "x"}
            for j, t, st in rows
        ],
    )
    summary = job(env.settings(plan_retention_days=30), NOW)
    assert "3 job runs" in summary
    kept = [(r["job"], r["started_at"], r["status"]) for r in env.rows(tables.job_run)]
    assert kept == [rows[1], rows[3], rows[5]]


def test_superseded_cycles_go_the_current_one_stays(env: JobsEnv) -> None:
    env.write(tables.machine_cycle_settings, [{"power_item_id": 5}])
    env.write(
        tables.machine_cycle_profile,
        [
            {
                "power_item_id": 5,
                "learned_at": NOW - 200 * DAY,
                "cycle_start": NOW - 201 * DAY,
                "profile_w": [100.0],
                "superseded_at": NOW - 100 * DAY,
            },
            {
                "power_item_id": 5,
                "learned_at": NOW - 100 * DAY,
                "cycle_start": NOW - 101 * DAY,
                "profile_w": [200.0],
                "superseded_at": None,
            },
        ],
    )
    job(env.settings(cycle_retention_days=90), NOW)
    assert [r["profile_w"] for r in env.rows(tables.machine_cycle_profile)] == [[200.0]]


def test_plans_of_the_last_three_days_and_of_other_methods_stay(env: JobsEnv) -> None:
    env.write(
        tables.result,
        [
            _result(NOW - 4 * DAY, 1),  # past a one-day retention: deleted
            _result(NOW - 2 * DAY, 1),  # past it too, but a round reads 3 days: kept
            _result(NOW - 4 * DAY, 1, method="other-ems"),  # not ours: kept
        ],
    )
    env.write(
        tables.p_c_with_flexible_consumption,
        [
            {"data_timestamp": NOW - 4 * DAY, "power": 1},
            {"data_timestamp": NOW - DAY, "power": 2},
        ],
    )
    job(env.settings(plan_retention_days=1), NOW)
    kept = [(r["first_valid_timestamp"], r["planning_method"]) for r in env.rows(tables.result)]
    assert sorted(kept) == [(NOW - 4 * DAY, "other-ems"), (NOW - 2 * DAY, METHOD)]
    assert [r["power"] for r in env.rows(tables.p_c_with_flexible_consumption)] == [2]


def test_run_conditions_files_go_by_their_round_start(env: JobsEnv) -> None:
    folder = env.folder / "run-conditions"
    folder.mkdir()
    names = [
        f"{NOW - 20 * DAY}-{METHOD}.scenario.json",
        f"{NOW - 20 * DAY}-{METHOD}.plan.json",
        f"{NOW - 20 * DAY}-{METHOD}.options.json",
        f"{NOW - DAY}-{METHOD}.scenario.json",
        "notes.txt",  # not a round's file: never touched
    ]
    for name in names:
        (folder / name).write_text("{}", encoding="utf-8")
    summary = job(env.settings(run_conditions_retention_days=14), NOW)
    assert sorted(p.name for p in folder.iterdir()) == sorted(names[3:])
    assert "3 run-conditions files" in summary


def test_a_round_still_plans_after_the_harshest_housekeeping(env: JobsEnv) -> None:
    issued = NOW - 3600
    env.write(
        tables.forecast,
        [
            {"source": "persistence", "issue_time": issued, "target_time": t, "power_w": 500.0}
            for t in range(NOW - DAY, NOW + 2 * DAY, 900)
        ],
    )
    settings = env.settings()
    run_round(settings, NOW - 30)
    tiny = 1e-6  # every retention as short as allowed
    job(
        env.settings(
            forecast_retention_days=tiny,
            weather_retention_days=tiny,
            measurement_retention_days=tiny,
            cycle_retention_days=tiny,
            plan_retention_days=tiny,
            run_conditions_retention_days=tiny,
        ),
        NOW + 600,
    )
    assert env.rows(tables.run_log)  # the last 3 days of rounds are kept
    outcome = run_round(settings, NOW + 900 - 30)
    assert outcome.plan.round_start == NOW + 900
    assert outcome.input_ages_s["forecast"] == NOW + 900 - issued
    assert outcome.input_ages_s["forecast_steps_extended"] == 0


def test_nothing_to_delete_says_so(env: JobsEnv) -> None:
    assert job(env.settings(), NOW) == "deleted: nothing"
