"""The piloted devices' power as the plans in force give it: each round keeps its planned
devices' plans and writes the sum per step; the forecasts read it back for past steps."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine, select

from elfe_ems.planner.scenario import Plan
from elfe_ems.store.flexible import planned_power_w, record_plan
from elfe_ems.store.tables import device_plan_power

STEP = 900
T = 1_800_000_000
STEPS = 96
METHOD = "elfe-ems"


def _plan(round_start: int, devices: dict[int, list[float]], skipped: tuple[int, ...] = ()) -> Plan:
    """A plan of ``devices`` (id: power per step, padded with 0 to the horizon)."""

    def device(device_id: int, power_w: list[float], status: str) -> dict[str, object]:
        power = power_w + [0.0] * (STEPS - len(power_w))
        return {"id": device_id, "type": "water_heater", "machine_type": 131, "status": status,
                "decisions": [int(w > 0) for w in power], "power_w": power}  # fmt: skip

    return Plan.model_validate(
        {
            "round_start": round_start,
            "step_s": STEP,
            "steps": STEPS,
            "import_wh": 0.0,
            "import_wh_asap": 0.0,
            "net_load_with_flexible_w": [0.0] * STEPS,
            "solver": {"status": "optimal", "solve_ms": 1.0},
            "devices": [device(i, p, "planned") for i, p in devices.items()]
            + [device(i, [], "skipped") for i in skipped],
        }
    )


def test_devices_not_planned_again_keep_their_plan_in_force(migrated: Engine) -> None:
    with migrated.begin() as connection:
        # round A plans a tank (2 kW for 4 steps) and a heater (500 W all day)
        record_plan(connection, METHOD, _plan(T, {1: [2000.0] * 4, 2: [500.0] * STEPS}))
        # round B, a step later: the tank runs on A's plan (not planned again), the heater
        # gets a new plan; a skipped device does not count either
        record_plan(connection, METHOD, _plan(T + STEP, {2: [800.0] * STEPS}, skipped=(1, 3)))
        power = planned_power_w(connection, METHOD, T - STEP, 7, STEP)
        kept = connection.execute(select(device_plan_power.c.device_id)).scalars().all()
    assert power.tolist() == [0.0, 2500.0, 2800.0, 2800.0, 2800.0, 800.0, 800.0]
    assert sorted(kept) == [1, 2]


def test_a_plan_counts_only_over_its_horizon(migrated: Engine) -> None:
    with migrated.begin() as connection:
        record_plan(connection, METHOD, _plan(T, {2: [500.0] * STEPS}))
        record_plan(connection, METHOD, _plan(T + 95 * STEP, {}))  # nothing planned: A is in force
        power = planned_power_w(connection, METHOD, T + 94 * STEP, 4, STEP)
    assert power.tolist() == [500.0, 500.0, 0.0, 0.0]


def test_a_later_round_rewrites_the_steps_ahead_only(migrated: Engine) -> None:
    with migrated.begin() as connection:
        record_plan(connection, METHOD, _plan(T, {1: [1000.0] * 8}))
        record_plan(connection, METHOD, _plan(T + 2 * STEP, {1: [0.0, 0.0, 3000.0]}))
        power = planned_power_w(connection, METHOD, T, 6, STEP)
    np.testing.assert_array_equal(power, [1000.0, 1000.0, 0.0, 0.0, 3000.0, 0.0])


@pytest.mark.parametrize("first", [T - 10 * STEP, T + 200 * STEP])
def test_steps_no_round_wrote_are_zero(migrated: Engine, first: int) -> None:
    with migrated.begin() as connection:
        record_plan(connection, METHOD, _plan(T, {1: [1000.0] * STEPS}))
        assert planned_power_w(connection, METHOD, first, 4, STEP).tolist() == [0.0] * 4


def test_each_planning_method_has_its_own(migrated: Engine) -> None:
    with migrated.begin() as connection:
        record_plan(connection, METHOD, _plan(T, {1: [1000.0] * STEPS}))
        record_plan(connection, "shadow", _plan(T, {1: [300.0] * STEPS, 2: [50.0] * STEPS}))
        assert planned_power_w(connection, METHOD, T, 2, STEP).tolist() == [1000.0] * 2
        assert planned_power_w(connection, "shadow", T, 2, STEP).tolist() == [350.0] * 2
