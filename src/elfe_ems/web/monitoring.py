"""``GET /api/monitoring``: the EMS's health for a monitoring system (the Zabbix template of
``ems zabbix-template`` reads it), one flat JSON document of stored facts.

Every key is always there, its value null when the fact is not known (no round yet, a
database that cannot be read): a JSONPath never misses. The answer is 200 even when a
database is down: ``healthy`` is then 0 and ``verdict`` ``failed``, so that the monitoring
sees an unhealthy EMS, not a failed request. Read-only: the same stored checks as the Health
page (:func:`~elfe_ems.store.health.stored_checks`), no source contacted. Keys:
docs/operator-guide.md#monitoring-the-ems-from-zabbix.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from elfe_ems.config import Settings
from elfe_ems.store.freshness import Freshness, State, limits_s
from elfe_ems.store.health import (
    healthy,
    job_check,
    last_round_row,
    newest_input_times,
    stored_checks,
    worst_verdict,
)
from elfe_ems.store.job_runs import job_records
from elfe_ems.web.databases import DatabaseUnavailable, ReadOnlyDatabases


def key_of(name: str) -> str:
    """A name as a key: ``"water-heater energies"`` → ``"water_heater_energies"``."""
    return name.replace("-", "_").replace(" ", "_")


class MonitoringView(BaseModel):
    """The stored facts, flat. Ages [s] are now minus the fact's time; the keys of every
    input (``input_KEY_age_s``, ``input_KEY_state``) and every scheduled job
    (``job_KEY_last_success_age_s``, ``job_KEY_verdict``) follow these."""

    model_config = ConfigDict(extra="allow")

    healthy: int = Field(description="1 when no check failed, else 0.")
    verdict: str = Field(description="The worst verdict of the checks: ok, warning or failed.")
    checked_at_s: float = Field(description="When the checks ran [Unix s].")
    failed: str = Field(description="The failed checks, '; '-separated with their detail.")
    warnings: str = Field(description="The checks that warn, '; '-separated with their detail.")
    round_age_s: float | None = Field(description="Age of the last round's start [s].")
    round_status: str | None = Field(description="running, succeeded or failed.")
    round_solver_status: str | None = None
    round_gap: float | None = Field(None, description="Relative gap to the lower bound.")
    round_devices_planned: int | None = None
    round_devices_relaxed: int | None = None
    round_devices_left_out: int | None = None
    round_devices_left_out_for_a_problem: int | None = Field(
        None, description="Left out for bad or missing data (not by their mode)."
    )


def _facts(connection: Connection, settings: Settings, now_s: float) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    row = last_round_row(connection)
    if row is not None:
        devices = row.devices or {}
        by_reason = devices.get("left_out_by_reason", {})
        facts |= {
            "round_age_s": round(now_s - row.started_at, 1),
            "round_status": row.status,
            "round_solver_status": row.solver_status,
            "round_gap": row.gap,
            "round_devices_planned": devices.get("planned"),
            "round_devices_relaxed": devices.get("relaxed"),
            "round_devices_left_out": devices.get("left_out"),
            "round_devices_left_out_for_a_problem": sum(
                len(by_reason[r]) for r in devices.get("problem_reasons", [])
            )
            if devices
            else None,
        }
    newest = newest_input_times(connection)
    for name, limit_s in limits_s(settings).items():
        newest_s = newest[name]
        age_s = None if newest_s is None else round(now_s - newest_s, 1)
        state = Freshness(name, None if age_s is None else int(max(age_s, 0)), limit_s).state
        facts[f"input_{key_of(name)}_age_s"] = age_s
        facts[f"input_{key_of(name)}_state"] = str(state)
    for record in job_records(connection):
        success = record.last_success
        facts[f"job_{key_of(record.job)}_last_success_age_s"] = (
            None if success is None else round(now_s - success.started_at, 1)
        )
        facts[f"job_{key_of(record.job)}_verdict"] = job_check(record, now_s).verdict
    return facts


def _unknown(settings: Settings) -> dict[str, Any]:
    """Every input key with no value (a store that cannot be read)."""
    facts: dict[str, Any] = {}
    for name in limits_s(settings):
        facts[f"input_{key_of(name)}_age_s"] = None
        facts[f"input_{key_of(name)}_state"] = str(State.MISSING)
    return facts


def monitoring_router(settings: Settings, databases: ReadOnlyDatabases) -> APIRouter:
    """The route of ``/api/monitoring`` on ``databases``."""
    router = APIRouter(prefix="/api")

    @router.get("/monitoring", tags=["health"])
    def monitoring() -> MonitoringView:
        """The EMS's health as flat keys for a monitoring system (Zabbix JSONPath): the
        stored checks' verdict, the last round, the age and state of every input, the last
        success of every job. 200 also when a database is down (then `healthy` is 0)."""
        now_s = time.time()
        checks = stored_checks(settings, now_s)
        try:
            with databases.reading("store") as store:
                facts = _facts(store, settings, now_s)
        except DatabaseUnavailable:  # the checks say why
            facts = _unknown(settings)
        worst = worst_verdict(checks)
        return MonitoringView(
            healthy=int(healthy(checks)),
            verdict=worst,
            checked_at_s=now_s,
            failed="; ".join(f"{c.name}: {c.detail}" for c in checks if c.verdict == "failed"),
            warnings="; ".join(f"{c.name}: {c.detail}" for c in checks if c.verdict == "warning"),
            **({"round_age_s": None, "round_status": None} | facts),
        )

    return router
