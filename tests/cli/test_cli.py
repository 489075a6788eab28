"""The ``ems solve`` command: exit codes, messages, plan file and summary.

The scenario used for the successful runs is worked out by hand: net load
[1000, -2000, 1000, 1000] W and one 1-step machine at 1000 W allowed anywhere. Without EMS it
starts at step 0: loads 2000, -2000, 1000, 1000 -> import (2000 + 1000 + 1000) * 0.25 h =
1000 Wh. With EMS it starts in the surplus at step 1: loads 1000, -1000, 1000, 1000 -> import
750 Wh. Saved: 250 Wh, 25.0 %.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.planner.scenario import ScenarioError, read_plan, read_scenario

EMS = Path(sys.executable).with_name("ems")  # the console script of this environment


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def valid(ems: Any) -> dict[str, Any]:
    return ems.scenario(
        [1000.0, -2000.0, 1000.0, 1000.0],
        [
            {
                "id": 1,
                "type": "machine",
                "profile_w": [1000.0],
                "earliest_start": ems.at(0),
                "latest_end": ems.at(4),
            }
        ],
    )


@pytest.fixture
def invalid(ems: Any) -> dict[str, Any]:
    """Two device problems, each reported on one short line (under 80 characters)."""
    return ems.scenario(
        [0.0, 0.0, 0.0, 0.0],
        [
            {"id": 1, "type": "machine", "earliest_start": ems.at(0), "latest_end": ems.at(4)},
            {
                "id": 3,
                "type": "ev",
                "power_w": 4000.0,
                "capacity_wh": 10000.0,
                "soc_pct": 120.0,
                "target_soc_pct": 80.0,
                "available_from": ems.at(0),
                "deadline": ems.at(4),
            },
        ],
    )


def squeezed(text: str) -> str:
    """``text`` without any whitespace (to find text that a console may have wrapped)."""
    return "".join(text.split())


def problems_of(path: Path) -> list[str]:
    """The problem lines that the library reports for the scenario file at ``path``."""
    with pytest.raises(ScenarioError) as caught:
        read_scenario(path)
    return str(caught.value).splitlines()[1:]


def test_valid_scenario_default_plan_name(
    ems: Any, runner: CliRunner, valid: dict[str, Any], tmp_path: Path
) -> None:
    scenario = ems.write(tmp_path / "round.json", valid)
    result = runner.invoke(app, ["solve", str(scenario)])
    assert result.exit_code == 0, result.output
    plan_path = tmp_path / "round.plan.json"  # SCENARIO.plan.json next to the scenario
    plan = read_plan(plan_path)
    assert plan.devices[0].decisions == [0, 1, 0, 0]
    assert plan.import_wh == pytest.approx(750.0)
    assert plan.import_wh_asap == pytest.approx(1000.0)
    out = result.stdout
    assert "Import with EMS: 0.75 kWh" in out
    assert "without EMS: 1.00 kWh" in out
    assert "saved 0.25 kWh (25.0%)" in out
    assert "Solver: optimal, lower bound 0.75 kWh, gap 0.00e+00" in out
    assert plan.solver.lower_bound_wh == pytest.approx(750.0)
    assert squeezed(f"Plan written to {plan_path}") in squeezed(out)
    assert "Traceback" not in result.output
    # where the 0.25 kWh come from: the machine moved into the surplus
    assert "Import avoided, explained" in out
    assert squeezed("│ machine │ 0.25 │ 0.00 │ 0.25 │ │") in squeezed(out)
    assert squeezed("0.25 kWh by moving consumption to better hours") in squeezed(out)
    assert squeezed("Machines: 0.25 kWh avoided by their new hours.") in squeezed(out)


def test_output_option(ems: Any, runner: CliRunner, valid: dict[str, Any], tmp_path: Path) -> None:
    scenario = ems.write(tmp_path / "round.json", valid)
    target = tmp_path / "elsewhere.json"
    result = runner.invoke(app, ["solve", str(scenario), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert read_plan(target).devices[0].decisions == [0, 1, 0, 0]
    assert not (tmp_path / "round.plan.json").exists()
    assert squeezed(f"Plan written to {target}") in squeezed(result.stdout)


def test_time_limit_and_gap_accepted(
    ems: Any, runner: CliRunner, valid: dict[str, Any], tmp_path: Path
) -> None:
    scenario = ems.write(tmp_path / "round.json", valid)
    target = tmp_path / "p.json"
    result = runner.invoke(
        app, ["solve", str(scenario), "--time-limit", "5", "--gap", "0.01", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    plan = read_plan(target)
    assert plan.devices[0].decisions == [0, 1, 0, 0]  # a 1-step machine: exact at any gap
    assert plan.solver.status in {"optimal", "feasible"}


def test_bad_time_limit_is_a_usage_error(
    ems: Any, runner: CliRunner, valid: dict[str, Any], tmp_path: Path
) -> None:
    scenario = ems.write(tmp_path / "round.json", valid)
    result = runner.invoke(app, ["solve", str(scenario), "--time-limit", "0"])
    assert result.exit_code == 2
    assert not (tmp_path / "round.plan.json").exists()


def test_unwritable_output_exit_1(
    ems: Any, runner: CliRunner, valid: dict[str, Any], tmp_path: Path
) -> None:
    scenario = ems.write(tmp_path / "round.json", valid)
    target = tmp_path / "no-such-dir" / "p.json"
    result = runner.invoke(app, ["solve", str(scenario), "-o", str(target)])
    assert result.exit_code == 1
    assert "cannot be written" in result.stderr
    assert "Traceback" not in result.output


def test_invalid_scenario_exit_2_one_line_per_problem(
    ems: Any, runner: CliRunner, invalid: dict[str, Any], tmp_path: Path
) -> None:
    scenario = ems.write(tmp_path / "bad.json", invalid)
    result = runner.invoke(app, ["solve", str(scenario)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stdout == ""  # the message goes to standard error
    assert not (tmp_path / "bad.plan.json").exists()
    err = result.stderr
    assert err.startswith("error:")
    assert squeezed(f"error: {scenario}:") in squeezed(err)
    problems = problems_of(scenario)
    assert len(problems) == 2
    assert [p.split(",")[0] for p in problems] == ["device 1 (machine)", "device 3 (ev)"]
    err_lines = [line.strip() for line in err.splitlines()]
    for problem in problems:
        assert problem in err_lines  # each problem whole, on a line of its own


def test_long_problem_line_is_not_wrapped(
    ems: Any, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an 80-column console (the default when the output is not a terminal) must still get one
    # problem per line: the line below is 95 characters long
    monkeypatch.setenv("COLUMNS", "80")
    raw = ems.scenario(
        [0.0, 0.0],
        [
            {
                "id": 4,
                "type": "thermostatic_heater",
                "power_w": 1000.0,
                "r_k_per_w": 0.01,
                "c_j_per_k": 1.0e6,
                "initial_temp_c": 20.0,
                "comfort_min_c": [19.0, 19.0],
                "comfort_max_c": [22.0, 22.0],
            }
        ],
    )
    scenario = ems.write(tmp_path / "bad.json", raw)
    result = runner.invoke(app, ["solve", str(scenario)])
    assert result.exit_code == 2
    problem = (
        "device 4 (thermostatic_heater): outdoor_temp_c is required when a thermostatic "
        "heater is present"
    )
    assert problems_of(scenario) == [problem]
    assert problem in [line.strip() for line in result.stderr.splitlines()]


def test_missing_file_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    absent = tmp_path / "absent.json"
    result = runner.invoke(app, ["solve", str(absent)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert squeezed(f"{absent}: cannot be read") in squeezed(result.stderr)


def test_path_with_brackets_is_printed_verbatim(
    ems: Any, runner: CliRunner, invalid: dict[str, Any], tmp_path: Path
) -> None:
    # a path is data, not console markup: "[site a]" must appear as it is
    folder = tmp_path / "[site a]"
    folder.mkdir()
    scenario = ems.write(folder / "bad.json", invalid)
    result = runner.invoke(app, ["solve", str(scenario)])
    assert result.exit_code == 2
    assert squeezed(f"error: {scenario}:") in squeezed(result.stderr)


def test_relaxations_logged_with_tag_unless_quiet(
    ems: Any, runner: CliRunner, valid: dict[str, Any], tmp_path: Path
) -> None:
    # a second machine whose earliest start is after the 4-step horizon: skipped, [WARN_IGNORED]
    raw = dict(valid)
    late = dict(raw["devices"][0], id=9, earliest_start=ems.at(4), latest_end=ems.at(6))
    raw["devices"] = [*raw["devices"], late]
    scenario = ems.write(tmp_path / "round.json", raw)
    result = runner.invoke(app, ["solve", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "[WARN_IGNORED] device 9 (machine): skipped" in result.stderr
    assert read_plan(tmp_path / "round.plan.json").devices[1].status == "skipped"
    quiet = runner.invoke(app, ["--quiet", "solve", str(scenario)])
    assert quiet.exit_code == 0, quiet.output
    assert "WARN_IGNORED" not in quiet.stderr


# ---------------------------------------------------------------------------------------------
# The installed console script, in a real process (one run: starting one costs seconds)


def _run_ems(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run(
        [str(EMS), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
        check=False,
    )


def test_console_script_solves(ems: Any, valid: dict[str, Any], tmp_path: Path) -> None:
    assert EMS.exists(), EMS
    scenario = ems.write(tmp_path / "round.json", valid)
    done = _run_ems("solve", str(scenario), "--time-limit", "10", "--gap", "0")
    assert done.returncode == 0, done.stderr
    assert read_plan(tmp_path / "round.plan.json").devices[0].decisions == [0, 1, 0, 0]
    assert "Import with EMS: 0.75 kWh" in done.stdout
    assert "without EMS: 1.00 kWh" in done.stdout
    assert "Solver: optimal" in done.stdout
    assert "Traceback" not in done.stderr
