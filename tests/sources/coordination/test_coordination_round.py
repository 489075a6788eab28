"""From the coordination database (see conftest.py) to the round's device specs, end to end.

Round start ``R`` = 1_792_886_400 = 2026-10-25 00:00Z = 02:00 CEST, a Sunday on which the
clocks go back (03:00 CEST -> 02:00 CET at 01:00Z). Horizon: 96 steps, to R + 24 h =
2026-10-26 00:00Z = 01:00 CET (Monday). Local days considered: Saturday 24 (the day before),
Sunday 25, Monday 26. Every expected time below is computed by hand from the local time.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.devices.base import Tag
from elfe_ems.planner.scenario import (
    ComfortPeriod,
    EvSpec,
    MachineSpec,
    PilotWireHeaterSpec,
    Scenario,
    ThermostaticHeaterSpec,
    WaterHeaterSpec,
)
from elfe_ems.publish.in_force import PlanHistory, PublishedRow
from elfe_ems.round.inputs import (
    DEFAULT_CYCLE_W,
    Issue,
    Measurements,
    build_devices,
)
from elfe_ems.sources.coordination import read_coordination
from elfe_ems.timegrid import Grid

R = 1_792_886_400
H = 3600
PARIS = ZoneInfo("Europe/Paris")
GRID = Grid(round_start=R, step_s=900, steps=96)


def _row(first_valid: int, *ones: int) -> PublishedRow:
    return PublishedRow(first_valid, tuple(1 if k in ones else 0 for k in range(96)))


HISTORY = PlanHistory(
    {
        1: [_row(R, 0)],  # a re-run of this very round: never read
        3: [_row(R - 900, 0)],  # round R-1 started it at 23:45Z: commande switched it on
        6: [_row(R - 900, 1)],  # R-1 planned the start at R: not applied, planned again
        16: [_row(R - 1800, 1, 2, 3)],  # R-2's run, applied in R-1's step (column 1): heating
        26: [_row(R - 900, 0)],
        # pilot-wire heater 40: R-2h..R-1h from the first row (1 0 1 1), R-1h..R from the
        # second (1 1 0 1): 6 comfort steps given; the re-run row at R is not read.
        40: [_row(R - 2 * H, 0, 2, 3), _row(R - H, 0, 1, 3), _row(R, *range(96))],
    }
)
MEASUREMENTS = Measurements(
    cycle_profiles_w={5001: [1000.0, 2000.0, 500.0]},
    water_heater_energy_wh={6011: 3000.0},
    room_temp_c={7030: 18.5},
    outdoor_temp_c=[5.0] * 96,
)
THERMAL_MODELS = {
    0: (0.003893, 3_328_767.0),
    1: (0.004570, 2_835_616.0),
    2: (0.005622, 2_305_479.0),
}

# Thermostatic heater 30: eco 2881 dK = 288.1 K = 14.95 °C, comfort 2931 dK = 19.95 °C, delta
# 5 dK = 0.5 K. Sunday programme 08:00-23:00 CET = 07:00Z-22:00Z = R+7h..R+22h: the
# band of step k is comfort when its end R + (k+1) 900 is in it, i.e. k+1 in [28, 88).
COMFORT_STEPS_30 = range(27, 87)

EXPECTED = [
    # wanted end R+10h, max wait 2 h, learned cycle 3 steps (45 min): finish in [R+8h, R+10h],
    # start from R+8h-45min = R+7h15 = 1_792_912_500
    MachineSpec(
        type="machine",
        id=1,
        machine_type=111,
        profile_w=[1000, 2000, 500],
        earliest_start=1_792_912_500,
        latest_end=1_792_922_400,
    ),
    # wanted end R+3h, NULL wait -> 0, default cycle 2 h: start at R+1h exactly
    MachineSpec(
        type="machine",
        id=4,
        machine_type=113,
        profile_w=list(DEFAULT_CYCLE_W),
        earliest_start=1_792_890_000,
        latest_end=1_792_897_200,
    ),
    # NULL wanted end: as soon as possible, [R, R+2h]
    MachineSpec(
        type="machine",
        id=5,
        machine_type=111,
        profile_w=list(DEFAULT_CYCLE_W),
        earliest_start=R,
        latest_end=1_792_893_600,
    ),
    # wanted end R+1h is too close for a 2 h cycle: from R (the planner relaxes the end)
    MachineSpec(
        type="machine",
        id=6,
        machine_type=112,
        profile_w=list(DEFAULT_CYCLE_W),
        earliest_start=R,
        latest_end=1_792_890_000,
    ),
    # 22:00-06:00: Sat 22:00 CEST = 20:00Z (R-4h) -> Sun 06:00 CET = 05:00Z (R+5h), cut at R;
    # Sun 22:00 CET = 21:00Z (R+21h) -> Mon 06:00 CET, cut at the horizon's end R+24h.
    WaterHeaterSpec(
        type="water_heater",
        id=11,
        machine_type=131,
        power_w=2000,
        energy_wh=3000,
        windows=[(R, 1_792_904_400), (1_792_962_000, 1_792_972_800)],
    ),
    # 01:00-07:00 and 05:00-08:00 on Sunday: 01:00 CEST = Sat 23:00Z (R-1h), 05:00 CET =
    # 04:00Z, 07:00 CET = 06:00Z, 08:00 CET = 07:00Z (R+7h): merged, cut at R. Monday's start
    # 01:00 CET = R+24h is the horizon's end. Energy: 150 L x 4180 x 50 / 3600 Wh.
    WaterHeaterSpec(
        type="water_heater",
        id=12,
        machine_type=131,
        power_w=1500,
        energy_wh=150 * 4180 * 50 / 3600,
        windows=[(R, 1_792_911_600)],
    ),
    EvSpec(
        type="ev",
        id=20,
        machine_type=221,
        power_w=7000,
        capacity_wh=50_000,
        soc_pct=40.5,
        target_soc_pct=80,
        available_from=R,
        deadline=1_792_915_200,
    ),
    EvSpec(
        type="ev",
        id=21,
        machine_type=221,
        power_w=7000,
        capacity_wh=50_000,
        soc_pct=70,
        target_soc_pct=70,
        available_from=R,
        deadline=1_792_915_200,
    ),
    # 120 % -> 100 %, target 80 % below it -> 100 %; the 1970 deadline is the planner's
    EvSpec(
        type="ev",
        id=22,
        machine_type=221,
        power_w=7000,
        capacity_wh=50_000,
        soc_pct=100,
        target_soc_pct=100,
        available_from=R,
        deadline=3600,
    ),
    EvSpec(
        type="ev",
        id=25,
        machine_type=221,
        power_w=3700,
        capacity_wh=40_000,
        soc_pct=0,
        target_soc_pct=100,
        available_from=R,
        deadline=R,
    ),
    ThermostaticHeaterSpec(
        type="thermostatic_heater",
        id=30,
        machine_type=155,
        power_w=1500,
        r_k_per_w=0.004570,
        c_j_per_k=2_835_616,
        initial_temp_c=18.5,
        comfort_min_c=[19.45 if k in COMFORT_STEPS_30 else 14.45 for k in range(96)],
        comfort_max_c=[20.45 if k in COMFORT_STEPS_30 else 15.45 for k in range(96)],
    ),
    # no comfort period, delta NULL -> 10 dK: eco 14.95 +- 1.0; no temperature: 14.95
    ThermostaticHeaterSpec(
        type="thermostatic_heater",
        id=32,
        machine_type=155,
        power_w=1000,
        r_k_per_w=0.005622,
        c_j_per_k=2_305_479,
        initial_temp_c=14.95,
        comfort_min_c=[13.95] * 96,
        comfort_max_c=[15.95] * 96,
    ),
    # Sunday 00:00-04:00 and 04:00-05:00, merged: 00:00 CEST = Sat 22:00Z (R-2h) -> 05:00 CET
    # = 04:00Z (R+4h), 24 steps (6 h on a 25 h day). Owed ceil(75 % x 24) = 18, given 6 (see
    # HISTORY): 12 from R to R+4h. Monday 00:30-02:00 CET = 23:30Z (R+23h30) -> 01:00Z (R+25h):
    # 6 steps owe ceil(4.5) = 5, none given; 2 of its 6 remaining steps are in the horizon:
    # ceil(5 x 2 / 6) = 2.
    PilotWireHeaterSpec(
        type="pilot_wire_heater",
        id=40,
        machine_type=151,
        eco_power_w=100,
        comfort_power_w=1500,
        comfort_periods=[
            ComfortPeriod(start=R, end=1_792_900_800, min_comfort_steps=12),
            ComfortPeriod(start=1_792_971_000, end=1_792_972_800, min_comfort_steps=2),
        ],
        applied_before=[1, 0, 1],  # the second row's last 3 columns before R
    ),
    # 23:00-01:00 crosses midnight: Saturday's ended at R-1h; Sunday 23:00 CET = 22:00Z
    # (R+22h) -> Monday 01:00 CET = R+24h, 8 steps, all owed (NULL percentage -> 0 % eco).
    PilotWireHeaterSpec(
        type="pilot_wire_heater",
        id=41,
        machine_type=151,
        eco_power_w=50,
        comfort_power_w=1000,
        comfort_periods=[ComfortPeriod(start=1_792_965_600, end=R + 24 * H, min_comfort_steps=8)],
    ),
    # 10:00-10:20 CET = 09:00Z-09:20Z, snapped to R+9h..R+9h30; 150 % -> 100 %: nothing owed
    PilotWireHeaterSpec(
        type="pilot_wire_heater",
        id=44,
        machine_type=151,
        eco_power_w=100,
        comfort_power_w=1500,
        comfort_periods=[
            ComfortPeriod(start=1_792_918_800, end=1_792_920_600, min_comfort_steps=0)
        ],
    ),
]

EXPECTED_ISSUES = sorted(
    [
        (4, Tag.DATABASE),  # NULL max wait
        (4, Tag.DATABASE),  # no cycle row 999
        (5, Tag.DATABASE),  # NULL wanted end
        (12, Tag.DATABASE),  # no energy measured: full reheat
        (13, Tag.DATABASE),  # window 6 has a NULL hour
        (13, Tag.IGNORED),  # so no usable window
        (14, Tag.IGNORED),  # no active window
        (15, Tag.IMPOSSIBLE),  # negative power
        (21, Tag.DATABASE),  # target below the charge
        (22, Tag.DATABASE),  # charge 120 %
        (22, Tag.DATABASE),  # target below the (clamped) charge
        (23, Tag.IMPOSSIBLE),  # negative capacity
        (24, Tag.DATABASE),  # NULL power
        (25, Tag.DATABASE),  # NULL charge
        (25, Tag.DATABASE),  # NULL target
        (25, Tag.DATABASE),  # NULL deadline
        (31, Tag.IMPOSSIBLE),  # unknown thermal model
        (32, Tag.DATABASE),  # NULL delta
        (32, Tag.DATABASE),  # no room temperature
        (33, Tag.IMPOSSIBLE),  # 20 dK comfort
        (41, Tag.DATABASE),  # NULL percentage
        (41, Tag.DATABASE),  # weekend period 2 ends at 90000 s
        (41, Tag.DATABASE),  # weekend period 1 crosses midnight
        (43, Tag.DATABASE),  # NULL comfort power
        (44, Tag.DATABASE),  # 150 %
        (30, Tag.DATABASE),  # pilot-wire row 46 also describes device 30
    ]
)


def _rounded(value: Any) -> Any:
    """``value`` with every float rounded to 9 decimals (°C from dK are not exact)."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


