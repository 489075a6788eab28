"""A small community on the fault tests' own cluster, ``ems run`` processes on it, and the
checks every try ends with.

Five pilot-wire heaters (ids ``HEATER_IDS``): each is planned, so has a ``result`` row, at
every round, whatever the rounds before published (a one-shot device started by a round would
not be planned again). Rounds are quarter hours from ``R``: try ``k`` plans round
``R + 900 k``, run 30 s before it. The store holds one forecast over every round's horizon
(no job runs here).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faults_cluster import OwnCluster
from sqlalchemy import insert, text

from coordination_rows import OFF, device, programme
from elfe_ems.config import Settings
from elfe_ems.db.engine import make_engine
from elfe_ems.sim.community import coordination_schema
from elfe_ems.store import migrate
from elfe_ems.store.run_files import saved_plan_path, scenario_path
from elfe_ems.store.tables import OUTPUT, forecast
from postgres import unique_name

EMS = Path(sys.executable).with_name("ems")  # the console script of this environment
METHOD = "ems-faults"
R = 1_800_000_000  # 2027-01-15 08:00Z, on the quarter hour
STEP = 900
STEPS = 96
H = 3600
HEATER_IDS = (1, 2, 3, 4, 5)
ROUNDS = 200  # the forecast covers this many rounds' horizons
TIMEOUT_S = 120

Snapshot = dict[str, list[dict[str, Any]]]
"""Every output table's rows, by table name."""


def round_start(k: int) -> int:
    return R + STEP * k


def _heater(device_id: int) -> dict[str, Any]:
    evening = ((True, 18 * H, 22 * H), OFF)
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "puissance_moyenne_eco": 100,
        "puissance_moyenne_confort": 1500,
        "pourcentage_eco_force": 25,
        **programme(semaine=evening, weekend=evening),
    }


def fill_coordination(url: str) -> None:
    """The coordination tables (the demo's DDL file) and the heaters' rows."""
    if url.startswith("sqlite:///"):  # one statement per execute: the driver's script call
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.executescript(coordination_schema())
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(coordination_schema())
            for table, rows in (
                ("equipement_pilote_ou_mesure", [device(i, 151) for i in HEATER_IDS]),
                ("equipement_pilote_chauffage_non_asservi", [_heater(i) for i in HEATER_IDS]),
            ):
                for row in rows:
                    names = ", ".join(row)
                    values = ", ".join(f":{name}" for name in row)
                    connection.execute(
                        text(f"INSERT INTO {table} ({names}) VALUES ({values})"), row
                    )
    finally:
        engine.dispose()


def _surplus_w(t: int) -> float:
    """Production - consumption [W]: a surplus from 11:00 to 15:00 UTC, a deficit elsewhere."""
    return 6000.0 if 11 * H <= t % (24 * H) < 15 * H else -3000.0


def migrate_and_fill(store_url: str, output_url: str) -> None:
    for url, database in ((store_url, "store"), (output_url, "output")):
        engine = make_engine(url)
        try:
            migrate.upgrade(engine, database)
            if database == "store":
                with engine.begin() as connection:
                    connection.execute(
                        insert(forecast),
                        [
                            {"source": "persistence", "issue_time": R - H, "target_time": t}
                            | {"power_w": _surplus_w(t)}
                            for t in range(R - 24 * H, round_start(ROUNDS) + 24 * H, STEP)
                        ],
                    )
        finally:
            engine.dispose()


