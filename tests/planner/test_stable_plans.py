"""Stable plans across rounds: the previous plan is the start and the tie-break preference.

A round plans again what the previous round planned, one quarter hour later. With unchanged
inputs no decision changes; with changed inputs, a plan differs from the previous one only
when it imports less. Consecutive rounds are replayed here from seeded communities: round
``n + 1`` is round ``n`` one step later (the same forecasts, shifted, with the last value
repeated; each room starting where the plan left it; devices started at step 0 gone).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import oracle
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import Plan, parse_scenario
from elfe_ems.sim.synthetic import community_scenario

OPTIONS = SolveOptions(time_limit_s=20, gap=1e-3, peak_tolerance=0)  # the import alone
WITH_PEAK = SolveOptions(time_limit_s=20, gap=1e-3, peak_tolerance=1e-3)
ROUND_START = 1_736_924_400  # 2025-01-15 08:00 Europe/Paris (winter)
SUMMER_START = 1_751_436_000  # 2025-07-02 08:00 Europe/Paris

Raw = dict[str, Any]


def plan_of(raw: Raw, options: SolveOptions = OPTIONS) -> Plan:
    plan, _ = solve(parse_scenario(raw), options)
    return plan


def community(homes: int, season: str, round_start: int, seed: int) -> Raw:
    scenario = community_scenario(homes, season=season, round_start=round_start, seed=seed)
    return scenario.model_dump(mode="json", exclude_none=True)


def with_previous(raw: Raw, plan: Plan) -> Raw:
    """``raw`` with every planned device's decisions of ``plan`` as its previous decisions."""
    decisions = {d.id: d.decisions for d in plan.devices if d.status == "planned"}
    devices = [
        {**dev, "previous_decisions": decisions[dev["id"]]} if dev["id"] in decisions else dev
        for dev in raw["devices"]
    ]
    return {**raw, "devices": devices}


def shifted(series: list[float]) -> list[float]:
    return [*series[1:], series[-1]]


def next_round(raw: Raw, plan: Plan) -> Raw:
    """Round ``n + 1`` of the module docstring, with ``plan`` shifted as previous decisions."""
    by_id = {d.id: d for d in plan.devices}
    devices = []
    for dev in raw["devices"]:
        decided = by_id[dev["id"]]
        if decided.status != "planned":
            continue
        if dev["type"] in ("machine", "ev", "water_heater") and decided.decisions[0] == 1:
            continue  # started: no longer planned
        dev = {**dev, "previous_decisions": [*decided.decisions[1:], 0]}  # noqa: PLW2901
        if dev["type"] == "thermostatic_heater":
            temps = oracle.thermostatic_temperatures_c(raw, dev, decided.decisions)
            dev["initial_temp_c"] = float(temps[0])
            dev["comfort_min_c"] = shifted(dev["comfort_min_c"])
            dev["comfort_max_c"] = shifted(dev["comfort_max_c"])
        if dev["type"] == "pilot_wire_heater":  # comfort given at step 0 is owed no more
            dev["comfort_periods"] = [
                {
                    **period,
                    "min_comfort_steps": max(
                        0,
                        period["min_comfort_steps"]
                        - (decided.decisions[0] if period["start"] <= raw["round_start"] else 0),
                    ),
                }
                for period in dev["comfort_periods"]
            ]
        devices.append(dev)
    following = {
        **raw,
        "round_start": raw["round_start"] + raw["step_s"],
        "net_load_w": shifted(raw["net_load_w"]),
        "devices": devices,
    }
    if "outdoor_temp_c" in raw:
        following["outdoor_temp_c"] = shifted(raw["outdoor_temp_c"])
    for dev in devices:  # the round before saw no further: its last step is whichever holds
        if oracle.violations(following, dev, dev["previous_decisions"]):
            dev["previous_decisions"][-1] = 1
    return following


def previous_import_wh(raw: Raw) -> float:
    """The import of the devices' previous decisions on ``raw``."""
    return oracle.plan_import_wh(raw, {d["id"]: d["previous_decisions"] for d in raw["devices"]})


