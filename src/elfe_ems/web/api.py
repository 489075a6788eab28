"""The JSON API under ``/api``: every page's data, read-only.

A database that cannot be read answers 503, a round or plan that does not exist, or whose
files are gone, 404 (the handlers of ``DatabaseUnavailable`` and ``PlanUnavailable`` are in
:mod:`elfe_ems.web.app`). Both carry a ``detail`` message that the pages show.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from sqlalchemy import RowMapping

from elfe_ems.config import Settings
from elfe_ems.device_types import TYPE_NAMES
from elfe_ems.store.flexible import measured_balance_without_devices
from elfe_ems.store.health import ROUND_AGE_LIMITS_S, stored_checks, worst_verdict
from elfe_ems.timegrid import DAY_S
from elfe_ems.web import queries
from elfe_ems.web.databases import ReadOnlyDatabases
from elfe_ems.web.models import CheckView, ForecastView, HealthView, Meta, PlanView, RoundSummary
from elfe_ems.web.plans import (
    load_plan,
    plan_view,
    published_curves,
    round_summary,
    saved_curves,
)
from elfe_ems.web.scores import score_forecasts

SQL_INT_MAX = 2**63 - 1
"""The largest integer both databases compare (SQLite INTEGER, PostgreSQL BIGINT): larger
ids and times are refused (422), not sent to the database."""

RunId = Annotated[int, Path(ge=1, le=SQL_INT_MAX, description="The round's id in the run log.")]

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such round, or its plan is not available."},
    503: {"description": "A database cannot be read; `detail` says which and why."},
}


def api_router(settings: Settings, databases: ReadOnlyDatabases) -> APIRouter:
    """The routes of the API, on ``settings``'s planning method and ``databases``."""
    router = APIRouter(prefix="/api", responses=ERRORS)
    method = settings.planning_method
    run_dir = settings.run_conditions_dir

    def round_row(run_id: int) -> RowMapping:
        with databases.reading("store") as store:
            row = queries.round_by_id(store, run_id)
        if row is None:
            raise HTTPException(404, f"no round with id {run_id}")
        return row

    @router.get("/meta", tags=["dashboard"])
    def meta() -> Meta:
        """The time zone, the planning method, the age limits of the last round and the
        device type names the pages show."""
        return Meta(
            timezone=settings.timezone,
            planning_method=method,
            round_age_limits_s=list(ROUND_AGE_LIMITS_S),
            machine_type_names=TYPE_NAMES,
        )

    @router.get("/plan/current", tags=["plans"])
    def current_plan() -> PlanView:
        """The plan of the latest successful round of the configured planning method, with
        the balance curves published in the output database."""
        with databases.reading("store") as store:
            row = queries.latest_succeeded_round(store, method)
        if row is None:
            raise HTTPException(404, f"no successful round of the planning method {method}")
        plan = load_plan(row, run_dir)
        with databases.reading("output") as output:
            before, after = queries.published_balance(
                output, plan.round_start, plan.round_start + plan.steps * plan.step_s
            )
        return plan_view(round_summary(row, run_dir), plan, published_curves(plan, before, after))

    @router.get("/rounds", tags=["rounds"])
    def rounds(
        limit: Annotated[int, Query(ge=1, le=5000, description="How many rounds.")] = 200,
    ) -> list[RoundSummary]:
        """The latest rounds of the configured planning method, latest first."""
        with databases.reading("store") as store:
            rows = queries.recent_rounds(store, method, limit)
        return [round_summary(row, run_dir) for row in rows]

    @router.get("/rounds/{run_id}", tags=["rounds"])
    def one_round(run_id: RunId) -> RoundSummary:
        """One round (one attempt: a re-run is another round)."""
        return round_summary(round_row(run_id), run_dir)

    @router.get("/rounds/{run_id}/plan", tags=["plans"])
    def round_plan(run_id: RunId) -> PlanView:
        """A round's plan, with the balance curves of its own saved files."""
        row = round_row(run_id)
        plan = load_plan(row, run_dir)
        return plan_view(round_summary(row, run_dir), plan, saved_curves(row, plan, run_dir))

    @router.get("/forecast", tags=["forecast"])
    def forecast(
        days: Annotated[float, Query(gt=0, le=31, description="Length of the period [d].")] = 2,
        end: Annotated[
            int | None,
            Query(ge=0, le=SQL_INT_MAX, description="End of the period [Unix s]; default: now."),
        ] = None,
    ) -> ForecastView:
        """The measured net load of the period, the forecasts of it per horizon, and their
        errors."""
        end_s = int(time.time()) if end is None else end
        start_s = end_s - round(days * DAY_S)
        with databases.reading("store") as store:
            balance = measured_balance_without_devices(store, method, start_s, end_s)
            forecasts = queries.forecasts_before_their_steps(store, start_s, end_s)
        # the store keeps production - consumption: turned into net loads (import > 0)
        measured = [(t, -w) for t, w in balance]
        return ForecastView(
            start=start_s,
            end=end_s,
            step_starts=[t for t, _ in measured],
            measured_net_load_w=[w for _, w in measured],
            horizons=score_forecasts(measured, [(t, i, -w) for t, i, w in forecasts]),
        )

    @router.get("/health", tags=["health"])
    def health() -> HealthView:
        """The stored facts of `ems doctor`: the EMS's databases, the age of every stored
        input and the last round. They reach no source (only `ems doctor` contacts the
        coordination database, the measurement source and the weather providers)."""
        now_s = time.time()
        checks = stored_checks(settings, now_s)
        return HealthView(
            checked_at=now_s,
            verdict=worst_verdict(checks),
            checks=[CheckView(name=c.name, verdict=c.verdict, detail=c.detail) for c in checks],
        )

    return router
