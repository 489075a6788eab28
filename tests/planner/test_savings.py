"""Where the import avoided comes from (planner/savings.py): shifted in time plus not used,
by device type, adding up to the plan's import avoided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.savings import DeviceCurves, explain_savings, savings_sentences
from elfe_ems.planner.scenario import Plan, read_scenario

EXAMPLE = Path(__file__).parents[2] / "examples" / "community-20-homes.json"
STEP_H = 0.25
TOL_WH = 1e-6


def _machine(ems: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "type": "machine",
        "profile_w": [1000.0, 1000.0],
        "earliest_start": ems.at(0),
        "latest_end": ems.at(8),
    }


def test_a_machine_moved_into_the_surplus_is_shifted(ems: Any) -> None:
    # without EMS the machine runs at steps 0-1 (all imported, 500 Wh); the plan moves it
    # into the 1000 W surplus of steps 3-4, where it imports nothing
    plan = ems.plan(ems.scenario([500, 500, 500, -1000, -1000, 500, 500, 500], [_machine(ems)]))
    savings = plan.savings
    assert savings is not None
    assert savings.import_avoided_wh == plan.import_wh_asap - plan.import_wh == 500.0
    (machine,) = savings.by_type
    assert (machine.type, machine.devices) == ("machine", 1)
    assert machine.shifted_wh == 500.0
    assert machine.not_used_wh == 0.0
    assert machine.energy_wh == machine.energy_asap_wh == 500.0
    assert machine.band_miss_kh is None


def test_a_pilot_wire_heater_in_eco_is_energy_not_used(ems: Any) -> None:
    # always importing: moving energy saves nothing, each eco step saves its 900 W extra
    heater = {
        "id": 2,
        "type": "pilot_wire_heater",
        "eco_power_w": 100.0,
        "comfort_power_w": 1000.0,
        "comfort_periods": [{"start": ems.at(0), "end": ems.at(8), "min_comfort_steps": 6}],
    }
    plan = ems.plan(ems.scenario([2000.0] * 8, [heater]))
    savings = plan.savings
    assert savings is not None
    (part,) = savings.by_type
    unused_wh = part.energy_asap_wh - part.energy_wh
    assert unused_wh == 2 * 900 * STEP_H  # two eco steps of the eight
    assert abs(part.not_used_wh - unused_wh) < TOL_WH
    assert abs(part.shifted_wh) < TOL_WH
    assert abs(savings.import_avoided_wh - (plan.import_wh_asap - plan.import_wh)) < TOL_WH


def test_the_parts_add_up_on_the_example_community() -> None:
    plan, _stats = solve(read_scenario(EXAMPLE), SolveOptions(time_limit_s=20))
    savings = plan.savings
    assert savings is not None
    assert abs(savings.import_avoided_wh - (plan.import_wh_asap - plan.import_wh)) < TOL_WH
    assert abs(savings.shifted_wh + savings.not_used_wh - savings.import_avoided_wh) < TOL_WH
    assert abs(sum(t.import_avoided_wh for t in savings.by_type) - savings.import_avoided_wh) < (
        TOL_WH
    )
    by_type = {t.type: t for t in savings.by_type}
    assert set(by_type) == {d.type for d in plan.devices if d.status == "planned"}
    for part in savings.by_type:
        planned = [d for d in plan.devices if d.type == part.type and d.status == "planned"]
        assert part.devices == len(planned)
        assert abs(part.energy_wh - sum(sum(d.power_w) for d in planned) * STEP_H) < TOL_WH
    assert by_type["thermostatic_heater"].band_miss_kh is not None
    assert plan.net_load_asap_w is not None
    asap_import_wh = float(np.maximum(plan.net_load_asap_w, 0).sum() * STEP_H)
    assert abs(asap_import_wh - plan.import_wh_asap) < TOL_WH


def test_the_plain_words_carry_the_figures(ems: Any) -> None:
    plan: Plan = ems.plan(
        ems.scenario([500, 500, 500, -1000, -1000, 500, 500, 500], [_machine(ems)])
    )
    assert plan.savings is not None
    words = savings_sentences(plan.savings, plan.import_wh_asap)
    assert words[0].startswith("The plan imports 0.50 kWh less than without the EMS (")
    assert "0.50 kWh by moving consumption to better hours" in words[0]
    assert "0.00 kWh by energy not used" in words[0]
    assert "Machines: 0.50 kWh avoided by their new hours." in words
    assert words[-1] == "Comfort given up: none (no thermostatic heater in the plan)."


def test_comfort_given_up_is_the_band_miss_beyond_without_ems() -> None:
    flat = np.zeros(4)
    heater = DeviceCurves(
        type="thermostatic_heater",
        asap_w=np.full(4, 1000.0),
        plan_w=np.array([1000.0, 0, 0, 1000.0]),
        band_miss_kh=1.5,
        band_miss_asap_kh=0.25,
    )
    savings = explain_savings(flat + 3000, [heater], STEP_H)
    assert savings.comfort_given_up_kh == 1.25
    assert savings.by_type[0].band_miss_kh == 1.5
    assert savings.not_used_wh == 500.0  # two steps of 1000 W not heated, all imported
    assert (
        "bands missed by 1.25 K·h more (1.50 K·h with the plan, 0.25 K·h"
        in (savings_sentences(savings, 4000.0)[-1])
    )


STEPS = 8
curves = hnp.arrays(np.float64, STEPS, elements=st.floats(0, 3000, allow_nan=False))


@st.composite
def devices(draw: st.DrawFn) -> list[DeviceCurves]:
    types = ("machine", "ev", "pilot_wire_heater", "thermostatic_heater")
    count = draw(st.integers(1, 6))
    return [
        DeviceCurves(type=draw(st.sampled_from(types)), asap_w=draw(curves), plan_w=draw(curves))
        for _ in range(count)
    ]


@settings(max_examples=300, deadline=None)
@given(
    net_load_w=hnp.arrays(np.float64, STEPS, elements=st.floats(-8000, 8000, allow_nan=False)),
    planned=devices(),
)
def test_the_split_always_adds_up_and_each_share_is_bounded(
    net_load_w: np.ndarray, planned: list[DeviceCurves]
) -> None:
    savings = explain_savings(net_load_w, planned, STEP_H)
    asap = sum((d.asap_w for d in planned), np.zeros(STEPS))
    plan = sum((d.plan_w for d in planned), np.zeros(STEPS))
    avoided_wh = (np.maximum(net_load_w + asap, 0) - np.maximum(net_load_w + plan, 0)).sum()
    scale_wh = 1e-9 * (1 + np.abs(net_load_w).sum() + asap.sum() + plan.sum())
    assert abs(savings.import_avoided_wh - avoided_wh * STEP_H) < scale_wh
    assert abs(savings.shifted_wh + savings.not_used_wh - savings.import_avoided_wh) < scale_wh
    assert abs(sum(t.import_avoided_wh for t in savings.by_type) - savings.import_avoided_wh) < (
        scale_wh
    )
    for part in savings.by_type:
        of_type = [d for d in planned if d.type == part.type]
        # a type never gets more than its own change of power, step by step
        moved_wh = sum(np.abs(d.asap_w - d.plan_w).sum() for d in of_type) * STEP_H
        unused_wh = sum(abs(d.asap_w.sum() - d.plan_w.sum()) for d in of_type) * STEP_H
        assert abs(part.not_used_wh) <= unused_wh + scale_wh
        assert abs(part.shifted_wh) <= moved_wh + unused_wh + scale_wh
