"""Learned machine cycles in the store: each machine's detection settings and its profiles.

A machine is known by its Zabbix power item. Its settings row is created with the defaults
the first time the machine is seen (:func:`settings_of`), and an operator changes it with
``ems cycles set``. Profiles are kept with their history: a new one supersedes the current
one (``superseded_at``), and the round uses the current one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection, insert, select, update

from elfe_ems.learning.cycles import CycleSettings
from elfe_ems.store.tables import machine_cycle_profile, machine_cycle_settings
from elfe_ems.store.upsert import upsert


def stored_settings(connection: Connection, power_item_id: int) -> CycleSettings | None:
    """The machine's stored settings, or None when it has none."""
    row = (
        connection.execute(
            select(machine_cycle_settings).where(
                machine_cycle_settings.c.power_item_id == power_item_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return CycleSettings(
        threshold_start_w=float(row["threshold_start_w"]),
        threshold_end_w=float(row["threshold_end_w"]),
        quiet_periods=int(row["quiet_periods"]),
        period_s=int(row["period_s"]),
    )


def save_settings(connection: Connection, power_item_id: int, settings: CycleSettings) -> None:
    """Store the machine's settings (replacing any)."""
    upsert(
        connection, machine_cycle_settings, [{"power_item_id": power_item_id, **asdict(settings)}]
    )


def settings_of(connection: Connection, power_item_id: int) -> CycleSettings:
    """The machine's settings, stored with the defaults when it has none yet."""
    found = stored_settings(connection, power_item_id)
    if found is None:
        found = CycleSettings()
        save_settings(connection, power_item_id, found)
    return found


@dataclass(frozen=True)
class StoredProfile:
    """A machine's current profile: when the cycle behind it started, and when it was learned
    [Unix s]."""

    cycle_start_s: int
    learned_at_s: int
    profile_w: list[float]  # mean power per planning step [W]


def current_profile(connection: Connection, power_item_id: int) -> StoredProfile | None:
    """The profile the round uses for this machine, or None before the first is learned."""
    table = machine_cycle_profile
    row = connection.execute(
        select(table.c.cycle_start, table.c.learned_at, table.c.profile_w).where(
            table.c.power_item_id == power_item_id, table.c.superseded_at.is_(None)
        )
    ).first()
    if row is None:
        return None
    return StoredProfile(int(row.cycle_start), int(row.learned_at), list(row.profile_w))


def replace_profile(
    connection: Connection,
    power_item_id: int,
    cycle_start_s: int,
    profile_w: list[float],
    now_s: int,
) -> None:
    """Make ``profile_w`` the machine's current profile; the one before is kept, superseded."""
    table = machine_cycle_profile
    connection.execute(
        update(table)
        .where(table.c.power_item_id == power_item_id, table.c.superseded_at.is_(None))
        .values(superseded_at=now_s)
    )
    connection.execute(
        insert(table).values(
            power_item_id=power_item_id,
            learned_at=now_s,
            cycle_start=cycle_start_s,
            profile_w=profile_w,
        )
    )
