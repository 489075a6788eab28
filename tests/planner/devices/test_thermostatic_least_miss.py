"""The least miss of a thermostatic heater's band, by the dynamic programme, against brute
force and the MILP of the heater alone.

A band the least-heating thermostat misses is settled when the heater is prepared: held if
any schedule holds it (with the least heating found), else missed by the least total
[K·step], proven by the programme's bound to within ``LEAST_MISS_RESOLUTION_KH`` (the warning's
precision). The MILP is only a fallback.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elfe_ems.planner.devices import thermostatic_heater
from elfe_ems.planner.devices.thermostatic_heater import (
    LEAST_MISS_RESOLUTION_KH,
    ThermostaticHeaterModel,
)
from elfe_ems.planner.scenario import ThermostaticHeaterSpec
from elfe_ems.sim.synthetic import community_scenario
from elfe_ems.timegrid import Grid

WINTER_8H = 1_736_924_400  # 2025-01-15 08:00 Europe/Paris
RESOLUTION_K = LEAST_MISS_RESOLUTION_KH / 0.25  # [K·step] at 15-minute steps
MILP_RESOLUTION_K = 1e-4  # the reference MILP's (its own tolerances are about 1e-7 a step)


def model_of(spec: dict[str, Any], outdoor: list[float]) -> ThermostaticHeaterModel:
    grid = Grid(round_start=9000, step_s=900, steps=len(outdoor))
    return ThermostaticHeaterModel(ThermostaticHeaterSpec(**spec), grid, outdoor)


def brute_force(model: ThermostaticHeaterModel) -> tuple[float, int]:
    """The least total miss over every schedule, and the least heating steps among the
    schedules that hold the band (-1 when none does)."""
    schedules = [np.array(u) for u in itertools.product((0, 1), repeat=model.grid.steps)]
    misses = [model._total_miss_k(u) for u in schedules]
    holding = [int(u.sum()) for u in schedules if model._holds_band(u)]
    return min(misses), min(holding, default=-1)


@st.composite
def heaters(draw: st.DrawFn) -> tuple[dict[str, Any], list[float]]:
    """A heater of 8-10 steps whose band is often narrower than a step of heating."""
    steps = draw(st.integers(8, 10))
    outdoor = draw(st.lists(st.floats(-5, 12), min_size=steps, max_size=steps))
    low = draw(st.lists(st.floats(17, 22), min_size=steps, max_size=steps))
    width = draw(st.floats(0, 1.5))
    spec = {
        "id": 1,
        "type": "thermostatic_heater",
        "power_w": float(draw(st.integers(500, 3000))),
        "r_k_per_w": draw(st.sampled_from([0.003, 0.01, 0.03])),
        "c_j_per_k": draw(st.sampled_from([2e5, 5e5, 2e6])),
        "initial_temp_c": draw(st.floats(14, 22)),
        "comfort_min_c": low,
        "comfort_max_c": [t + width for t in low],
    }
    return spec, outdoor


@settings(max_examples=60, deadline=None)
@given(heaters())
def test_least_miss_is_the_brute_force_least(case: tuple[dict[str, Any], list[float]]) -> None:
    spec, outdoor = case
    model = model_of(spec, outdoor)
    least, fewest_on = brute_force(model)
    if fewest_on >= 0:  # some schedule holds the band: held, no budget, no warning
        assert model.miss_budget_k == 0
        assert model._holds_band(model.least_heating)
        assert model.warnings == []
        return
    assert least <= model.miss_budget_k <= least + RESOLUTION_K
    assert model._total_miss_k(model.least_heating) == pytest.approx(model.miss_budget_k)
    (warning,) = model.warnings
    assert warning.startswith("[WARN_CONSTRAINT] comfort band out of reach: missed by the least")
    assert f"{model.miss_budget_k * 0.25:.2f} K·h" in warning


@settings(max_examples=20, deadline=None)
@given(heaters())
def test_same_least_miss_as_the_milp(case: tuple[dict[str, Any], list[float]]) -> None:
    """The dynamic programme's least miss is the MILP's (proven optimal on these small
    heaters) within the programme's resolution."""
    spec, outdoor = case
    model = model_of(spec, outdoor)
    dp_miss = model.miss_budget_k
    by_milp = model_of(spec, outdoor)
    milp_miss, proven = by_milp._least_miss_milp(math.inf, 0.0, MILP_RESOLUTION_K)
    assert proven
    assert abs(dp_miss - milp_miss) <= RESOLUTION_K + MILP_RESOLUTION_K


