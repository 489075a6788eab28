"""Replaying a saved round: the same scenario, optionally with another net-load curve.

A round saves ``<round>-<method>.scenario.json``, ``.plan.json`` and ``.options.json`` (the
solver options it planned with) side by side; a replay solves the scenario again, with the
saved options unless told otherwise, and compares with the saved plan when it is there.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from elfe_ems.planner.core import SolveOptions, SolveStats, solve
from elfe_ems.planner.scenario import Plan, ScenarioError, read_plan, read_scenario
from elfe_ems.store.run_files import saved_options_path, saved_plan_path


@dataclass(frozen=True)
class Replay:
    """The new plan, the saved one (if any), and the ids of devices whose decisions changed."""

    plan: Plan
    stats: SolveStats
    saved: Plan | None
    changed_ids: list[int]


def read_net_load_csv(path: Path, steps: int) -> list[float]:
    """The ``net_load_w`` column of a CSV file with a header [W, consumption - production],
    one row per step."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from None
    if not rows or "net_load_w" not in rows[0]:
        raise ScenarioError(f"{path}: needs a header line with a net_load_w column")
    if len(rows) != steps:
        raise ScenarioError(f"{path}: {len(rows)} rows of net_load_w, expected {steps}")
    try:
        return [float(row["net_load_w"]) for row in rows]
    except (TypeError, ValueError):
        raise ScenarioError(f"{path}: net_load_w values must be numbers") from None


def replay(scenario_path: Path, net_load_csv: Path | None, options: SolveOptions) -> Replay:
    """Solve a saved scenario again (see the module docstring)."""
    scenario = read_scenario(scenario_path)
    if net_load_csv is not None:
        net_load_w = read_net_load_csv(net_load_csv, scenario.steps)
        scenario = scenario.model_copy(update={"net_load_w": net_load_w})
    plan, stats = solve(scenario, options)
    saved_path = saved_plan_path(scenario_path)
    saved = read_plan(saved_path) if saved_path.exists() and saved_path != scenario_path else None
    changed: list[int] = []
    if saved is not None:
        before = {d.id: d.decisions for d in saved.devices}
        changed = [d.id for d in plan.devices if before.get(d.id) != d.decisions]
    return Replay(plan, stats, saved, changed)


def save_options(options: SolveOptions, scenario: Path) -> None:
    """Save the options a round solves ``scenario`` with (its time limit is the round's
    budget), for a replay to plan the same way."""
    text = json.dumps(asdict(options), indent=1)
    saved_options_path(scenario).write_text(text + "\n", encoding="utf-8")


def read_options(scenario: Path) -> SolveOptions | None:
    """The options a round saved beside ``scenario``; None when it saved none (a round of
    an older version, or a scenario not saved by a round); :class:`ScenarioError` when the
    file cannot be used."""
    path = saved_options_path(scenario)
    if path == scenario or not path.exists():
        return None
    try:
        return TypeAdapter(SolveOptions).validate_json(path.read_bytes(), strict=False)
    except (OSError, ValidationError) as error:
        raise ScenarioError(f"{path}: not usable solver options ({error})") from None
