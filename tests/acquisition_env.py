"""An environment for the acquisition-job tests: a coordination database and an EMS database
(store and output migrated side by side), both SQLite files in the test's folder, and the
session's real Zabbix server (``tests/sources/zabbix``) for the measurements.

Zabbix hosts are named uniquely per test (the server lives for the whole session). Device
rows are inserted with the builders of ``coordination_rows``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, select

from elfe_ems.config import Settings
from elfe_ems.db.engine import engine_for, make_engine
from elfe_ems.sim.community import coordination_schema
from elfe_ems.sources import coordination
from elfe_ems.store import migrate

DDL = coordination_schema()  # the demo\'s DDL file, as the package ships it

COORDINATION_TABLES = {
    "device": coordination.equipement,
    "machine": coordination.machine,
    "tank": coordination.ballon,
    "thermostatic": coordination.chauffage_asservi,
}


@dataclass
class JobsEnv:
    """The databases of one test, and the Zabbix test server (None for tests without it)."""

    folder: Path
    coordination_url: str
    ems_url: str
    zabbix: Any = None  # tests/zabbix_server.ZabbixTestServer

    def settings(self, **values: Any) -> Settings:
        """Settings on these databases (and on the Zabbix server when there is one)."""
        databases = {
            "data_dir": self.folder,
            "coordination_url": self.coordination_url,
            "store_url": self.ems_url,
            "output_url": self.ems_url,
            "run_conditions_dir": self.folder / "run-conditions",
        }
        if self.zabbix is not None:
            return self.zabbix.settings(**(databases | values))
        return Settings(**(databases | values))

    def insert(self, table: str, *rows: dict[str, Any]) -> None:
        """Insert coordination rows; ``table`` is a key of :data:`COORDINATION_TABLES`."""
        target: Table = COORDINATION_TABLES[table]
        with engine_for(self.coordination_url) as engine, engine.begin() as connection:
            # only the columns the EMS declares; the DDL gives the others their defaults
            connection.execute(
                insert(target), [{k: v for k, v in r.items() if k in target.c} for r in rows]
            )

    def rows(self, table: Table, url: str | None = None) -> list[dict[str, Any]]:
        """Every row of a store or output table, in primary-key order."""
        order = list(table.primary_key.columns)
        with engine_for(url or self.ems_url) as engine, engine.connect() as connection:
            return [dict(r) for r in connection.execute(select(table).order_by(*order)).mappings()]

    def write(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows into a store or output table."""
        with engine_for(self.ems_url) as engine, engine.begin() as connection:
            connection.execute(insert(table), rows)


def new_env(folder: Path, zabbix: Any = None) -> JobsEnv:
    """Empty coordination tables and a migrated store and output in ``folder``."""
    coordination_file = folder / "coordination.sqlite"
    with sqlite3.connect(coordination_file) as connection:
        connection.executescript(DDL)
    ems_url = f"sqlite:///{folder / 'ems.sqlite'}"
    engine = make_engine(ems_url)
    try:
        migrate.upgrade(engine, "store")
        migrate.upgrade(engine, "output")
    finally:
        engine.dispose()
    return JobsEnv(folder, f"sqlite:///{coordination_file}", ems_url, zabbix)