def test_band_held_only_by_heating_to_the_top_is_held_without_milp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """a = 1/2, Tout = 18, R P = 4 K: off -> T/2 + 9, on -> T/2 + 11. From 20, step 1 must
    end in [19, 19.5]: the thermostat, 19 at step 0, then ends at 18.5 or 20.5 and misses;
    heating at step 0 to 21, the top of its band, then cooling to 19.5 holds it
    (21, 19.5, 18.75, 20.375, 19.1875, 20.59375). Found by the programme, with the least
    heating: the MILP is never asked."""

    def no_milp(*_: object) -> tuple[float, bool]:
        raise AssertionError("the MILP fallback was used")

    monkeypatch.setattr(ThermostaticHeaterModel, "_least_miss_milp", no_milp)
    spec = {
        "id": 1,
        "type": "thermostatic_heater",
        "power_w": 400.0,
        "r_k_per_w": 0.01,
        "c_j_per_k": 900 / (0.01 * math.log(2)),
        "initial_temp_c": 20.0,
        "comfort_min_c": [18.0, 19.0, 18.0, 20.0, 19.0, 20.0],
        "comfort_max_c": [21.0, 19.5, 21.0, 21.0, 22.0, 22.0],
    }
    model = model_of(spec, [18.0] * 6)
    assert not model._holds_band(model._thermostat(model._lowest_holdable_c()))
    assert model._holds_band(np.array([1, 0, 0, 1, 0, 1]))
    _, fewest_on = brute_force(model)
    assert model.miss_budget_k == 0
    assert model._holds_band(model.least_heating)
    assert int(model.least_heating.sum()) == fewest_on == 3
    assert model.warnings == []


def test_day_long_bands_out_of_reach_are_settled_in_seconds() -> None:
    """A winter heater of a day (96 steps) whose band is cut to 0.3 K, less than a step of
    heating moves the room: it misses it, by much less than the thermostat, in seconds (the
    MILP of the heater alone took 17-60 s to prove such a least miss)."""
    scenario = community_scenario(
        thermostatic_heaters=1, season="winter", round_start=WINTER_8H, seed=3
    )
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    outdoor = np.asarray(scenario.outdoor_temp_c)
    for spec in scenario.devices:
        assert isinstance(spec, ThermostaticHeaterSpec)
        narrow = spec.model_copy(update={"comfort_max_c": [t + 0.3 for t in spec.comfort_min_c]})
        began = time.perf_counter()
        model = ThermostaticHeaterModel(narrow, grid, outdoor)
        assert time.perf_counter() - began < 10.0  # generous: a loaded 2-core machine
        thermostat = model._thermostat(model._lowest_holdable_c())
        assert 1.0 < model.miss_budget_k < 0.8 * model._total_miss_k(thermostat)
        assert model._total_miss_k(model.least_heating) == pytest.approx(model.miss_budget_k)
        (warning,) = model.warnings
        assert "comfort band out of reach: missed by the least" in warning


def test_milp_fallback_when_the_bound_does_not_prove(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the programme at a single coarse level, its bound cannot prove a narrow band's
    least miss: the MILP of the heater alone settles it, and the warning says so."""
    monkeypatch.setattr(thermostatic_heater, "LEAST_MISS_BUCKETS", (4,))
    spec = {
        "id": 1,
        "type": "thermostatic_heater",
        "power_w": 2000.0,
        "r_k_per_w": 0.01,
        "c_j_per_k": 900 / (0.01 * math.log(2)),
        "initial_temp_c": 20.0,
        "comfort_min_c": [24.0] * 6,
        "comfort_max_c": [24.5] * 6,
    }
    model = model_of(spec, [10.0] * 6)
    least, _ = brute_force(model)
    assert model.miss_budget_k == pytest.approx(least, abs=RESOLUTION_K)
    (warning,) = model.warnings
    assert "missed by the least possible" in warning