@pytest.mark.parametrize("options", [OPTIONS, WITH_PEAK], ids=["import", "with-peak"])
@pytest.mark.parametrize(
    ("season", "round_start", "seed"), [("winter", ROUND_START, 1), ("summer", SUMMER_START, 2)]
)
def test_unchanged_inputs_change_no_decision(
    season: str, round_start: int, seed: int, options: SolveOptions
) -> None:
    raw = community(40, season, round_start, seed)
    first = plan_of(raw, options)
    again = plan_of(with_previous(raw, first), options)
    assert [d.decisions for d in again.devices] == [d.decisions for d in first.devices]
    assert again.import_wh == pytest.approx(first.import_wh)


def test_previous_decisions_win_ties(ems: Any) -> None:
    """A machine whose previous start costs no more import than the earliest one keeps it
    (without a previous plan it goes to the earliest)."""
    machine = {
        "id": 1,
        "type": "machine",
        "profile_w": [500.0],
        "earliest_start": ems.at(0),
        "latest_end": ems.at(6),
    }
    raw = ems.scenario([-1000.0] * 6, [machine])
    assert ems.device(ems.plan(raw)).decisions == ems.one_hot(6, 0)
    kept = ems.plan(
        ems.scenario([-1000.0] * 6, [{**machine, "previous_decisions": ems.one_hot(6, 3)}])
    )
    assert ems.device(kept).decisions == ems.one_hot(6, 3)


def test_previous_decisions_give_way_to_less_import(ems: Any) -> None:
    machine = {
        "id": 1,
        "type": "machine",
        "profile_w": [500.0],
        "earliest_start": ems.at(0),
        "latest_end": ems.at(6),
        "previous_decisions": ems.one_hot(6, 3),
    }
    plan = ems.plan(ems.scenario([-1000.0, 0, 0, 0, 0, 0], [machine]))
    assert ems.device(plan).decisions == ems.one_hot(6, 0)


@pytest.mark.parametrize(
    ("season", "round_start", "seed"), [("winter", ROUND_START, 3), ("summer", SUMMER_START, 4)]
)
def test_consecutive_rounds_change_only_for_less_import(
    season: str, round_start: int, seed: int
) -> None:
    raw = community(40, season, round_start, seed)
    plan = plan_of(raw)
    for _ in range(3):
        raw = next_round(raw, plan)
        plan = plan_of(raw)
        for d in plan.devices:  # every constraint still holds
            spec = next(dev for dev in raw["devices"] if dev["id"] == d.id)
            assert not oracle.violations(raw, spec, d.decisions, relaxed=bool(d.warnings))
        before_wh = previous_import_wh(raw)
        changed = [
            d.id
            for d, dev in zip(plan.devices, raw["devices"], strict=True)
            if d.decisions != dev["previous_decisions"]
        ]
        assert plan.import_wh <= before_wh + 1e-6
        if changed:
            assert plan.import_wh < before_wh - 1e-6, changed


def test_a_previous_plan_that_no_longer_holds_is_replanned(ems: Any) -> None:
    """A previous start outside the device's window now: planned afresh, constraints kept."""
    machine = {
        "id": 1,
        "type": "machine",
        "profile_w": [500.0, 500.0],
        "earliest_start": ems.at(2),
        "latest_end": ems.at(6),
        "previous_decisions": ems.one_hot(6, 0),
    }
    decisions = ems.device(ems.plan(ems.scenario([100.0] * 6, [machine]))).decisions
    assert decisions.index(1) >= 2
    assert np.sum(decisions) == 1


def test_a_previous_plan_is_completed_at_its_last_step(ems: Any) -> None:
    """A shifted plan says nothing of its last step: a room that needs heat there gets it,
    and every other decision is kept."""
    outdoor = [0.0] * 6
    heater = {
        "id": 1,
        "type": "thermostatic_heater",
        "power_w": 2000.0,
        "r_k_per_w": 0.005,
        "c_j_per_k": 3_000_000.0,
        "initial_temp_c": 20.0,
    }
    previous = [1, 0, 1, 0, 1, 0]
    temps = oracle.thermostatic_temperatures_c(
        {"round_start": ems.round_start, "step_s": 900, "steps": 6, "outdoor_temp_c": outdoor},
        heater,
        [*previous[:-1], 1],
    )
    heater |= {
        "comfort_min_c": [t - 0.01 for t in temps],
        "comfort_max_c": [t + 3.0 for t in temps],
        "previous_decisions": previous,
    }
    plan = ems.plan(ems.scenario([-500.0] * 6, [heater], outdoor_temp_c=outdoor))
    assert ems.device(plan).decisions == [*previous[:-1], 1]
