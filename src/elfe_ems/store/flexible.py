"""The piloted devices' power as the plans in force give it (store tables ``flexible_power``
and ``device_plan_power``).

The territory balance item measures everything, the piloted devices included; the planner
places those devices on top of a forecast of the balance *without* them. A forecast made from
the raw measurement would count yesterday's flexible consumption twice: once in the forecast,
once more when the round places today's. The forecasts therefore add back, to the measured
balance (production - consumption) of each past step, the power the plans in force had the
piloted devices draw then.

What is in force follows commande: a device's latest published row, until a newer one. A device
started by an earlier plan is not planned again while it runs (its row stands), so each round
keeps every device's latest plan as power (``device_plan_power``) and writes the sum over the
devices for each step of its horizon (``flexible_power``). A later round rewrites the steps
still ahead; a step gone by keeps the sum of the round that started at it.

Both tables are kept per planning method: EMS instances publishing side by side under other
methods do not mix their plans, and each adds back its own method's.

It is the plans' power, not a measurement: a tank full early or a car unplugged drew less than
planned, and the difference stays in the forecast's error.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, and_, func, select

from elfe_ems.planner.scenario import Plan
from elfe_ems.store.tables import balance_measurement, device_plan_power, flexible_power
from elfe_ems.store.upsert import upsert


def record_plan(connection: Connection, planning_method: str, plan: Plan) -> None:
    """Keep the power of the plan's planned devices as their latest plan, then write the sum
    over the method's plans in force for each step of the plan's horizon."""
    upsert(
        connection,
        device_plan_power,
        [
            {
                "planning_method": planning_method,
                "device_id": device.id,
                "round_start": plan.round_start,
                "step_s": plan.step_s,
                "power_w": [float(w) for w in device.power_w],
            }
            for device in plan.devices
            if device.status == "planned"
        ],
    )
    times = plan.round_start + plan.step_s * np.arange(plan.steps)
    total_w = np.zeros(plan.steps)
    in_force = connection.execute(
        select(device_plan_power).where(
            device_plan_power.c.planning_method == planning_method,
            device_plan_power.c.round_start <= plan.round_start,
        )
    ).all()
    for row in in_force:  # round_start <= every time: the offsets are >= 0
        power = np.asarray(row.power_w, dtype=float)
        offsets = times - int(row.round_start)
        covered = (offsets % int(row.step_s) == 0) & (offsets // int(row.step_s) < power.size)
        total_w[covered] += power[offsets[covered] // int(row.step_s)]
    upsert(
        connection,
        flexible_power,
        [
            {
                "planning_method": planning_method,
                "step_start": int(t),
                "power_w": float(w),
                "round_start": plan.round_start,
            }
            for t, w in zip(times, total_w, strict=True)
        ],
    )


def planned_power_w(
    connection: Connection, planning_method: str, first_s: int, steps: int, step_s: int
) -> np.ndarray:
    """The piloted devices' power [W] in the method's plans of the ``steps`` steps from
    ``first_s``; 0 for a step no round wrote (no round ran, or nothing was piloted)."""
    rows = connection.execute(
        select(flexible_power.c.step_start, flexible_power.c.power_w).where(
            flexible_power.c.planning_method == planning_method,
            flexible_power.c.step_start >= first_s,
            flexible_power.c.step_start < first_s + steps * step_s,
        )
    ).all()
    power = np.zeros(steps)
    for row in rows:
        offset = int(row.step_start) - first_s
        if offset % step_s == 0:
            power[offset // step_s] = float(row.power_w)
    return power


def measured_balance_without_devices(
    connection: Connection, planning_method: str, start_s: int, end_s: int
) -> list[tuple[int, float]]:
    """The stored measured balance [W] of the steps that start in ``[start_s, end_s)``, in
    order, each plus the piloted devices' power in the method's plans then (0 where none): the
    balance the forecasts forecast."""
    query = (
        select(
            balance_measurement.c.step_start,
            balance_measurement.c.power_w + func.coalesce(flexible_power.c.power_w, 0.0),
        )
        .outerjoin(
            flexible_power,
            and_(
                flexible_power.c.planning_method == planning_method,
                flexible_power.c.step_start == balance_measurement.c.step_start,
            ),
        )
        .where(
            balance_measurement.c.step_start >= start_s, balance_measurement.c.step_start < end_s
        )
        .order_by(balance_measurement.c.step_start)
    )
    return [(int(t), float(w)) for t, w in connection.execute(query)]
