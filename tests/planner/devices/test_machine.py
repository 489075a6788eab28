"""Machines (washing machine, dishwasher, dryer): one cycle, one start.

Grid: 8 steps of 15 min unless said otherwise; the default machine (``small_machine``) draws
1000 W for 2 steps and may run anywhere in the horizon. Adding 1000 W for one step to a step
at load ``x`` adds ``(max(0, x + 1000) - max(0, x)) * 0.25`` Wh of import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from elfe_ems.planner.devices.machine import MachineModel
from elfe_ems.planner.scenario import MachineSpec
from elfe_ems.timegrid import Grid

Spec = dict[str, Any]


@pytest.fixture
def machine(ems: Any) -> Callable[..., Spec]:
    """Factory of machine specs: 2 steps at 1000 W, allowed over the first 8 steps."""

    def make(**changes: Any) -> Spec:
        spec: Spec = {
            "id": 1,
            "type": "machine",
            "profile_w": [1000.0, 1000.0],
            "earliest_start": ems.at(0),
            "latest_end": ems.at(8),
        }
        spec.update(changes)
        return spec

    return make


VALLEY = [500.0, 500.0, 500.0, -1000.0, -1000.0, 500.0, 500.0, 500.0]


def test_cycle_lands_in_the_surplus_valley(ems: Any, machine: Callable[..., Spec]) -> None:
    # Start 3 puts 1000 W on steps 3 and 4 (-1000 W each): they reach 0, no added import.
    # Any other start puts at least one step on a 500 W step: +250 Wh.
    plan = ems.plan(ems.scenario(VALLEY, [machine(machine_type=12)]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.machine_type == 12
    assert device.decisions == ems.one_hot(8, 3)
    assert device.power_w == [0, 0, 0, 1000, 1000, 0, 0, 0]
    assert device.warnings == []
    # import: six steps at 500 W -> 6 * 500 * 0.25 = 750 Wh
    assert plan.import_wh == pytest.approx(750.0)
    # without EMS, start 0: 1500, 1500, 500, 0, 0, 500, 500, 500 -> 5000 * 0.25 = 1250 Wh
    assert plan.import_wh_asap == pytest.approx(1250.0)
    assert plan.net_load_with_flexible_w == [500, 500, 500, 0, 0, 500, 500, 500]
    assert plan.solver.status == "optimal"


def test_earliest_start_is_respected(ems: Any, machine: Callable[..., Spec]) -> None:
    # earliest start at step 4: starts 4, 5, 6. Start 4 adds 0 (step 4) + 1000 W (step 5);
    # start 5 adds 1000 + 1000; start 6 adds 1000 + 1000: start 4.
    plan = ems.plan(ems.scenario(VALLEY, [machine(earliest_start=ems.at(4))]))
    assert ems.device(plan).decisions == ems.one_hot(8, 4)


def test_latest_end_is_respected(ems: Any, machine: Callable[..., Spec]) -> None:
    # valley at steps 2 and 3, but the cycle must end by step 3: starts 0 and 1.
    # Start 1 adds 1000 W (step 1) + 0 (step 2); start 0 adds 2000 W: start 1.
    net = [500.0, 500.0, -1000.0, -1000.0, 500.0, 500.0, 500.0, 500.0]
    plan = ems.plan(ems.scenario(net, [machine(latest_end=ems.at(3))]))
    device = ems.device(plan)
    assert device.decisions == ems.one_hot(8, 1)
    assert device.power_w == [0, 1000, 1000, 0, 0, 0, 0, 0]
    assert device.warnings == []


def test_window_off_the_step_grid(ems: Any) -> None:
    # earliest start 1 s after step 1 begins -> first start step 2 (its start is after it);
    # latest end 1 s before step 7 begins -> the cycle must end by the end of step 5 (6 steps
    # ended), so a 2-step cycle starts at 4 at the latest. Candidates: 2, 3, 4.
    grid = Grid(round_start=9000, step_s=900, steps=8)
    spec = MachineSpec(
        id=1, type="machine", profile_w=[1.0, 2.0], earliest_start=9901, latest_end=15299
    )
    model = MachineModel(spec, grid)
    assert model.starts.tolist() == [2, 3, 4]
    assert model.warnings == []
    # the power of the start at 3: profile at steps 3 and 4
    assert model.power_w(np.array(ems.one_hot(8, 3))).tolist() == [0, 0, 0, 1, 2, 0, 0, 0]


def test_deadline_passed_starts_now_with_warning(
    ems: Any, machine: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    # the valley at 3-4 would be free, but the deadline has passed: start at step 0
    spec = machine(earliest_start=ems.at(-4), latest_end=ems.at(-1))
    with caplog.at_level(logging.WARNING):
        plan = ems.plan(ems.scenario(VALLEY, [spec]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == ems.one_hot(8, 0)
    assert device.power_w == [1000, 1000, 0, 0, 0, 0, 0, 0]
    relaxed = ems.tagged(device.warnings, "[WARN_CONSTRAINT]")
    assert any("deadline" in w and "passed" in w for w in relaxed)
    assert any(
        "[WARN_CONSTRAINT] device 1 (machine)" in r.getMessage() and "deadline" in r.getMessage()
        for r in caplog.records
    )


def test_window_shorter_than_cycle_starts_at_earliest(
    ems: Any, machine: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    # window [step 2, step 3): one step for a 2-step cycle. Stretched: start at step 2 even
    # though the valley at 3-4 would cost nothing.
    spec = machine(earliest_start=ems.at(2), latest_end=ems.at(3))
    with caplog.at_level(logging.WARNING):
        plan = ems.plan(ems.scenario(VALLEY, [spec]))
    device = ems.device(plan)
    assert device.decisions == ems.one_hot(8, 2)
    assert device.power_w == [0, 0, 1000, 1000, 0, 0, 0, 0]
    (warning,) = device.warnings
    assert warning.startswith("[WARN_CONSTRAINT]")
    assert "too short" in warning
    assert [r.levelno for r in caplog.records if "device 1 (machine)" in r.getMessage()] == [
        logging.WARNING
    ]


def test_earliest_start_after_horizon_is_skipped(
    ems: Any, machine: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    spec = machine(earliest_start=ems.at(8), latest_end=ems.at(12))
    with caplog.at_level(logging.WARNING):
        plan = ems.plan(ems.scenario(VALLEY, [spec]))
    device = ems.device(plan)
    assert device.status == "skipped"
    assert device.decisions == [0] * 8
    assert device.power_w == [0] * 8
    (warning,) = device.warnings
    assert warning.startswith("[WARN_IGNORED] skipped")
    assert any(
        r.getMessage().startswith("[WARN_IGNORED] device 1 (machine): skipped")
        for r in caplog.records
    )
    # a skipped device draws nothing: import is the net load's, with or without EMS
    assert plan.import_wh == plan.import_wh_asap == pytest.approx(750.0)


def test_cycle_that_cannot_end_in_horizon_yet_is_skipped(
    ems: Any, machine: Callable[..., Spec]
) -> None:
    # may start at step 7 at the earliest, 2 steps long: would end at step 9 > 8
    plan = ems.plan(ems.scenario(VALLEY, [machine(earliest_start=ems.at(7))]))
    device = ems.device(plan)
    assert device.status == "skipped"
    assert device.decisions == [0] * 8
    assert ems.tagged(device.warnings, "[WARN_IGNORED]")


def test_cycle_ending_exactly_at_horizon_end_is_planned(
    ems: Any, machine: Callable[..., Spec]
) -> None:
    # earliest start 6, 2 steps: ends at step 8, the horizon's end: the only start
    plan = ems.plan(ems.scenario(VALLEY, [machine(earliest_start=ems.at(6))]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == ems.one_hot(8, 6)


def test_cycle_longer_than_horizon_starts_now_truncated(
    ems: Any, machine: Callable[..., Spec]
) -> None:
    profile = [100.0 * (j + 1) for j in range(10)]  # 100, 200, ..., 1000 W: 10 steps > 8
    spec = machine(profile_w=profile, earliest_start=ems.at(-2), latest_end=ems.at(20))
    plan = ems.plan(ems.scenario(VALLEY, [spec]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == ems.one_hot(8, 0)
    assert device.power_w == [100, 200, 300, 400, 500, 600, 700, 800]  # cut at the horizon
    assert any("longer than the horizon" in w for w in device.warnings)
    assert all(w.startswith("[WARN_CONSTRAINT]") for w in device.warnings)


def test_cycle_longer_than_horizon_not_yet_startable_is_skipped(
    ems: Any, machine: Callable[..., Spec]
) -> None:
    spec = machine(profile_w=[500.0] * 10, earliest_start=ems.at(1), latest_end=ems.at(20))
    device = ems.device(ems.plan(ems.scenario(VALLEY, [spec])))
    assert device.status == "skipped"
    assert ems.tagged(device.warnings, "[WARN_IGNORED]")


def test_flat_deficit_tie_break_starts_at_earliest_allowed(
    ems: Any, machine: Callable[..., Spec]
) -> None:
    # every start adds 2 * 1000 * 0.25 = 500 Wh: equal import, earliest finish wins.
    # Allowed from step 1 (not 0) so that "earliest" is not just the first column.
    spec = machine(earliest_start=ems.at(1))
    plan = ems.plan(ems.scenario([1000.0] * 8, [spec]))
    device = ems.device(plan)
    assert device.decisions == ems.one_hot(8, 1)
    # 8 * 1000 * 0.25 + 500 = 2500 Wh, as without EMS
    assert plan.import_wh == pytest.approx(2500.0)
    assert plan.import_wh_asap == pytest.approx(2500.0)


def test_flat_deficit_tie_break_two_machines(ems: Any, machine: Callable[..., Spec]) -> None:
    # two machines, full deficit everywhere: each at its own earliest allowed step
    first = machine(id=1, earliest_start=ems.at(2))
    second = machine(id=2, profile_w=[300.0], earliest_start=ems.at(5))
    plan = ems.plan(ems.scenario([2000.0] * 8, [first, second]))
    assert ems.device(plan, 1).decisions == ems.one_hot(8, 2)
    assert ems.device(plan, 2).decisions == ems.one_hot(8, 5)


def test_same_input_same_plan(ems: Any, machine: Callable[..., Spec]) -> None:
    # two identical machines and one valley of exactly one cycle: a symmetric tie that must
    # still be broken the same way every time
    net = [500.0, -1000.0, -1000.0, 500.0, 500.0, -1000.0, -1000.0, 500.0]
    raw = ems.scenario(net, [machine(id=1), machine(id=2)])
    first, second = ems.plan(raw), ems.plan(raw)
    assert first.devices == second.devices
    assert first.import_wh == second.import_wh
    # both valleys are used, one machine in each: import is the four 500 W steps only
    assert first.import_wh == pytest.approx(500.0)
    starts = sorted(d.decisions.index(1) for d in first.devices)
    assert starts == [1, 5]
