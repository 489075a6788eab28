"""One closed-loop winter day in process: with heaters on their programmes, planned round
after round on persistence's forecast, every user constraint is kept (checked from the
requests, pilot-wire comfort owed and "at most one eco quarter hour in 4" included) and the
rooms stay in their bands.

The day is one where a pilot-wire heater's comfort period straddles round starts after eco
quarter hours: without the rounds passing the quarter hours already applied
(``applied_before``), 2 "2 eco steps in 4 consecutive ones" breaks appear (measured)."""

from __future__ import annotations

import pytest

from elfe_ems.backtest.loop import Task, TaskResult, run_task
from elfe_ems.sim.world import Site, TaskKey, build_world

KEY = TaskKey("winter", 0, 2, 8)  # day 0, seed 2, 8 homes: 2 pilot-wire, 2 thermostatic


@pytest.fixture(scope="module")
def day(site: Site) -> dict[str, TaskResult]:
    return {c: run_task(Task(KEY, c, site)) for c in ("none", "persistence")}


def test_the_day_has_both_kinds_of_heater(site: Site) -> None:
    community = build_world(KEY, site).community
    assert community.pilot_wire_heaters
    assert community.thermostatic_heaters


def test_every_constraint_kept(day: dict[str, TaskResult]) -> None:
    for result in day.values():
        assert result.broken == ()
    # K·h over the day: the EMS heats ahead of the comfort periods (without it the rooms'
    # thermostats start at the switch, and the rooms are below their bands while they warm up)
    assert day["persistence"].comfort_missed_kh < 0.1


def test_every_round_planned(day: dict[str, TaskResult]) -> None:
    statuses = day["persistence"].statuses
    assert sum(statuses.values()) == 96
    assert set(statuses) <= {"optimal", "feasible"}  # never the greedy fallback alone
