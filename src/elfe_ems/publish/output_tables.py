"""Publishing a plan to the output database (spec ``docs/spec/elfe.md`` §3), in one transaction.

Rows written for a round (``first_valid_timestamp`` = the round start):

- ``result``: one row per *planned* device (a skipped device gets no row: the daemon keeps
  applying its latest row, which is what a device started earlier or waiting for a later round
  needs). ``result_type`` is 0 for one-shot devices (a 1 starts them), 1 for devices whose
  decisions apply at every step. A re-run of the round replaces the rows of its own planning
  method, never another method's.
- ``p_c_without_flexible_consumption`` and ``p_c_with_flexible_consumption``: production -
  consumption [W] per step, before and after placing the flexible devices, upserted.
- ``ems_run_info``: solver time, devices planned, and the lowest and highest hourly means of
  the after-placement curve with the start of their hour, upserted.

Everything is one transaction: the daemon sees all rows of the round or none. Its first
statement takes the publish lock (:mod:`elfe_ems.publish.lock`): publishes never interleave.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, delete, insert

from elfe_ems.planner.scenario import Plan
from elfe_ems.publish.lock import lock_publish
from elfe_ems.store.tables import (
    DECISION_COUNT,
    ems_run_info,
    p_c_with_flexible_consumption,
    p_c_without_flexible_consumption,
    result,
)
from elfe_ems.timegrid import HOUR_S

RESULT_TYPE: dict[str, int] = {
    "machine": 0,  # decision 1: start the cycle once
    "ev": 0,  # decision 1: start the charge once
    "water_heater": 1,  # decision 1: on for that step (the run's steps are switched one by one)
    "pilot_wire_heater": 1,  # decision 1: comfort for that step
    "thermostatic_heater": 1,  # decision 1: heating allowed for that step
}
"""``resultat.result_type`` per scenario device type (spec: docs/spec/elfe.md §3): 0 when a
decision 1 starts the device once, 1 when each step's decision applies to that step."""


class PublishError(ValueError):
    """A plan that cannot be published as it is (the message says why)."""


@dataclass(frozen=True)
class HourlyExtremes:
    """Lowest and highest hourly means [W] of a curve, with the Unix start of their hour."""

    min_start: int
    min_w: int
    max_start: int
    max_w: int


def hourly_extremes(times_s: np.ndarray, power_w: np.ndarray) -> HourlyExtremes:
    """Means of ``power_w`` over each whole hour that starts in the horizon (steps less than an
    hour after an hour's start; the last hour may be cut by the horizon), lowest and highest.
    When no step starts on the hour, the horizon's first step stands for one."""
    starts = np.flatnonzero(times_s % HOUR_S == 0)
    if len(starts) == 0:
        starts = np.array([0])
    means = [
        float(power_w[(times_s >= times_s[i]) & (times_s < times_s[i] + HOUR_S)].mean())
        for i in starts
    ]
    low, high = int(np.argmin(means)), int(np.argmax(means))
    return HourlyExtremes(
        int(times_s[starts[low]]), round(means[low]), int(times_s[starts[high]]), round(means[high])
    )


def result_rows(plan: Plan, planning_method: str) -> list[dict[str, int | str]]:
    """The ``result`` rows of a plan's planned devices."""
    if plan.steps != DECISION_COUNT:
        raise PublishError(
            f"the output table has {DECISION_COUNT} decisions; the plan has {plan.steps}"
        )
    rows: list[dict[str, int | str]] = []
    for device in plan.devices:
        if device.status != "planned":
            continue
        if device.machine_type is None:
            raise PublishError(f"device {device.id} ({device.type}) has no machine_type")
        row: dict[str, int | str] = {
            "first_valid_timestamp": plan.round_start,
            "machine_id": device.id,
            "result_type": RESULT_TYPE[device.type],
            "machine_type": device.machine_type,
            "planning_method": planning_method,
        }
        row.update({f"decisions_{k}": int(v) for k, v in enumerate(device.decisions)})
        rows.append(row)
    return rows


def publish(
    connection: Connection, plan: Plan, net_load_w: list[float], planning_method: str
) -> int:
    """Write the round's rows (see the module docstring) in the connection's transaction;
    the number of ``result`` rows."""
    rows = result_rows(plan, planning_method)
    lock_publish(connection)
    times = plan.round_start + plan.step_s * np.arange(plan.steps)
    surplus_before = -np.asarray(net_load_w)
    surplus_after = -np.asarray(plan.net_load_with_flexible_w)
    connection.execute(
        delete(result).where(
            result.c.first_valid_timestamp == plan.round_start,
            result.c.planning_method == planning_method,
        )
    )
    if rows:
        connection.execute(insert(result), rows)
    for table, curve in (
        (p_c_without_flexible_consumption, surplus_before),
        (p_c_with_flexible_consumption, surplus_after),
    ):
        connection.execute(delete(table).where(table.c.data_timestamp.in_(times.tolist())))
        connection.execute(
            insert(table),
            [
                {"data_timestamp": int(t), "power": round(p)}
                for t, p in zip(times, curve, strict=True)
            ],
        )
    extremes = hourly_extremes(times, surplus_after)
    connection.execute(delete(ems_run_info).where(ems_run_info.c.timestamp == plan.round_start))
    connection.execute(
        insert(ems_run_info).values(
            timestamp=plan.round_start,
            run_time_ms=round(plan.solver.solve_ms),
            consumer_count=len(rows),
            conso_min_hour_timestamp=extremes.min_start,
            conso_min_hour=extremes.min_w,
            conso_max_hour_timestamp=extremes.max_start,
            conso_max_hour=extremes.max_w,
        )
    )
    return len(rows)
