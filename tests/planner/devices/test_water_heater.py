"""Water heaters: one contiguous run of ceil(energy / (power * 0.25 h)) steps in one window.

Grid: 8 steps of 15 min. At 2000 W one step delivers 500 Wh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from elfe_ems.planner.devices.water_heater import WaterHeaterModel
from elfe_ems.planner.scenario import WaterHeaterSpec
from elfe_ems.timegrid import Grid

Spec = dict[str, Any]
GRID = Grid(round_start=9000, step_s=900, steps=8)


@pytest.fixture
def heater(ems: Any) -> Callable[..., Spec]:
    """Factory of water-heater specs: 2000 W, 1100 Wh, one window over the whole horizon."""

    def make(**changes: Any) -> Spec:
        spec: Spec = {
            "id": 1,
            "type": "water_heater",
            "power_w": 2000.0,
            "energy_wh": 1100.0,
            "windows": [[ems.at(0), ems.at(8)]],
        }
        spec.update(changes)
        return spec

    return make


def model(energy_wh: float, windows: list[tuple[int, int]], power_w: float = 2000.0) -> Any:
    spec = WaterHeaterSpec(
        id=1, type="water_heater", power_w=power_w, energy_wh=energy_wh, windows=windows
    )
    return WaterHeaterModel(spec, GRID)


@pytest.mark.parametrize(
    ("energy_wh", "run"),
    [
        (1100.0, 3),  # 1100 / 500 = 2.2 -> 3 steps
        (1000.0, 2),  # exactly 2 steps, not 3
        (1500.0, 3),
        (1.0, 1),
        (499.0, 1),
        (501.0, 2),
    ],
)
def test_run_length(energy_wh: float, run: int) -> None:
    heater = model(energy_wh, [(9000, 9000 + 8 * 900)])
    assert heater.run_steps == run
    assert heater.starts.tolist() == list(range(8 - run + 1))  # the run ends in the horizon
    assert heater.warnings == []


def test_run_length_through_solve(ems: Any, heater: Callable[..., Spec]) -> None:
    # 700 W for 1000 Wh: 1000 / 175 = 5.71 -> 6 steps on, 700 W each
    spec = heater(power_w=700.0, energy_wh=1000.0)
    device = ems.device(ems.plan(ems.scenario([100.0] * 8, [spec])))
    assert sum(device.decisions) == 6
    assert sorted(set(device.power_w)) == [0.0, 700.0]
    assert [p > 0 for p in device.power_w] == [d == 1 for d in device.decisions]


def test_runs_in_the_surplus(ems: Any, heater: Callable[..., Spec]) -> None:
    # 3-step run; surplus of 2000 W at steps 2, 3, 4: the run fills it exactly, no added import
    net = [500.0, 500.0, -2000.0, -2000.0, -2000.0, 500.0, 500.0, 500.0]
    plan = ems.plan(ems.scenario(net, [heater()]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == [0, 0, 1, 1, 1, 0, 0, 0]  # 1 on every step of the run
    assert device.power_w == [0, 0, 2000, 2000, 2000, 0, 0, 0]
    assert device.warnings == []
    assert plan.import_wh == pytest.approx(5 * 500 * 0.25)  # 625 Wh
    # without EMS, run at 0-2: 2500, 2500, 0, 0, 0, 500, 500, 500 -> 6500 * 0.25 = 1625 Wh
    assert plan.import_wh_asap == pytest.approx(1625.0)


def test_run_stays_inside_one_window(ems: Any, heater: Callable[..., Spec]) -> None:
    # windows [0, 3) and [4, 8); 2-step run; surplus at steps 2 and 3, across the gap.
    # Allowed starts: 0, 1 (first window), 4, 5, 6 (second). Start 1 adds 2000 W at step 1
    # and 0 at step 2; every other start adds 4000 W-steps: start 1.
    windows = [[ems.at(0), ems.at(3)], [ems.at(4), ems.at(8)]]
    net = [500.0, 500.0, -2000.0, -2000.0, 500.0, 500.0, 500.0, 500.0]
    device = ems.device(ems.plan(ems.scenario(net, [heater(energy_wh=1000.0, windows=windows)])))
    assert device.decisions == [0, 1, 1, 0, 0, 0, 0, 0]
    assert device.power_w == [0, 2000, 2000, 0, 0, 0, 0, 0]
    assert model(
        1000.0, [(9000, 9000 + 3 * 900), (9000 + 4 * 900, 9000 + 8 * 900)]
    ).starts.tolist() == [
        0,
        1,
        4,
        5,
        6,
    ]


def test_window_off_the_step_grid() -> None:
    # window from 1 s after step 1 begins to 1 s before step 5 begins: whole steps 2 and 3
    heater = model(1000.0, [(9000 + 900 + 1, 9000 + 5 * 900 - 1)])
    assert heater.starts.tolist() == [2]


def test_energy_above_longest_window(
    ems: Any, heater: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    # 2000 Wh at 1000 W is 8 steps; windows of 2 steps [0, 2) and 3 steps [4, 7): the whole
    # longest window, steps 4-6, even though the surplus is at steps 0-1.
    windows = [[ems.at(0), ems.at(2)], [ems.at(4), ems.at(7)]]
    net = [-1000.0, -1000.0, 500.0, 500.0, 500.0, 500.0, 500.0, 500.0]
    spec = heater(power_w=1000.0, energy_wh=2000.0, windows=windows)
    with caplog.at_level(logging.WARNING):
        device = ems.device(ems.plan(ems.scenario(net, [spec])))
    assert device.status == "planned"
    assert device.decisions == [0, 0, 0, 0, 1, 1, 1, 0]
    assert device.power_w == [0, 0, 0, 0, 1000, 1000, 1000, 0]
    (warning,) = device.warnings
    assert warning.startswith("[WARN_CONSTRAINT]")
    assert "longest window" in warning
    assert any(
        r.getMessage().startswith("[WARN_CONSTRAINT] device 1 (water_heater)")
        for r in caplog.records
    )


def test_run_filling_its_window_exactly_needs_no_warning(
    ems: Any, heater: Callable[..., Spec]
) -> None:
    # 1500 Wh at 2000 W: 3 steps, window [2, 5) of 3 steps
    spec = heater(energy_wh=1500.0, windows=[[ems.at(2), ems.at(5)]])
    device = ems.device(ems.plan(ems.scenario([0.0] * 8, [spec])))
    assert device.decisions == [0, 0, 1, 1, 1, 0, 0, 0]
    assert device.warnings == []


def test_zero_energy_is_skipped(ems: Any, heater: Callable[..., Spec]) -> None:
    device = ems.device(ems.plan(ems.scenario([0.0] * 8, [heater(energy_wh=0.0)])))
    assert device.status == "skipped"
    assert device.decisions == [0] * 8
    assert device.power_w == [0] * 8
    (warning,) = device.warnings
    assert warning.startswith("[WARN_IGNORED] skipped")


def test_zero_power_with_energy_is_impossible(
    ems: Any, heater: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        plan = ems.plan(ems.scenario([0.0] * 8, [heater(power_w=0.0)]))
    device = ems.device(plan)
    assert device.status == "skipped"
    assert device.decisions == [0] * 8
    (warning,) = device.warnings
    assert warning.startswith("[WARN_IMPOSSIBLE] skipped")
    assert any(
        r.getMessage().startswith("[WARN_IMPOSSIBLE] device 1 (water_heater): skipped")
        for r in caplog.records
    )


def test_no_window_in_horizon_is_skipped(ems: Any, heater: Callable[..., Spec]) -> None:
    spec = heater(windows=[[ems.at(-8), ems.at(0)], [ems.at(8), ems.at(12)]])
    device = ems.device(ems.plan(ems.scenario([0.0] * 8, [spec])))
    assert device.status == "skipped"
    assert ems.tagged(device.warnings, "[WARN_IGNORED]")


def test_windows_cut_at_horizon_start_and_end(ems: Any, heater: Callable[..., Spec]) -> None:
    # window 1 began an hour ago and ends at step 2: [0, 2). Window 2 from step 6 runs two hours
    # past the horizon: [6, 8) -- the run must end within the horizon. 2-step run: starts 0, 6.
    # Surplus at step 7 only: start 6 adds 2000 W at step 6, start 0 adds 4000 W-steps.
    windows = [[ems.at(-4), ems.at(2)], [ems.at(6), ems.at(16)]]
    net = [500.0] * 7 + [-2000.0]
    spec = heater(energy_wh=1000.0, windows=windows)
    device = ems.device(ems.plan(ems.scenario(net, [spec])))
    assert device.decisions == [0, 0, 0, 0, 0, 0, 1, 1]
    assert device.power_w == [0, 0, 0, 0, 0, 0, 2000, 2000]
    assert device.warnings == []
    cut = model(1000.0, [(9000 - 3600, 9000 + 2 * 900), (9000 + 6 * 900, 9000 + 16 * 900)])
    assert cut.starts.tolist() == [0, 6]
