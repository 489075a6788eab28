"""A round's plan for the dashboard: its run-log row, its saved files and balance curves.

Each round saves its scenario and plan files side by side (``run_log.scenario_path``); the
housekeeping job deletes them after ``run_conditions_retention_days``. A stored path that
does not exist (the round ran from another working directory) is looked for by its name in
``run_conditions_dir`` too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy import RowMapping

from elfe_ems.logtags import Tag
from elfe_ems.planner.savings import savings_sentences
from elfe_ems.planner.scenario import Plan, Savings, ScenarioError, read_plan, read_scenario
from elfe_ems.store.run_files import saved_plan_path
from elfe_ems.web.models import BalanceCurves, PlanView, RoundSummary

log = logging.getLogger(__name__)


class PlanUnavailable(LookupError):  # noqa: N818 - a state, reported as HTTP 404
    """A round whose plan cannot be shown; the message says why."""


def _scenario_file(row: RowMapping, run_conditions_dir: Path) -> Path | None:
    if not row["scenario_path"]:
        return None
    stored = Path(row["scenario_path"])
    return stored if stored.exists() else run_conditions_dir / stored.name


def round_summary(row: RowMapping, run_conditions_dir: Path) -> RoundSummary:
    """The API's view of a run-log row."""
    scenario = _scenario_file(row, run_conditions_dir)
    finished = row["finished_at"]
    savings = None if row["savings"] is None else Savings.model_validate(row["savings"])
    return RoundSummary.model_validate(
        {
            **row,
            "savings": savings,
            "savings_text": []
            if savings is None
            else savings_sentences(savings, row["import_wh_asap"]),
            "duration_s": None if finished is None else finished - row["started_at"],
            "plan_available": scenario is not None and saved_plan_path(scenario).is_file(),
        }
    )


def load_plan(row: RowMapping, run_conditions_dir: Path) -> Plan:
    """The plan file of a succeeded round; :class:`PlanUnavailable` when there is none."""
    scenario = _scenario_file(row, run_conditions_dir)
    if row["status"] != "succeeded" or scenario is None:
        raise PlanUnavailable(f"round {row['id']} has no plan: its status is {row['status']}")
    path = saved_plan_path(scenario)
    if not path.is_file():
        raise PlanUnavailable(
            f"round {row['id']}: its plan file {path} no longer exists "
            "(deleted after run_conditions_retention_days?)"
        )
    try:
        return read_plan(path)
    except ScenarioError as error:
        log.warning("%s round %s: plan file not usable: %s", Tag.DATABASE, row["id"], error)
        raise PlanUnavailable(f"round {row['id']}: {error}") from None


def saved_curves(row: RowMapping, plan: Plan, run_conditions_dir: Path) -> BalanceCurves:
    """The net load before and after placing, from the round's scenario and plan files (the
    scenario missing or unreadable: no before curve, with a warning)."""
    scenario = _scenario_file(row, run_conditions_dir)
    before: list[float | None] = [None] * plan.steps
    try:
        before = list(read_scenario(scenario).net_load_w) if scenario else before
    except ScenarioError as error:
        log.warning("%s round %s: no balance before placing: %s", Tag.IGNORED, row["id"], error)
    return BalanceCurves(
        net_load_before_w=before,
        net_load_after_w=list(plan.net_load_with_flexible_w),
        source="saved files",
    )


def published_curves(
    plan: Plan, before_w: Mapping[int, float], after_w: Mapping[int, float]
) -> BalanceCurves:
    """The net load of the plan's steps from their published balances (production -
    consumption [W] by step start), null where none is."""
    times = [plan.round_start + k * plan.step_s for k in range(plan.steps)]

    def net_load(balance_w: Mapping[int, float]) -> list[float | None]:
        return [None if t not in balance_w else -balance_w[t] for t in times]

    return BalanceCurves(
        net_load_before_w=net_load(before_w),
        net_load_after_w=net_load(after_w),
        source="published",
    )


def plan_view(summary: RoundSummary, plan: Plan, balance: BalanceCurves) -> PlanView:
    """The API's view of a round's plan."""
    return PlanView(
        round=summary,
        round_start=plan.round_start,
        step_s=plan.step_s,
        steps=plan.steps,
        import_wh=plan.import_wh,
        import_wh_asap=plan.import_wh_asap,
        solver=plan.solver,
        balance=balance,
        devices=plan.devices,
    )
