"""``ems replay SCENARIO.json [--net-load CSV]`` on the scenario a round saved.

The replayed net load moves the surplus meant for machine 1 from steps 56-58 to 60-62 (its
start window is steps 53-61): the replay starts it at 60 and says which devices changed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.planner.core import SolveOptions
from elfe_ems.round.replay import read_options, replay, save_options
from elfe_ems.store.run_files import saved_options_path

MOVED = {56: 60, 57: 61, 58: 62}


def _moved_net_load(case: Any) -> list[float]:
    surplus = [case.surplus_w(k) for k in range(96)]
    for old, new in MOVED.items():
        surplus[old], surplus[new] = surplus[new], surplus[old]
    return [-w for w in surplus]


def _csv(path: Path, net_load_w: list[float]) -> Path:
    path.write_text("net_load_w\n" + "".join(f"{w:g}\n" for w in net_load_w), encoding="utf-8")
    return path


def test_replay_with_another_net_load(published: Any, case: Any, tmp_path: Path) -> None:
    scenario = published.outcome.scenario_path
    csv = _csv(tmp_path / "net-load.csv", _moved_net_load(case))
    result = CliRunner().invoke(app, ["replay", str(scenario), "--net-load", str(csv)])
    assert result.exit_code == 0, result.output
    saved = published.outcome.plan.import_wh / 1000
    assert f"Saved plan: import {saved:,.2f} kWh; replay: " in result.output
    changed = re.search(
        r"(\d+) of (\d+) devices with other decisions: ([\d, ]+)$", result.output, re.M
    )
    assert changed is not None, result.output
    assert int(changed[2]) == len(case.PLANNED_IDS)
    ids = [int(i) for i in changed[3].split(",")]
    assert int(changed[1]) == len(ids)
    assert 1 in ids
    assert not {4, 5, 6, 11, 20, 41} & set(ids)  # their surplus or deficit did not move

    again = replay(scenario, csv, SolveOptions(time_limit_s=30))
    machine_1 = next(d for d in again.plan.devices if d.id == 1)
    assert case.ones(machine_1.decisions) == [60]
    assert again.saved == published.outcome.plan
    assert sorted(again.changed_ids) == sorted(ids)
    difference = (again.plan.import_wh - again.saved.import_wh) / 1000
    assert f"({difference:+,.2f} kWh)" in result.output


def test_replay_unchanged(published: Any, case: Any) -> None:
    """Without --net-load: the same scenario gives the same plan."""
    result = CliRunner().invoke(app, ["replay", str(published.outcome.scenario_path)])
    assert result.exit_code == 0, result.output
    assert "(+0.00 kWh)" in result.output
    assert f"0 of {len(case.PLANNED_IDS)} devices with other decisions" in result.output


def test_replay_bad_csv(published: Any, tmp_path: Path) -> None:
    csv = _csv(tmp_path / "short.csv", [0.0] * 95)
    result = CliRunner().invoke(
        app, ["replay", str(published.outcome.scenario_path), "--net-load", str(csv)]
    )
    assert result.exit_code == 2
    assert "95 rows of net_load_w, expected 96" in result.output
    assert "Traceback" not in result.output


def test_replay_plans_with_the_round_s_own_options(published: Any, tmp_path: Path) -> None:
    scenario = published.outcome.scenario_path
    saved = read_options(scenario)
    assert saved is not None  # the round saved them beside its scenario
    assert saved.time_limit_s <= 60  # the round's budget, not the command's default
    result = CliRunner().invoke(app, ["replay", str(scenario)])
    assert result.exit_code == 0, result.output
    assert (
        f"Replayed with the round's options, unless given: time limit {saved.time_limit_s:g} s, "
        f"gap {saved.gap:g}, objective import"
    ) in " ".join(result.output.split())

    # an option given wins over the round's
    result = CliRunner().invoke(
        app, ["replay", str(scenario), "--time-limit", "7", "--gap", "0.01"]
    )
    assert result.exit_code == 0, result.output
    assert "time limit 7 s, gap 0.01, objective import" in " ".join(result.output.split())

    # a round that minimised the cost is replayed on the same prices
    priced = replace(saved, price_per_kwh=tuple([0.2] * 48 + [0.1] * 48))
    copy = tmp_path / scenario.name
    copy.write_bytes(scenario.read_bytes())
    save_options(priced, copy)
    again = replay(copy, None, read_options(copy) or saved)
    assert again.plan.solver.objective == "price"
    result = CliRunner().invoke(app, ["replay", str(copy)])
    assert "objective price" in " ".join(result.output.split())

    # without saved options (an older round): the defaults, said so
    saved_options_path(copy).unlink()
    result = CliRunner().invoke(app, ["replay", str(copy)])
    assert result.exit_code == 0, result.output
    assert "Replayed with the default options (the round saved none), unless given" in " ".join(
        result.output.split()
    )

    # a damaged options file is a clear error, not a crash
    saved_options_path(copy).write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(app, ["replay", str(copy)])
    assert result.exit_code == 2
    assert "not usable solver options" in result.output
    assert "Traceback" not in result.output
