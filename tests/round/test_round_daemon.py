"""The published plan, read the way the control daemon "commande" reads it (spec §3).

Commande runs every quarter hour + 5 s. It reads every row of ``result`` (``SELECT *``), keeps
for each ``machine_id`` the row with the greatest ``first_valid_timestamp`` (of two rows with
the same one, the last returned), and at time ``t`` applies the column
``(t - first_valid_timestamp) // 900`` as the daemon computes it: truncated toward zero
(Python's ``int()`` of the quotient), so a row still in the future is applied from its column 0
at once; 96 quarter hours after its start a row is no longer applied. Non-zero is on (a start
for one-shot devices).

The simulation below reads the output database with the driver alone (psycopg, positional
rows named by the cursor description), not with the EMS's code.
"""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import make_url

QUARTER_S = 900
PASS_OFFSET_S = 5


def read_result(output_url: str) -> list[dict[str, Any]]:
    """Every row of ``result``, as commande fetches them."""
    url = make_url(output_url)
    options = url.query["options"]
    plain = url.set(query={}).render_as_string(hide_password=False)
    with psycopg.connect(plain, options=options) as connection:
        cursor = connection.execute("SELECT * FROM result")
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def latest_rows(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """For each machine_id, the row with the greatest first_valid_timestamp (the last of
    equals)."""
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        held = latest.get(row["machine_id"])
        if held is None or row["first_valid_timestamp"] >= held["first_valid_timestamp"]:
            latest[row["machine_id"]] = row
    return latest


def applied(rows: list[dict[str, Any]], machine_id: int, t: int) -> int | None:
    """The decision commande applies to a device at ``t``, or None (no row, or a row more
    than 96 quarter hours old)."""
    row = latest_rows(rows).get(machine_id)
    if row is None:
        return None
    column = int((t - row["first_valid_timestamp"]) / QUARTER_S)  # truncated toward zero
    assert column >= 0, "the daemon would read a header column as a decision"
    if column >= 96:
        return None
    value = row[f"decisions_{column}"]
    assert value is not None  # commande would take NULL for "on"
    return value


def passes(case: Any) -> list[int]:
    """The daemon's 96 passes over the round's horizon: R + 900 k + 5 s."""
    return [case.R + QUARTER_S * k + PASS_OFFSET_S for k in range(case.STEPS)]


def test_each_device_switched_at_its_planned_time(published: Any, case: Any) -> None:
    rows = read_result(published.env.output_url)
    plan = {d.id: d for d in published.outcome.plan.devices}
    for device, start in case.START_STEP.items():
        on = [k for k, t in enumerate(passes(case)) if applied(rows, device, t)]
        # switched on exactly in the quarter hour [R + 900 k, R + 900 (k + 1)) of its start
        assert on == [start], device
        assert plan[device].decisions[start] == 1
    heating = [k for k, t in enumerate(passes(case)) if applied(rows, 11, t)]
    assert heating == list(case.WATER_HEATER_RUN)
    for device in (30, 40, 41):  # heaters: every quarter hour as planned
        applied_all = [applied(rows, device, t) for t in passes(case)]
        assert applied_all == plan[device].decisions, device


def test_pass_right_after_the_round_applies_column_0(published: Any, case: Any) -> None:
    rows = read_result(published.env.output_url)
    t = case.R + PASS_OFFSET_S  # the first pass after the round, run at R - 30 s
    for device in case.PLANNED_IDS:
        assert latest_rows(rows)[device]["first_valid_timestamp"] == case.R
        assert applied(rows, device, t) == published.env.results()[device]["decisions_0"]
    assert applied(rows, 4, t) == 1  # the as-soon-as-possible machine starts now


def test_devices_without_a_new_row(published: Any, case: Any) -> None:
    """Devices the round did not plan keep their latest row, whose remaining columns must not
    switch them again; devices never planned are left alone."""
    rows = read_result(published.env.output_url)
    previous_pass = case.R - QUARTER_S + PASS_OFFSET_S
    assert applied(rows, 3, previous_pass) == 1  # the previous pass started machine 3 ...
    assert not any(applied(rows, 3, t) for t in passes(case))  # ... and it is not restarted
    # water heater 10, switched on 3 h ago by its run, is not switched on again
    assert not any(applied(rows, 10, t) for t in passes(case))
    # machine 6's start at R, planned by the previous round, is replaced by this round's
    assert [k for k, t in enumerate(passes(case)) if applied(rows, 6, t)] == [2]
    for device in (2, 12, 13, 21, 23, 31, 43):
        assert all(applied(rows, device, t) is None for t in passes(case)), device
