"""The run-conditions folder: each round's frozen scenario, its plan and the solver options
it was planned with, side by side, for ``ems replay`` and the dashboard (kept
``run_conditions_retention_days``)."""

from __future__ import annotations

from pathlib import Path

SCENARIO_SUFFIX = ".scenario.json"
PLAN_SUFFIX = ".plan.json"
OPTIONS_SUFFIX = ".options.json"


def scenario_path(folder: Path, round_start: int, planning_method: str) -> Path:
    """Where the round starting at ``round_start`` [Unix s] saves its scenario."""
    return folder / f"{round_start}-{planning_method}{SCENARIO_SUFFIX}"


def saved_plan_path(scenario: Path) -> Path:
    """Where a round saved the plan of the scenario file ``scenario``."""
    return scenario.with_name(scenario.name.replace(SCENARIO_SUFFIX, PLAN_SUFFIX))


def saved_options_path(scenario: Path) -> Path:
    """Where a round saved the solver options of the scenario file ``scenario``."""
    return scenario.with_name(scenario.name.replace(SCENARIO_SUFFIX, OPTIONS_SUFFIX))
