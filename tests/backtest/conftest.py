"""Small backtest worlds, shared by the backtest tests (built once: pvlib and demandlib take
a fraction of a second each)."""

from __future__ import annotations

import pytest

from elfe_ems.sim.world import Site, TaskKey, World, build_world

SITE = Site(47.65, -2.08, "Europe/Paris")


@pytest.fixture(scope="session")
def site() -> Site:
    """The demo's site (the configuration's defaults)."""
    return SITE


@pytest.fixture(scope="session")
def summer_world() -> World:
    """Day 1 of summer, 4 homes: machines, tanks and a car, no heating."""
    return build_world(TaskKey("summer", 0, 1, 4), SITE)


@pytest.fixture(scope="session")
def winter_world() -> World:
    """Day 1 of winter, 4 homes: heaters too."""
    return build_world(TaskKey("winter", 0, 1, 4), SITE)
