"""Scenario and plan files: validation messages, read-back and the plan round-trip.

Every invalid scenario must raise ScenarioError with one line per problem, each naming the
device (``device <id> (<type>)``) and the field at fault (docs: scenario.py, docs/spec/scenario.md).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from elfe_ems.planner.scenario import (
    PLAN_FORMAT,
    MachineSpec,
    PilotWireHeaterSpec,
    Scenario,
    ScenarioError,
    ThermostaticHeaterSpec,
    parse_scenario,
    read_plan,
    read_scenario,
    write_model,
)


@pytest.fixture
def valid(ems: Any) -> dict[str, Any]:
    """A valid 4-step scenario with one device of each type (ids 1 to 5)."""
    return ems.scenario(
        [500.0, -1500.0, -1500.0, 500.0],
        [
            {
                "id": 1,
                "type": "machine",
                "machine_type": 7,
                "profile_w": [1000.0, 1000.0],
                "earliest_start": ems.at(0),
                "latest_end": ems.at(4),
            },
            {
                "id": 2,
                "type": "water_heater",
                "power_w": 2000.0,
                "energy_wh": 500.0,
                "windows": [[ems.at(0), ems.at(4)]],
            },
            {
                "id": 3,
                "type": "ev",
                "power_w": 4000.0,
                "capacity_wh": 10000.0,
                "soc_pct": 50.0,
                "target_soc_pct": 60.0,
                "available_from": ems.at(0),
                "deadline": ems.at(4),
            },
            {
                "id": 4,
                "type": "pilot_wire_heater",
                "eco_power_w": 100.0,
                "comfort_power_w": 1000.0,
                "comfort_periods": [{"start": ems.at(1), "end": ems.at(3), "min_comfort_steps": 1}],
            },
            {
                "id": 5,
                "type": "thermostatic_heater",
                "power_w": 2000.0,
                "r_k_per_w": 0.01,
                "c_j_per_k": 1.0e6,
                "initial_temp_c": 20.0,
                "comfort_min_c": [19.0, 19.0, 19.0, 19.0],
                "comfort_max_c": [23.0, 23.0, 23.0, 23.0],
            },
        ],
        outdoor_temp_c=[5.0, 5.0, 5.0, 5.0],
    )


def problem_lines(raw: Any) -> list[str]:
    """The problem lines of the ScenarioError raised for ``raw`` (after the source line)."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(raw)
    source, *lines = str(caught.value).splitlines()
    assert source == "scenario:"
    return lines


# ---------------------------------------------------------------------------------------------
# Valid files


def test_valid_file_reads_back(ems: Any, valid: dict[str, Any], tmp_path: Path) -> None:
    scenario = read_scenario(ems.write(tmp_path / "s.json", valid))
    assert scenario.round_start == ems.round_start
    assert scenario.step_s == 900
    assert scenario.steps == 4
    assert scenario.net_load_w == [500.0, -1500.0, -1500.0, 500.0]
    assert scenario.outdoor_temp_c == [5.0, 5.0, 5.0, 5.0]
    assert [(d.id, d.type) for d in scenario.devices] == [
        (1, "machine"),
        (2, "water_heater"),
        (3, "ev"),
        (4, "pilot_wire_heater"),
        (5, "thermostatic_heater"),
    ]
    machine, water_heater, _ev, pilot, thermostatic = scenario.devices
    assert isinstance(machine, MachineSpec)
    assert machine.machine_type == 7
    assert machine.latest_end == ems.at(4)
    assert water_heater.machine_type is None  # optional, absent
    assert water_heater.windows == [(ems.at(0), ems.at(4))]
    assert isinstance(pilot, PilotWireHeaterSpec)
    assert (pilot.window_steps, pilot.min_comfort_in_window) == (4, 3)  # documented defaults
    assert pilot.comfort_periods[0].min_comfort_steps == 1
    assert isinstance(thermostatic, ThermostaticHeaterSpec)
    assert thermostatic.comfort_max_c == [23.0] * 4


def test_defaults_step_and_horizon(ems: Any) -> None:
    # step_s defaults to 900 s and steps to 96 (one day of quarter-hours)
    raw = {"round_start": ems.round_start, "net_load_w": [0.0] * 96, "devices": []}
    scenario = parse_scenario(raw)
    assert (scenario.format, scenario.step_s, scenario.steps) == ("elfe-ems.scenario/1", 900, 96)


def test_scenario_write_read_round_trip(valid: dict[str, Any], tmp_path: Path) -> None:
    scenario = parse_scenario(valid)
    path = tmp_path / "copy.json"
    write_model(scenario, path)
    assert read_scenario(path) == scenario
    assert [p.name for p in tmp_path.iterdir()] == ["copy.json"]  # no temporary file left


