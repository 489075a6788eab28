"""The dashboard's SQL: read queries on the store (run log, forecasts) and
the output (published balance curves). Each takes an open connection; none writes."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, Table, select

from elfe_ems.store.tables import (
    forecast,
    p_c_with_flexible_consumption,
    p_c_without_flexible_consumption,
    run_log,
)


def latest_succeeded_round(connection: Connection, method: str) -> RowMapping | None:
    """The run-log row of the latest successful round of ``method`` (by round start, then by
    attempt: a re-run of the same round supersedes it)."""
    query = (
        select(run_log)
        .where(run_log.c.planning_method == method, run_log.c.status == "succeeded")
        .order_by(run_log.c.round_start.desc(), run_log.c.id.desc())
        .limit(1)
    )
    return connection.execute(query).mappings().first()


def round_by_id(connection: Connection, run_id: int) -> RowMapping | None:
    """The run-log row ``run_id``, if any."""
    query = select(run_log).where(run_log.c.id == run_id)
    return connection.execute(query).mappings().first()


def recent_rounds(connection: Connection, method: str, limit: int) -> list[RowMapping]:
    """The ``limit`` latest run-log rows of ``method``, latest first."""
    query = (
        select(run_log)
        .where(run_log.c.planning_method == method)
        .order_by(run_log.c.started_at.desc(), run_log.c.id.desc())
        .limit(limit)
    )
    return list(connection.execute(query).mappings())


def _curve(connection: Connection, table: Table, start_s: int, end_s: int) -> dict[int, float]:
    query = select(table.c.data_timestamp, table.c.power).where(
        table.c.data_timestamp >= start_s, table.c.data_timestamp < end_s
    )
    return {int(t): float(p) for t, p in connection.execute(query)}


def published_balance(
    connection: Connection, start_s: int, end_s: int
) -> tuple[dict[int, float], dict[int, float]]:
    """The published production - consumption [W] by step start in ``[start_s, end_s)``:
    before and after placing the flexible devices."""
    return (
        _curve(connection, p_c_without_flexible_consumption, start_s, end_s),
        _curve(connection, p_c_with_flexible_consumption, start_s, end_s),
    )


def forecasts_before_their_steps(
    connection: Connection, start_s: int, end_s: int
) -> list[tuple[int, int, float]]:
    """Every forecast, of any source, of the steps in ``[start_s, end_s)`` issued no later
    than the step's start: (target time, issue time, W)."""
    query = select(forecast.c.target_time, forecast.c.issue_time, forecast.c.power_w).where(
        forecast.c.target_time >= start_s,
        forecast.c.target_time < end_s,
        forecast.c.issue_time <= forecast.c.target_time,
    )
    return [(int(t), int(i), float(p)) for t, i, p in connection.execute(query)]
