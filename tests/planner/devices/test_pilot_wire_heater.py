"""Pilot-wire heaters: comfort (1) or eco (0) at each step of its comfort periods, eco outside.

The default heater draws 100 W in eco and 1000 W in comfort (900 W more). Eco power is drawn
whatever the plan, so a surplus of 1000 W takes one comfort step at no import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import oracle
from elfe_ems.planner.devices.pilot_wire_heater import PilotWireHeaterModel
from elfe_ems.planner.scenario import PilotWireHeaterSpec, ScenarioError, parse_scenario
from elfe_ems.timegrid import Grid

Spec = dict[str, Any]
ECO, COMFORT = 100.0, 1000.0


@pytest.fixture
def heater(ems: Any) -> Callable[..., Spec]:
    """Factory of pilot-wire heater specs; ``periods`` are (first step, end step, owed)."""

    def make(periods: Sequence[tuple[int, int, int]], **changes: Any) -> Spec:
        spec: Spec = {
            "id": 1,
            "type": "pilot_wire_heater",
            "eco_power_w": ECO,
            "comfort_power_w": COMFORT,
            "comfort_periods": [
                {"start": ems.at(first), "end": ems.at(end), "min_comfort_steps": owed}
                for first, end, owed in periods
            ],
        }
        spec.update(changes)
        return spec

    return make


def eco_runs_ok(decisions: Sequence[int], first: int, end: int, window: int, least: int) -> bool:
    """Every run of ``window`` steps in [first, end) has at least ``least`` comfort steps."""
    return all(sum(decisions[s : s + window]) >= least for s in range(first, end - window + 1))


def expected_power(decisions: Sequence[int]) -> list[float]:
    return [COMFORT if d else ECO for d in decisions]


def test_comfort_in_the_surplus(ems: Any, heater: Callable[..., Spec]) -> None:
    # period: steps 2-9 (8 steps), 6 comfort steps owed; at most 1 eco in any 4 steps.
    # Surplus of 1000 W at steps 2-4 and 6-8: comfort there is free. Deficit at 5 and 9:
    # eco there. Eco at 5 and 9 leaves one eco in each run of 4 steps, and 6 comfort steps.
    net = [0, 0, -1000, -1000, -1000, 2000, -1000, -1000, -1000, 2000, 0, 0]
    plan = ems.plan(ems.scenario([float(x) for x in net], [heater([(2, 10, 6)])]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == [0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0]
    assert device.power_w == expected_power(device.decisions)
    assert device.warnings == []
    # import: eco at 0, 1, 10, 11 (100 W) and 5, 9 (2100 W) -> (4 * 100 + 2 * 2100) * 0.25
    assert plan.import_wh == pytest.approx(1150.0)
    # without EMS: comfort all period, 3000 W at 5 and 9 -> (400 + 6000) * 0.25
    assert plan.import_wh_asap == pytest.approx(1600.0)


def test_flat_deficit_least_comfort_under_window_rule(
    ems: Any, heater: Callable[..., Spec]
) -> None:
    # no comfort owed, deficit everywhere: as much eco as the rule allows. In 8 steps with at
    # most one eco in any 4 consecutive, eco steps are at least 4 apart: 2 eco, 6 comfort.
    device = ems.device(ems.plan(ems.scenario([1000.0] * 12, [heater([(2, 10, 0)])])))
    decisions = device.decisions
    assert sum(decisions[2:10]) == 6
    assert eco_runs_ok(decisions, 2, 10, 4, 3)
    assert decisions[:2] == [0, 0]  # eco outside the period
    assert decisions[10:] == [0, 0]
    assert device.power_w == expected_power(decisions)


def test_owed_comfort_above_the_window_rule(ems: Any, heater: Callable[..., Spec]) -> None:
    # 7 comfort steps owed in the 8-step period: more than the rule needs (6)
    device = ems.device(ems.plan(ems.scenario([1000.0] * 12, [heater([(2, 10, 7)])])))
    assert sum(device.decisions) == 7
    assert sum(device.decisions[2:10]) == 7
    assert eco_runs_ok(device.decisions, 2, 10, 4, 3)


def test_sparse_rule_fewest_switches(ems: Any, heater: Callable[..., Spec]) -> None:
    # rule: at least 1 comfort step in any 4 (at most 3 eco). Runs of 4 in steps 2-9 start at
    # 2..6; one comfort step hits at most 4 of these 5 runs, so 2 are needed. Step 5 is free
    # (surplus) and hits runs 2..5; run 6-9 needs one more at 6, 7, 8 or 9 (same import).
    # Fewest switches to comfort: 6, next to 5 (one switch instead of two).
    net = [1000.0] * 5 + [-1000.0] + [1000.0] * 6
    spec = heater([(2, 10, 0)], window_steps=4, min_comfort_in_window=1)
    device = ems.device(ems.plan(ems.scenario(net, [spec])))
    assert device.decisions == ems.one_hot(12, 5, 6)
    assert device.power_w == expected_power(device.decisions)


def test_owed_above_period_length(
    ems: Any, heater: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    # 5 steps owed in a 3-step period (steps 2-4): comfort all period, with a warning
    with caplog.at_level(logging.WARNING):
        device = ems.device(ems.plan(ems.scenario([1000.0] * 8, [heater([(2, 5, 5)])])))
    assert device.status == "planned"
    assert device.decisions == [0, 0, 1, 1, 1, 0, 0, 0]
    assert device.power_w == [ECO, ECO, COMFORT, COMFORT, COMFORT, ECO, ECO, ECO]
    (warning,) = device.warnings
    assert warning.startswith("[WARN_CONSTRAINT]")
    assert "comfort all period" in warning
    assert any(
        r.getMessage().startswith("[WARN_CONSTRAINT] device 1 (pilot_wire_heater)")
        for r in caplog.records
    )


def test_period_shorter_than_window(ems: Any, heater: Callable[..., Spec]) -> None:
    # a 2-step period (steps 3-4) is one run: at most 4 - 3 = 1 eco step in it, so 1 comfort
    # step even with nothing owed. Surplus at step 4: the comfort step goes there.
    net = [1000.0] * 4 + [-1000.0] + [1000.0] * 3
    device = ems.device(ems.plan(ems.scenario(net, [heater([(3, 5, 0)])])))
    assert device.decisions == ems.one_hot(8, 4)
    assert device.warnings == []


def test_period_shorter_than_window_loose_rule(ems: Any, heater: Callable[..., Spec]) -> None:
    # rule 2 of 4 allows 2 eco steps: a 2-step period with nothing owed is all eco
    spec = heater([(3, 5, 0)], min_comfort_in_window=2)
    device = ems.device(ems.plan(ems.scenario([1000.0] * 8, [spec])))
    assert device.decisions == [0] * 8
    assert device.power_w == [ECO] * 8


def test_each_period_gets_its_owed_comfort(ems: Any, heater: Callable[..., Spec]) -> None:
    # period A: steps 0-3, 4 owed (all of it); period B: steps 6-9, 3 owed; deficit everywhere
    device = ems.device(ems.plan(ems.scenario([1000.0] * 12, [heater([(0, 4, 4), (6, 10, 3)])])))
    decisions = device.decisions
    assert decisions[:4] == [1, 1, 1, 1]
    assert sum(decisions[6:10]) == 3
    assert decisions[4:6] == [0, 0]
    assert decisions[10:] == [0, 0]


def test_no_period_is_eco_all_day(ems: Any, heater: Callable[..., Spec]) -> None:
    plan = ems.plan(ems.scenario([-2000.0] * 4, [heater([])]))
    device = ems.device(plan)
    assert device.status == "planned"
    assert device.decisions == [0, 0, 0, 0]
    assert device.power_w == [ECO] * 4


def test_periods_snapped_and_cut_to_the_horizon() -> None:
    grid = Grid(round_start=9000, step_s=900, steps=8)

    def covered(start: int, end: int) -> list[int]:
        spec = PilotWireHeaterSpec(
            id=1,
            type="pilot_wire_heater",
            eco_power_w=ECO,
            comfort_power_w=COMFORT,
            comfort_periods=[{"start": start, "end": end, "min_comfort_steps": 0}],
        )
        return PilotWireHeaterModel(spec, grid).steps_covered.tolist()

    t = [9000 + k * 900 for k in range(-4, 13)]  # t[k + 4] = start of step k
    # 100 s into step 2 until 100 s into step 4: outward to whole steps 2, 3, 4
    assert covered(t[2 + 4] + 100, t[4 + 4] + 100) == [2, 3, 4]
    # began 3 steps ago, ends at step 2: steps 0, 1
    assert covered(t[-3 + 4], t[2 + 4]) == [0, 1]
    # from step 6 to past the horizon: steps 6, 7
    assert covered(t[6 + 4], t[12 + 4]) == [6, 7]
    # wholly before or after the horizon: nothing
    assert covered(t[-4 + 4], t[0 + 4]) == []
    assert covered(t[8 + 4], t[12 + 4]) == []


# --- the period in progress at the round start: windows straddling it -------------------


@pytest.mark.parametrize(
    ("applied", "period_end", "expected"),
    [
        # applied comfort, comfort, eco: the run [-3, 1) needs comfort at 0, [-2, 2) at 0-1,
        # [-1, 3) at 0-2 (it holds the applied eco). The next eco is then at 3 at the
        # earliest and the one after at 7: 2 eco, the most 8 steps allow from there.
        ([1, 1, 0], 8, [1, 1, 1, 0, 1, 1, 1, 0, 0, 0]),
        # nothing applied: 2 eco too, with the fewest switches to comfort (eco at 0 and 7)
        ([], 8, [0, 1, 1, 1, 1, 1, 1, 0, 0, 0]),
        # span of 1 applied eco + 2 steps: one run of 3 with at most 1 eco: both comfort
        ([0], 2, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
    ],
)
def test_windows_straddling_the_round_start_count_the_applied_steps(
    ems: Any,
    heater: Callable[..., Spec],
    applied: list[int],
    period_end: int,
    expected: list[int],
) -> None:
    spec = heater([(0, period_end, 0)], applied_before=applied)
    device = ems.device(ems.plan(ems.scenario([1000.0] * 10, [spec])))
    assert device.warnings == []
    assert device.decisions == expected
    assert eco_runs_ok(applied + device.decisions, 0, len(applied) + period_end, 4, 3)


def test_applied_steps_that_break_the_rule_relax_it_by_the_least(
    ems: Any, heater: Callable[..., Spec], caplog: pytest.LogCaptureFixture
) -> None:
    # applied eco, eco, comfort: the run [-3, 1) holds 2 eco whatever step 0 is, so it is
    # relaxed to comfort at 0; [-2, 2) still holds (comfort at 0 and 1), [-1, 3) too. In the
    # 7-step period, eco at 2 and 6 (4 apart) is then the only way to 2 eco.
    spec = heater([(0, 7, 0)], applied_before=[0, 0, 1])
    with caplog.at_level(logging.WARNING):
        device = ems.device(ems.plan(ems.scenario([1000.0] * 8, [spec])))
    assert device.status == "planned"
    assert device.decisions == [1, 1, 0, 1, 1, 1, 0, 0]
    assert device.warnings == [
        "[WARN_CONSTRAINT] the 3 steps applied before the round start hold 2 eco: the window "
        "rule cannot hold, comfort on steps [0, 1)"
    ]
    assert any(r.getMessage().startswith("[WARN_CONSTRAINT] device 1") for r in caplog.records)


def test_applied_steps_without_a_period_in_progress_are_ignored(
    ems: Any, heater: Callable[..., Spec]
) -> None:
    spec = heater([(2, 6, 0)], applied_before=[0, 0, 0])
    device = ems.device(ems.plan(ems.scenario([1000.0] * 8, [spec])))
    (warning,) = device.warnings
    assert warning.startswith("[WARN_IGNORED] applied_before given but no comfort period")
    assert sum(device.decisions[2:6]) == 3  # the period's own rule only


def test_applied_steps_are_at_most_one_window_less_one(
    ems: Any, heater: Callable[..., Spec]
) -> None:
    spec = heater([(0, 4, 0)], applied_before=[1, 1, 1, 1])
    with pytest.raises(ScenarioError, match="applied_before holds 4 steps, at most"):
        parse_scenario(ems.scenario([0.0] * 4, [spec]))


# the ems fixture is stateless: sharing it between examples is safe
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    applied=st.lists(st.integers(0, 1), max_size=3),
    period_end=st.integers(1, 10),
    owed=st.integers(0, 4),
    net=st.lists(st.sampled_from([-1000.0, 0.0, 1000.0]), min_size=10, max_size=10),
)
def test_plans_keep_the_straddling_windows_by_the_oracle(
    ems: Any,
    heater: Callable[..., Spec],
    applied: list[int],
    period_end: int,
    owed: int,
    net: list[float],
) -> None:
    """A plan keeps the oracle's rules, the windows that straddle the round start included.
    It warns only when comfort owed exceeds the period or the applied steps hold 2 eco (the
    earliest run that straddles the round start holds them all, and allows one)."""
    spec = heater([(0, period_end, owed)], applied_before=applied)
    raw = ems.scenario(net, [spec])
    device = ems.device(ems.plan(raw))
    assert oracle.violations(raw, spec, device.decisions, relaxed=bool(device.warnings)) == []
    assert bool(device.warnings) == (applied.count(0) > 1 or owed > period_end)


def test_the_oracle_counts_the_applied_steps(ems: Any, heater: Callable[..., Spec]) -> None:
    # eco at 0 after an applied eco at -1: 2 eco in the run [-1, 3)
    spec = heater([(0, 8, 0)], applied_before=[1, 1, 0])
    raw = ems.scenario([0.0] * 10, [spec])
    assert oracle.violations(raw, spec, [0, 1, 1, 1, 1, 1, 1, 0, 0, 0]) == [
        "run [-3, 1): 2 comfort steps, need 3",
        "run [-2, 2): 2 comfort steps, need 3",
        "run [-1, 3): 2 comfort steps, need 3",
    ]
    assert oracle.violations(raw, spec, [1, 1, 1, 0, 1, 1, 1, 0, 0, 0]) == []
