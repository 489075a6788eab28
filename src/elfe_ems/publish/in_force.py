"""The plan in force: the rows this EMS published in the output table ``resultat``, read back
as the control daemon applies them (spec: docs/spec/elfe.md §3).

A round reads them for two things: each device's history (when a heater's comfort period or
a tank's rest began) and each device's plan in force, the planner's start and tie-break
preference. The backtest keeps the same rows in memory.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from sqlalchemy import Connection, select

from elfe_ems.store.tables import DECISION_COUNT, result
from elfe_ems.timegrid import DAY_S, Grid

HISTORY_DAYS = 3  # plan rows a round needs (see PlanHistory)


@dataclass(frozen=True)
class PublishedRow:
    """One published plan row of a device: its first step and its decisions (one per step)."""

    first_valid_timestamp: int  # [Unix s]
    decisions: tuple[int, ...]


@dataclass(frozen=True)
class PlanHistory:
    """The rows already published for each device id, as the control daemon reads them.

    Give the rows of this EMS's planning method (those the daemon applies) whose
    ``first_valid_timestamp`` is within 3 days of the round (a comfort period in progress may
    have started up to 2 days before, and a row is applied for 24 h). Rows of the round
    itself (a re-run) may be included: they are never used.
    """

    rows: Mapping[int, Sequence[PublishedRow]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_time = attrgetter("first_valid_timestamp")
        ordered = {device: tuple(sorted(rows, key=by_time)) for device, rows in self.rows.items()}
        object.__setattr__(self, "rows", ordered)

    def applied_decision(self, device_id: int, at: int, step_s: int) -> int | None:
        """The decision commande applies in the step beginning at ``at`` [Unix s].

        From the device's row with the greatest ``first_valid_timestamp`` at or before ``at``,
        column ``(at - first_valid_timestamp) // step_s``; ``None`` without such a row or when
        the column is past its decisions (commande then does nothing).
        """
        rows = self.rows.get(device_id, ())
        index = bisect.bisect_right(rows, at, key=attrgetter("first_valid_timestamp"))
        if index == 0:
            return None
        row = rows[index - 1]
        column = (at - row.first_valid_timestamp) // step_s
        return row.decisions[column] if column < len(row.decisions) else None


def plan_history(connection: Connection, grid: Grid, planning_method: str) -> PlanHistory:
    """The rows of this planning method published over the last days (see PlanHistory)."""
    decisions = [result.c[f"decisions_{k}"] for k in range(DECISION_COUNT)]
    rows = connection.execute(
        select(result.c.machine_id, result.c.first_valid_timestamp, *decisions).where(
            result.c.planning_method == planning_method,
            result.c.first_valid_timestamp >= grid.round_start - HISTORY_DAYS * DAY_S,
            result.c.first_valid_timestamp < grid.round_start,
        )
    ).all()
    by_device: dict[int, list[PublishedRow]] = {}
    for row in rows:
        by_device.setdefault(int(row[0]), []).append(
            PublishedRow(int(row[1]), tuple(int(v) for v in row[2:]))
        )
    return PlanHistory(by_device)


def previous_decisions(history: PlanHistory, device_id: int, grid: Grid) -> list[int] | None:
    """The decisions the control daemon would apply to a device at each step of the round
    without a new plan (the latest published row, shifted to the round's grid; 0 where it
    says nothing), or None when it has no row: the planner's start and tie-break preference.
    """
    applied = [
        history.applied_decision(device_id, grid.time_of(k), grid.step_s) for k in range(grid.steps)
    ]
    if all(decision is None for decision in applied):
        return None
    return [1 if decision else 0 for decision in applied]