@pytest.fixture(scope="module")
def built(coordination_engine: Engine) -> tuple[list, list[Issue]]:
    rows = read_coordination(coordination_engine)
    built = build_devices(rows, GRID, PARIS, HISTORY, MEASUREMENTS, THERMAL_MODELS)
    return built.specs, built.issues


def test_specs_are_exactly_the_expected_ones(built: tuple[list, list[Issue]]) -> None:
    specs, _ = built
    assert [s.id for s in specs] == [s.id for s in EXPECTED]
    for spec, expected in zip(specs, EXPECTED, strict=True):
        assert _rounded(spec.model_dump()) == _rounded(expected.model_dump()), spec.id


def test_issues_carry_device_and_tag(built: tuple[list, list[Issue]]) -> None:
    _, issues = built
    assert sorted((i.device_id, i.tag) for i in issues) == EXPECTED_ISSUES
    texts = {(i.device_id, i.tag): i.text for i in issues}
    assert "unknown thermal model 99: not planned" in texts[31, Tag.IMPOSSIBLE]
    assert "capacite_de_batterie is -50000: not planned" in texts[23, Tag.IMPOSSIBLE]
    assert "8708 Wh" in texts[12, Tag.DATABASE]


def test_started_resting_and_unread_devices_are_left_out(built: tuple[list, list[Issue]]) -> None:
    specs, issues = built
    ids = {s.id for s in specs} | {i.device_id for i in issues}
    assert not ids & {2, 17, 42}  # not in mode 30: never read
    assert not ids & {3, 10, 16, 26}  # started now, or switched on 3 h ago: no issue either


