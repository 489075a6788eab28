"""The synthetic communities under the weather of Rennes (``weather=brittany_weather(grid)``)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from elfe_ems.planner.scenario import Scenario
from elfe_ems.sim.synthetic import Weather, brittany_weather, community_scenario
from elfe_ems.timegrid import STEP_S, STEPS, Grid
from elfe_ems.timegrid.local import local_instant

TZ = ZoneInfo("Europe/Paris")
JANUARY, JULY = date(2025, 1, 15), date(2025, 7, 2)


def _round_start(day: date, hour: int = 8) -> int:
    return local_instant(day, hour * 3600, TZ)


def _community(day: date, seed: int = 1, homes: int = 20) -> Scenario:
    grid = Grid(_round_start(day), STEP_S, STEPS)
    season = "summer" if day.month in (5, 6, 7, 8, 9) else "winter"
    return community_scenario(
        homes,
        season=season,
        round_start=grid.round_start,
        seed=seed,
        weather=brittany_weather(grid),
    )


def test_the_scenario_carries_the_weather_given() -> None:
    grid = Grid(_round_start(JANUARY), STEP_S, STEPS)
    scenario = _community(JANUARY)
    expected = np.round(brittany_weather(grid).outdoor_temp_c, 2)
    assert scenario.outdoor_temp_c == pytest.approx(expected.tolist())


def test_a_july_round_has_a_midday_surplus_and_january_is_colder() -> None:
    july, january = _community(JULY), _community(JANUARY)
    assert july.outdoor_temp_c is not None
    assert january.outdoor_temp_c is not None
    assert min(july.net_load_w) < 0  # the PV exceeds the household load around midday
    assert min(january.net_load_w) > 0
    assert max(january.outdoor_temp_c) < min(july.outdoor_temp_c)


def test_the_same_seed_gives_the_same_scenario() -> None:
    first, again, other = _community(JULY, 3), _community(JULY, 3), _community(JULY, 4)
    assert first.model_dump_json() == again.model_dump_json()
    assert first.model_dump_json() != other.model_dump_json()


def test_the_weather_changes_nothing_but_the_weather_draws() -> None:
    """The devices that do not depend on the weather are those of the synthetic weather."""
    start = _round_start(JANUARY)
    synthetic = community_scenario(20, round_start=start, seed=1)
    rennes = _community(JANUARY)
    assert [d for d in synthetic.devices if d.type != "thermostatic_heater"] == [
        d for d in rennes.devices if d.type != "thermostatic_heater"
    ]


def test_a_weather_of_the_wrong_length_is_refused() -> None:
    weather = Weather(np.zeros(STEPS - 1), np.zeros(STEPS - 1))
    with pytest.raises(ValueError, match="one value per step"):
        community_scenario(20, round_start=_round_start(JANUARY), seed=1, weather=weather)


@pytest.mark.parametrize("seed", [1, 2, 3, 5375])
def test_heaters_in_summer_start_inside_their_first_band(seed: int) -> None:
    """No start holds a summer room's bands all day (it cannot cool below the outdoors): the
    room then starts inside its first band, not at the far end of an empty range (a July
    round once started a room at -1348 °C)."""
    grid = Grid(_round_start(JULY, 6), STEP_S, STEPS)
    scenario = community_scenario(
        thermostatic_heaters=8,
        season="summer",
        round_start=grid.round_start,
        seed=seed,
        weather=brittany_weather(grid),
    )
    heaters = [d for d in scenario.devices if d.type == "thermostatic_heater"]
    assert heaters
    for heater in heaters:
        assert heater.comfort_min_c[0] - 0.01 <= heater.initial_temp_c
        assert heater.initial_temp_c <= heater.comfort_max_c[0] + 0.01
