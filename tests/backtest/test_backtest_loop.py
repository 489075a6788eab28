"""One closed-loop day in process: the configurations, the checks and the accounting."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from elfe_ems.backtest.loop import Task, TaskResult, quiet_rounds, run_task
from elfe_ems.sim.world import Site, TaskKey
from elfe_ems.timegrid import STEPS

KEY = TaskKey("summer", 0, 1, 6)  # 4 homes: nothing to move into the sun that day


@pytest.fixture(scope="module")
def day(site: Site) -> dict[str, TaskResult]:
    return {c: run_task(Task(KEY, c, site)) for c in ("none", "persistence", "perfect")}


def test_every_constraint_kept(day: dict[str, TaskResult]) -> None:
    for result in day.values():
        assert result.broken == ()
        assert result.comfort_missed_kh == 0  # no heating in summer


def test_the_ems_imports_less(day: dict[str, TaskResult]) -> None:
    none, perfect = day["none"].figures, day["perfect"].figures
    assert perfect.import_wh < none.import_wh - 1000
    assert day["persistence"].figures.import_wh < none.import_wh
    # the same true day: same PV, and the same energy for the machines and cars
    assert perfect.pv_wh == none.pv_wh


def test_accounting(day: dict[str, TaskResult]) -> None:
    for result in day.values():
        figures, net = result.figures, result.net_load_w
        assert net.size == STEPS
        assert figures.import_wh == pytest.approx(np.maximum(net, 0).sum() / 4)
        assert figures.export_wh == pytest.approx(np.maximum(-net, 0).sum() / 4)
        assert figures.peak_import_w == pytest.approx(net.max())


def test_rounds_and_forecast_errors(day: dict[str, TaskResult]) -> None:
    assert day["none"].round_s == ()
    assert day["none"].mae_w is None
    assert day["perfect"].mae_w is None
    assert len(day["persistence"].round_s) == STEPS
    assert sum(day["persistence"].statuses.values()) == STEPS
    mae = day["persistence"].mae_w
    assert mae is not None
    assert mae.shape == (STEPS,)
    assert (mae > 0).all()


def test_a_task_is_deterministic(day: dict[str, TaskResult], site: Site) -> None:
    again = run_task(Task(KEY, "none", site))
    assert again.figures == day["none"].figures
    assert again.broken == day["none"].broken


def test_unknown_configuration(site: Site) -> None:
    with pytest.raises(ValueError, match="unknown configuration 'oracle'"):
        run_task(Task(KEY, "oracle", site))


def test_quiet_rounds_restore_the_level_when_the_last_run_ends() -> None:
    """Runs that share a process as threads overlap: the first to end leaves it quiet."""
    logger = logging.getLogger("elfe_ems")
    before = logger.level
    first, second = quiet_rounds(), quiet_rounds()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert logger.level == logging.ERROR
    second.__exit__(None, None, None)
    assert logger.level == before
