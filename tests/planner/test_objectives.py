"""More objectives: a price per step (peak/off-peak tariff), and the peak import stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import test_properties
from hypothesis import given, settings
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import parse_scenario, read_plan
from elfe_ems.round.tariff import Tariff, parse_window, solve_options
from elfe_ems.timegrid import Grid

PARIS = ZoneInfo("Europe/Paris")
OFF_PEAK = Tariff(0.27, 0.2068, ["22:00-06:00"], PARIS)


def test_off_peak_windows_in_local_time_across_midnight_and_dst() -> None:
    # 2026-10-24 20:00Z = 22:00 CEST; the clocks go back at 03:00 CEST (01:00Z)
    grid = Grid(1_792_872_000, 3600, 12)
    prices = OFF_PEAK.prices(grid)
    # 22:00 CEST to 06:00 CET is 9 hours that night: 20:00Z to 05:00Z
    assert prices == (0.2068,) * 9 + (0.27,) * 3


@pytest.mark.parametrize("text", ["22:00", "25:00-06:00", "22:00-06:60", "24:30-01:00", "a-b"])
def test_bad_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="off-peak window"):
        parse_window(text)


def test_options_from_settings() -> None:
    grid = Grid(1_792_872_000, 900, 4)
    options = solve_options(5.0, 0.01, grid, "price", OFF_PEAK, "off")
    assert options.price_per_kwh == (0.2068,) * 4
    assert options.peak_tolerance == 0
    assert solve_options(5.0, 0.01, grid, "import", OFF_PEAK, 0.002).price_per_kwh is None


def machine(ems: Any, latest: int) -> dict[str, Any]:
    return {
        "id": 1,
        "type": "machine",
        "profile_w": [1000.0],
        "earliest_start": ems.at(0),
        "latest_end": ems.at(latest),
    }


def test_price_objective_moves_consumption_to_the_cheap_steps(ems: Any) -> None:
    raw = ems.scenario([500.0] * 4, [machine(ems, 4)])
    by_import = ems.plan(raw)
    assert ems.device(by_import).decisions == [1, 0, 0, 0]  # same import: the earliest
    prices = (0.3, 0.3, 0.1, 0.3)
    by_price, _ = solve(parse_scenario(raw), SolveOptions(price_per_kwh=prices))
    assert ems.device(by_price).decisions == [0, 0, 1, 0]
    solver = by_price.solver
    assert solver.objective == "price"
    assert solver.cost == pytest.approx(0.25 * (0.5 * 0.3 * 3 + 1.5 * 0.1))
    assert solver.lower_bound_cost is not None
    assert solver.lower_bound_cost <= solver.cost
    assert solver.lower_bound_wh is None
    assert by_price.import_wh == pytest.approx(by_import.import_wh)


def test_prices_must_cover_every_step(ems: Any) -> None:
    raw = ems.scenario([500.0] * 4, [machine(ems, 4)])
    with pytest.raises(ValueError, match="3 prices"):
        solve(parse_scenario(raw), SolveOptions(price_per_kwh=(0.1, 0.2, 0.3)))


def two_machines(ems: Any) -> dict[str, Any]:
    """Two 1 kW machines in a deficit: every placement imports the same."""
    first = machine(ems, 4)
    return ems.scenario([500.0] * 4, [first, {**first, "id": 2}])


def test_peak_stage_spreads_equal_import(ems: Any) -> None:
    raw = two_machines(ems)
    flat, _ = solve(parse_scenario(raw), SolveOptions(peak_tolerance=0))
    assert [d.decisions for d in flat.devices] == [[1, 0, 0, 0]] * 2  # both at the earliest
    assert flat.peak_import_w == pytest.approx(2500.0)
    spread, _ = solve(parse_scenario(raw), SolveOptions(peak_tolerance=0.001))
    assert spread.peak_import_w == pytest.approx(1500.0)
    assert spread.import_wh == pytest.approx(flat.import_wh)
    starts = sorted(d.decisions.index(1) for d in spread.devices)
    assert starts == [0, 1]  # the tie-break keeps them early, without raising the peak


@settings(max_examples=30, deadline=None)
@given(test_properties.scenarios())
def test_peak_stage_never_raises_the_peak_nor_the_import_beyond_the_tolerance(raw: Any) -> None:
    scenario = parse_scenario(raw)
    exact, _ = solve(scenario, SolveOptions(time_limit_s=10, gap=0, peak_tolerance=0))
    peaked, _ = solve(scenario, SolveOptions(time_limit_s=10, gap=0, peak_tolerance=0.01))
    assert peaked.import_wh <= exact.import_wh * 1.01 + 1e-3
    assert peaked.peak_import_w <= exact.peak_import_w + 1e-3
    assert peaked.peak_import_w == pytest.approx(
        max(0.0, *np.asarray(peaked.net_load_with_flexible_w))
    )


def test_solve_command_with_the_price_objective(ems: Any, tmp_path: Path) -> None:
    raw = ems.scenario([500.0] * 8, [machine(ems, 8)])
    scenario = ems.write(tmp_path / "round.json", raw)
    result = CliRunner().invoke(
        app, ["solve", str(scenario), "--objective", "price", "--off-peak", "00:00-01:00"]
    )
    assert result.exit_code == 0, result.output
    plan = read_plan(tmp_path / "round.plan.json")
    assert plan.solver.objective == "price"
    assert "Solver: optimal, cost " in result.stdout
    assert "peak " in result.stdout
    bad = CliRunner().invoke(app, ["solve", str(scenario), "--off-peak", "22h-6h"])
    assert bad.exit_code == 2
    assert "off-peak window '22h-6h' is not HH:MM-HH:MM" in bad.output
