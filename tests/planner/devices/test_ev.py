"""Electric vehicles on a switched plug: one start, then charging until full or the deadline.

The default car charges at 4000 W (1000 Wh per 15-min step) into a 10 000 Wh battery at 50 %,
wanting 80 %: 3000 Wh owed (3 steps), 5000 Wh to full (5 steps).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from elfe_ems.planner.devices.ev import EvModel
from elfe_ems.planner.scenario import EvSpec
from elfe_ems.timegrid import Grid

Spec = dict[str, Any]
STEP_H = 0.25


@pytest.fixture
def car(ems: Any) -> Callable[..., Spec]:
    """Factory of EV specs (see the module docstring), available now, leaving at step 8."""

    def make(**changes: Any) -> Spec:
        spec: Spec = {
            "id": 1,
            "type": "ev",
            "power_w": 4000.0,
            "capacity_wh": 10000.0,
            "soc_pct": 50.0,
            "target_soc_pct": 80.0,
            "available_from": ems.at(0),
            "deadline": ems.at(8),
        }
        spec.update(changes)
        return spec

    return make


def energy_before_wh(power_w: list[float], step: int) -> float:
    """Energy delivered in steps 0 .. step-1 [Wh]."""
    return sum(power_w[:step]) * STEP_H


def test_charges_in_the_surplus_and_meets_target(ems: Any, car: Callable[..., Spec]) -> None:
    # 12 steps, deadline at step 10. Surplus of 4000 W at steps 3-7, deficit elsewhere.
    # Allowed starts: 0 .. 7 (3 steps owed before step 10). Start 3 charges steps 3-7 (5 steps
    # to full) wholly in the surplus: no added import. Any other start charges at least one
    # deficit step (before 3, or 8-9 for later starts, which stop at the deadline).
    net = [1000.0] * 3 + [-4000.0] * 5 + [1000.0] * 4
    plan = ems.plan(ems.scenario(net, [car(deadline=ems.at(10))]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == ems.one_hot(12, 3)
    assert device.power_w == [0, 0, 0, 4000, 4000, 4000, 4000, 4000, 0, 0, 0, 0]
    assert energy_before_wh(device.power_w, 10) >= 3000.0  # target reached by the deadline
    assert energy_before_wh(device.power_w, 12) == pytest.approx(5000.0)  # stops when full
    assert device.warnings == []
    assert plan.import_wh == pytest.approx(7 * 1000 * STEP_H)
    # without EMS: start 0, steps 0-4 -> 5000 W at 0-2, 0 at 3-4 -> 3 * 5000 + 4 * 1000
    assert plan.import_wh_asap == pytest.approx((3 * 5000 + 4 * 1000) * STEP_H)


def test_partial_last_step_when_full(ems: Any, car: Callable[..., Spec]) -> None:
    # at 55 %, 4500 Wh to full: 4 whole steps, then half a step -> mean 2000 W on step 4.
    # Surplus at steps 0-4 (4000 W each): start 0 adds nothing; every later start puts some
    # charge on the deficit steps 5-7.
    net = [-4000.0] * 5 + [1000.0] * 3
    device = ems.device(ems.plan(ems.scenario(net, [car(soc_pct=55.0)])))
    assert device.decisions == ems.one_hot(8, 0)
    assert device.power_w == [4000, 4000, 4000, 4000, 2000, 0, 0, 0]
    assert energy_before_wh(device.power_w, 8) == pytest.approx(4500.0)


def test_partial_last_step_model() -> None:
    # the same car, started at step 2 with a far deadline: steps 2-5 full, step 6 half
    grid = Grid(round_start=9000, step_s=900, steps=8)
    spec = EvSpec(
        id=1,
        type="ev",
        power_w=4000.0,
        capacity_wh=10000.0,
        soc_pct=55.0,
        target_soc_pct=80.0,
        available_from=9000,
        deadline=9000 + 20 * 900,
    )
    model = EvModel(spec, grid)
    # 2500 Wh owed by the horizon's end (step 8): 2.5 steps -> last start floor(8 - 2.5) = 5
    assert model.starts.tolist() == [0, 1, 2, 3, 4, 5]
    power = model.power_w(np.array([0, 0, 1, 0, 0, 0, 0, 0]))
    assert power.tolist() == [0, 0, 4000, 4000, 4000, 4000, 2000, 0]


def test_deadline_mid_step_cuts_charging(ems: Any, car: Callable[..., Spec]) -> None:
    # deadline half-way through step 3; 60 % wanted: 1000 Wh owed = one full step, so the
    # start must be at or before 3.5 - 1 = 2.5 steps: starts 0, 1, 2. Charging stops at the
    # deadline: start 0 charges 3.5 steps, start 1 2.5, start 2 1.5. All on a flat deficit, so
    # the least charge is the least import: start 2, with a half step (2000 W) at step 3.
    spec = car(target_soc_pct=60.0, deadline=ems.at(3) + 450)
    device = ems.device(ems.plan(ems.scenario([1000.0] * 8, [spec])))
    assert device.decisions == ems.one_hot(8, 2)
    assert device.power_w == [0, 0, 4000, 2000, 0, 0, 0, 0]
    # delivered by the deadline: step 2 (1000 Wh) + the charged half of step 3 (500 Wh)
    assert energy_before_wh(device.power_w, 4) == pytest.approx(1500.0)
    assert energy_before_wh(device.power_w, 4) >= 1000.0


def test_target_unreachable_starts_now_with_warning(
    ems: Any, car: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    # 10 % -> 90 %: 8000 Wh = 8 steps owed, 4 steps to the deadline. Starts at step 0 (not in
    # the later surplus) and charges until the deadline.
    spec = car(soc_pct=10.0, target_soc_pct=90.0, deadline=ems.at(4))
    net = [0.0] * 4 + [-4000.0] * 4
    with caplog.at_level(logging.WARNING):
        device = ems.device(ems.plan(ems.scenario(net, [spec])))
    assert device.status == "planned"
    assert device.decisions == ems.one_hot(8, 0)
    assert device.power_w == [4000, 4000, 4000, 4000, 0, 0, 0, 0]
    (warning,) = device.warnings
    assert warning.startswith("[WARN_CONSTRAINT]")
    assert "cannot be reached" in warning
    assert any(r.getMessage().startswith("[WARN_CONSTRAINT] device 1 (ev)") for r in caplog.records)


def test_deadline_passed_charges_now_until_full(ems: Any, car: Callable[..., Spec]) -> None:
    # available an hour ago, left at the end of the last step: charges now, until full
    # (5 steps), not stopped by the passed deadline, not moved to the surplus at 5-7
    spec = car(available_from=ems.at(-4), deadline=ems.at(-1))
    net = [0.0] * 5 + [-4000.0] * 3
    device = ems.device(ems.plan(ems.scenario(net, [spec])))
    assert device.status == "planned"
    assert device.decisions == ems.one_hot(8, 0)
    assert device.power_w == [4000, 4000, 4000, 4000, 4000, 0, 0, 0]
    assert any("deadline" in w and "passed" in w for w in device.warnings)
    assert all(w.startswith("[WARN_CONSTRAINT]") for w in device.warnings)


def test_already_full_is_skipped(ems: Any, car: Callable[..., Spec]) -> None:
    device = ems.device(ems.plan(ems.scenario([0.0] * 8, [car(soc_pct=100.0)])))
    assert device.status == "skipped"
    assert device.decisions == [0] * 8
    assert device.power_w == [0] * 8
    (warning,) = device.warnings
    assert warning.startswith("[WARN_IGNORED] skipped")


@pytest.mark.parametrize("changes", [{"capacity_wh": 0.0}, {"power_w": 0.0}])
def test_impossible_data_is_skipped(
    ems: Any, car: Callable[..., Spec], changes: dict[str, float]
) -> None:
    device = ems.device(ems.plan(ems.scenario([0.0] * 8, [car(**changes)])))
    assert device.status == "skipped"
    assert ems.tagged(device.warnings, "[WARN_IMPOSSIBLE]")


def test_deadline_beyond_horizon_counts_as_horizon_end(ems: Any, car: Callable[..., Spec]) -> None:
    # leaves at step 20, the horizon has 8 steps: the 3 owed steps must fit before step 8, so
    # the last start is 5, although the surplus is at steps 6-7. Start 5 charges 5, 6, 7 in the
    # horizon (and goes on after it): one deficit step; start 4 has two, start 3 three...
    net = [1000.0] * 6 + [-4000.0] * 2
    device = ems.device(ems.plan(ems.scenario(net, [car(deadline=ems.at(20))])))
    assert device.decisions == ems.one_hot(8, 5)
    assert device.power_w == [0, 0, 0, 0, 0, 4000, 4000, 4000]
    assert energy_before_wh(device.power_w, 8) >= 3000.0  # target within the horizon
    assert device.warnings == []


def test_available_later_off_grid(ems: Any, car: Callable[..., Spec]) -> None:
    # available 1 s after step 2 begins: first start step 3. Surplus at 0-2 is out of reach.
    # 3 owed steps before step 8: starts 3, 4, 5, all fully on the flat deficit after 3;
    # start 3 charges 5 steps (3-7), start 4 four (4-7, stopped by the deadline), start 5
    # three: start 5 draws least.
    net = [-4000.0] * 3 + [1000.0] * 5
    device = ems.device(ems.plan(ems.scenario(net, [car(available_from=ems.at(2) + 1)])))
    assert device.decisions == ems.one_hot(8, 5)
    assert device.power_w == [0, 0, 0, 0, 0, 4000, 4000, 4000]