@dataclass
class FaultEnv:
    """Three databases (coordination shared), a config file, a run-conditions folder."""

    coordination_url: str
    store_url: str
    output_url: str
    folder: Path

    @property
    def run_dir(self) -> Path:
        return self.folder / "run-conditions"

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    def settings(self) -> Settings:
        return Settings(
            coordination_url=self.coordination_url,
            store_url=self.store_url,
            output_url=self.output_url,
            run_conditions_dir=self.run_dir,
            planning_method=METHOD,
            time_limit_s=5.0,
            stale_forecast_s=30 * 24 * H,  # one forecast for every round
            stale_balance_s=30 * 24 * H,
        )

    def write_config(self) -> None:
        values = self.settings().model_dump(
            mode="json",
            include={
                "coordination_url",
                "store_url",
                "output_url",
                "run_conditions_dir",
                "planning_method",
                "time_limit_s",
                "stale_forecast_s",
                "stale_balance_s",
            },
        )
        lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]  # TOML too
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start_run(self, k: int, environment: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """``ems run`` of round ``k``, in a session of its own, its output in pipes;
        ``environment``: ``EMS_…`` variables over the config file (as the operator's
        secrets.env)."""
        variables = {n: v for n, v in os.environ.items() if not n.upper().startswith("EMS_")}
        variables |= environment or {}
        return subprocess.Popen(
            [EMS, "run", "--at", str(round_start(k) - 30), "--config", self.config],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=variables,
            start_new_session=True,
        )

    def plan_file(self, k: int) -> Path:
        """The plan file the round writes just before it publishes."""
        return saved_plan_path(scenario_path(self.run_dir, round_start(k), METHOD))

    def output_rows(self) -> Snapshot:
        """Every output table, every column, in a stable order."""
        engine = make_engine(self.output_url)
        try:
            with engine.connect() as connection:
                return {
                    name: [
                        dict(row)
                        for row in connection.execute(
                            table.select().order_by(*table.primary_key.columns)
                        ).mappings()
                    ]
                    for name, table in OUTPUT.tables.items()
                }
        finally:
            engine.dispose()


def new_sqlite_env(folder: Path) -> FaultEnv:
    """The same community on SQLite, as the demo has it: the coordination tables in one file,
    the store and the output in another."""
    coordination_url = f"sqlite:///{folder / 'coordination.sqlite'}"
    fill_coordination(coordination_url)
    ems_url = f"sqlite:///{folder / 'ems.sqlite'}"
    migrate_and_fill(ems_url, ems_url)
    env = FaultEnv(coordination_url, ems_url, ems_url, folder)
    env.write_config()
    return env


def new_env(
    cluster: OwnCluster,
    coordination_url: str,
    folder: Path,
    store_url: str | None = None,
    output_url: str | None = None,
) -> FaultEnv:
    """A fresh store and output database on ``cluster`` (an ``OwnCluster``), migrated; or at
    ``store_url`` and ``output_url`` (empty databases elsewhere), when given."""
    store_url = store_url or cluster.create_database(unique_name("store"))
    output_url = output_url or cluster.create_database(unique_name("output"))
    migrate_and_fill(store_url, output_url)
    env = FaultEnv(coordination_url, store_url, output_url, folder)
    env.write_config()
    return env


def wait_for(path: Path, process: subprocess.Popen[str], timeout_s: float = TIMEOUT_S) -> bool:
    """Whether ``path`` appeared before ``process`` ended (polled every millisecond)."""
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            return path.exists()
        time.sleep(0.001)
    return True


# --- what every try checks -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a try left in the output tables for its round."""

    published: bool  # every heater's row of the round, its run info and its curves
    partial: bool  # anything of the round's but not all of it
    duplicates: int  # (device, round, method) rows more than once


def judge(before: Snapshot, after: Snapshot, k: int) -> Verdict:
    """The output tables after the try of round ``k``, against those before it. Rows of other
    rounds never change (the plan in force before stays), whatever the try did."""
    start = round_start(k)
    ours = [r for r in after["result"] if r["first_valid_timestamp"] == start]
    keys = [
        (r["machine_id"], r["first_valid_timestamp"], r["planning_method"]) for r in after["result"]
    ]
    others = [r for r in after["result"] if r["first_valid_timestamp"] != start]
    assert others == [r for r in before["result"] if r["first_valid_timestamp"] != start]
    horizon = set(range(start, start + STEPS * STEP, STEP))
    whole = (
        sorted(r["machine_id"] for r in ours) == list(HEATER_IDS)
        and [r["timestamp"] for r in after["ems_run_info"] if r["timestamp"] == start] == [start]
        and all(
            horizon <= {r["data_timestamp"] for r in after[name]}
            for name in ("p_c_with_flexible_consumption", "p_c_without_flexible_consumption")
        )
    )
    return Verdict(whole, not whole and after != before, len(keys) - len(set(keys)))