def test_issues_are_logged_with_their_tag_first(
    coordination_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    rows = read_coordination(coordination_engine)
    with caplog.at_level(logging.INFO, logger="elfe_ems.round.inputs"):
        issues = build_devices(rows, GRID, PARIS, HISTORY, MEASUREMENTS, THERMAL_MODELS).issues
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # outside a round's grouping, each issue is its own line, with what to do
    assert len(warnings) == len(issues)
    assert all(w.startswith(f"{i}; ") for w, i in zip(warnings, issues, strict=True))
    infos = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
    assert "device 3: started by the previous plan" in infos
    assert "device 10: switched on 3.0 h before the round start" in infos


def test_the_specs_make_a_scenario_the_planner_solves(built: tuple[list, list[Issue]]) -> None:
    specs, _ = built
    scenario = Scenario(
        round_start=R,
        step_s=900,
        steps=96,
        net_load_w=[0.0] * 96,
        outdoor_temp_c=[5.0] * 96,
        devices=specs,
    )
    plan, _stats = solve(scenario, SolveOptions(time_limit_s=30))
    assert [d.id for d in plan.devices] == [s.id for s in specs]
    statuses = {d.id: d.status for d in plan.devices}
    assert statuses[1] == statuses[11] == statuses[40] == "planned"