def test_plan_write_read_round_trip(ems: Any, valid: dict[str, Any], tmp_path: Path) -> None:
    plan = ems.plan(valid)
    path = tmp_path / "s.plan.json"
    write_model(plan, path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == PLAN_FORMAT
    back = read_plan(path)
    assert back == plan
    assert [d.id for d in back.devices] == [1, 2, 3, 4, 5]
    assert back.devices[0].machine_type == 7  # copied from the scenario
    assert [p.name for p in tmp_path.iterdir()] == ["s.plan.json"]


def test_read_plan_rejects_a_scenario(ems: Any, valid: dict[str, Any], tmp_path: Path) -> None:
    path = ems.write(tmp_path / "s.json", valid)
    with pytest.raises(ScenarioError) as caught:
        read_plan(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert "import_wh" in message  # a plan field the scenario lacks


# ---------------------------------------------------------------------------------------------
# Invalid scenarios: each names the device and the field


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        *parents, last = path
        target = raw
        for key in parents:
            target = target[key]
        target[last] = value

    return change


def _delete(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(raw: dict[str, Any]) -> None:
        *parents, last = path
        target = raw
        for key in parents:
            target = target[key]
        del target[last]

    return change


T0 = 1_700_001_000  # the fixtures' round start (conftest.ROUND_START), for the cases below

INVALID_CASES = [
    pytest.param(
        _delete(("devices", 0, "profile_w")),
        ["device 1 (machine)", "profile_w", "required"],
        id="missing-machine-profile",
    ),
    pytest.param(
        _delete(("devices", 1, "energy_wh")),
        ["device 2 (water_heater)", "energy_wh", "required"],
        id="missing-water-heater-energy",
    ),
    pytest.param(
        _delete(("devices", 2, "deadline")),
        ["device 3 (ev)", "deadline", "required"],
        id="missing-ev-deadline",
    ),
    pytest.param(_delete(("net_load_w",)), ["net_load_w", "required"], id="missing-net-load"),
    pytest.param(
        _set(("net_load_w",), [0.0, 0.0, 0.0]),
        ["net_load_w", "3 values", "expected 4"],
        id="net-load-length",
    ),
    pytest.param(
        _set(("outdoor_temp_c",), [5.0] * 5),
        ["outdoor_temp_c", "5 values", "expected 4"],
        id="outdoor-length",
    ),
    pytest.param(
        _set(("devices", 4, "comfort_min_c"), [19.0, 19.0, 19.0]),
        ["device 5 (thermostatic_heater)", "comfort_min_c", "3 values", "expected 4"],
        id="comfort-min-length",
    ),
    pytest.param(
        _set(("devices", 1, "power_w"), -1.0),
        ["device 2 (water_heater)", "power_w", "greater than or equal to 0"],
        id="negative-power",
    ),
    pytest.param(
        _set(("devices", 1, "energy_wh"), -100.0),
        ["device 2 (water_heater)", "energy_wh", "greater than or equal to 0"],
        id="negative-energy",
    ),
    pytest.param(
        _set(("devices", 0, "profile_w"), [1000.0, -5.0]),
        ["device 1 (machine)", "profile_w[1]", "greater than or equal to 0"],
        id="negative-profile-step",
    ),
    pytest.param(
        _set(("devices", 2, "capacity_wh"), -1.0),
        ["device 3 (ev)", "capacity_wh"],
        id="negative-capacity",
    ),
    pytest.param(
        _set(("devices", 3, "eco_power_w"), -100.0),
        ["device 4 (pilot_wire_heater)", "eco_power_w"],
        id="negative-eco-power",
    ),
    pytest.param(
        _set(("devices", 2, "soc_pct"), 120.0),
        ["device 3 (ev)", "soc_pct", "less than or equal to 100"],
        id="soc-above-100",
    ),
    pytest.param(
        _set(("devices", 0, "latest_end"), T0 - 900),
        ["device 1 (machine)", "latest_end", "before earliest_start"],
        id="machine-end-before-start",
    ),
    pytest.param(
        _set(("devices", 1, "windows"), [[T0, T0 + 3600], [T0 + 1800, T0 + 900]]),
        ["device 2 (water_heater)", "windows", "windows[1] end", "before windows[1] start"],
        id="water-heater-window-reversed",
    ),
    pytest.param(
        _set(("devices", 3, "comfort_periods", 0, "end"), T0),
        ["device 4 (pilot_wire_heater)", "comfort_periods[0]", "end", "before start"],
        id="comfort-period-reversed",
    ),
    pytest.param(
        _set(("devices", 0, "type"), "heat_pump"),
        ["device 1 (heat_pump)", "type"],
        id="unknown-type",
    ),
    pytest.param(
        _set(("devices", 1, "id"), 1),
        ["device 1", "id", "more than one device"],
        id="duplicate-id",
    ),
    pytest.param(
        _set(("round_start",), T0 + 60),
        ["round_start", str(T0 + 60), "step grid"],
        id="round-start-off-grid",
    ),
    pytest.param(
        _delete(("outdoor_temp_c",)),
        ["device 5 (thermostatic_heater)", "outdoor_temp_c", "required"],
        id="thermostatic-without-outdoor",
    ),
    pytest.param(
        _set(("devices", 4, "comfort_max_c"), [23.0, 23.0, 18.5, 23.0]),
        ["device 5 (thermostatic_heater)", "comfort_max_c[2]", "below comfort_min_c[2]"],
        id="comfort-max-below-min",
    ),
    pytest.param(
        _set(("devices", 4, "r_k_per_w"), 0.0),
        ["device 5 (thermostatic_heater)", "r_k_per_w", "greater than 0"],
        id="zero-resistance",
    ),
    pytest.param(
        _set(("devices", 3, "min_comfort_in_window"), 5),
        ["device 4 (pilot_wire_heater)", "min_comfort_in_window", "window_steps"],
        id="window-rule-impossible",
    ),
    pytest.param(
        _set(("devices", 0, "colour"), "red"),
        ["device 1 (machine)", "colour"],
        id="unknown-field",
    ),
    pytest.param(_set(("format",), "elfe-ems.scenario/2"), ["format"], id="unknown-format-version"),
]


@pytest.mark.parametrize(("change", "expected"), INVALID_CASES)
def test_invalid_scenario_names_device_and_field(
    valid: dict[str, Any], change: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    raw = copy.deepcopy(valid)
    change(raw)
    lines = problem_lines(raw)
    assert len(lines) == 1, lines  # one problem, one line
    for text in expected:
        assert text in lines[0]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(("net_load_w", 2), ["net_load_w[2]", "finite"], id="net-load"),
        pytest.param(("devices", 1, "power_w"), ["device 2 (water_heater)", "power_w"], id="power"),
        pytest.param(
            ("devices", 4, "comfort_min_c", 1),
            ["device 5 (thermostatic_heater)", "comfort_min_c[1]"],
            id="comfort-min",
        ),
        pytest.param(
            ("devices", 0, "profile_w", 0), ["device 1 (machine)", "profile_w[0]"], id="profile"
        ),
    ],
)
def test_json_nan_is_rejected_by_name(
    ems: Any, valid: dict[str, Any], tmp_path: Path, path: tuple[Any, ...], expected: list[str]
) -> None:
    raw = copy.deepcopy(valid)
    _set(path, math.nan)(raw)
    file = ems.write(tmp_path / "nan.json", raw)
    assert "NaN" in file.read_text(encoding="utf-8")  # the JSON extension, as json.dumps writes
    with pytest.raises(ScenarioError) as caught:
        read_scenario(file)
    source, *lines = str(caught.value).splitlines()
    assert source == f"{file}:"
    assert len(lines) == 1, lines
    for text in expected:
        assert text in lines[0]


def test_infinity_is_rejected(ems: Any, valid: dict[str, Any], tmp_path: Path) -> None:
    raw = copy.deepcopy(valid)
    raw["devices"][2]["power_w"] = math.inf
    with pytest.raises(ScenarioError, match=r"device 3 \(ev\), field power_w"):
        read_scenario(ems.write(tmp_path / "inf.json", raw))


def test_one_line_per_device_problem(valid: dict[str, Any]) -> None:
    raw = copy.deepcopy(valid)
    del raw["devices"][0]["profile_w"]
    raw["devices"][1]["power_w"] = -1.0
    lines = problem_lines(raw)
    assert len(lines) == 2, lines
    (machine_line,) = [line for line in lines if line.startswith("device 1 (machine)")]
    assert "profile_w" in machine_line
    (heater_line,) = [line for line in lines if line.startswith("device 2 (water_heater)")]
    assert "power_w" in heater_line


def test_one_line_per_scenario_wide_problem(valid: dict[str, Any]) -> None:
    # three problems found by the scenario-wide check: each must have its own line
    raw = copy.deepcopy(valid)
    raw["round_start"] += 60
    raw["net_load_w"] = [0.0, 0.0, 0.0]
    del raw["outdoor_temp_c"]
    lines = problem_lines(raw)
    assert len(lines) == 3, lines
    assert sum("round_start" in line for line in lines) == 1
    assert sum("net_load_w has 3 values" in line for line in lines) == 1
    assert sum("device 5 (thermostatic_heater)" in line for line in lines) == 1


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(ScenarioError, match="cannot be read") as caught:
        read_scenario(path)
    assert str(path) in str(caught.value)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"round_start": 1700001000,\n  "steps": }', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"not valid JSON \(line 2"):
        read_scenario(path)


def test_scenario_is_immutable(valid: dict[str, Any]) -> None:
    scenario = parse_scenario(valid)
    assert isinstance(scenario, Scenario)
    with pytest.raises(ValueError, match="frozen"):
        scenario.steps = 5  # type: ignore[misc]


def test_scenario_without_devices_solves(ems: Any) -> None:
    # nothing to place: the import is the net load's, (1000 + 0 + 0 + 200) W * 0.25 h
    plan = ems.plan(ems.scenario([1000.0, -500.0, 0.0, 200.0]))
    assert plan.devices == []
    assert plan.import_wh == pytest.approx(300.0)
    assert plan.import_wh_asap == pytest.approx(300.0)
    assert plan.net_load_with_flexible_w == [1000.0, -500.0, 0.0, 200.0]
