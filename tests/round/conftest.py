"""Fixtures of the planning-round tests: real databases, filled, and a round run on them.

Databases
---------
PostgreSQL (``$ELFE_TEST_POSTGRES_URL``, default user postgres on 127.0.0.1:5432): one fresh
coordination database per session, named ``ems_round_coord_<random>``, its tables in the
non-public schema ``elfe`` (built from ``../coordination/coordination_schema.sql``, reached
through the URL's search path ``elfe,public``); and one fresh database ``ems_round_<random>``
in which every test environment gets two schemas of its own, a store and an output, each
migrated with :func:`elfe_ems.store.migrate.upgrade`. All are dropped at the end. When the
server cannot be reached the tests fail, they never skip. SQLite: the coordination tables
built from the same DDL file in one file, the store and the output in another.

The dataset
-----------
The round runs at ``AT`` = ``R`` - 30 s, so its start is ``R`` = 1_792_886_400 =
2026-10-25 00:00Z = 02:00 CEST (first occurrence), the Sunday the clocks go back at
03:00 CEST = 02:00 CET = 01:00Z. Local times from R + 1 h are CET (UTC + 1). The horizon is
96 steps of 900 s, to R + 24 h = Monday 01:00 CET. Step ``k`` begins at ``R + 900 k``.

The forecast (production - consumption) is -2000 W everywhere except three surpluses of
+20 000 W, each exactly as long as the device it is meant for: steps 14-19 (the water heater's
6-step run), 22-37 (the EV's 16-step charge) and 56-58 (machine 1's 3-step cycle). A surplus
that large is never used up by the heaters, so moving a device out of its surplus always
costs import: each of these starts is the unique optimum. Every other step is in deficit,
where the import is linear in the load: there the tie-break (earliest start) decides.

Devices (``START_STEP``, ``WATER_HEATER_RUN`` and ``PILOT_41_COMFORT`` below give what is
expected of each):

====  ====  ====  ==============================================================================
id    type  mode  case
====  ====  ====  ==============================================================================
1     111   30    learned 3-step cycle (item 5001), end in [R+14h, R+16h]: starts at 56
2     112   20    manual: not read
3     113   30    started: the previous round's row (R - 900) has decisions_0 = 1
4     111   30    NULL wanted end and wait, no cycle row, no power item: default 8-step cycle,
                  as soon as possible: starts at 0
5     112   30    negative wait (-600 s: 0), wanted end R + 3 h, default cycle: starts at 4
6     111   30    the previous row planned its start at R (column 1): never applied, planned
                  again; 2-step learned cycle, end in [R+1h, R+2h], all in deficit: starts at 2
10    131   30    water heater switched on 3 h ago: resting, not planned
11    131   30    switched on 13 h ago; window 22:00-06:00 crossing midnight and the DST change
                  (Saturday 22:00 CEST to Sunday 06:00 CET = R + 5 h); 3000 Wh measured at
                  2000 W: a 6-step run, 14-19 (it ends at R + 5 h: only with DST right)
12    131   30    negative heating power: skipped
13    131   70    disabled: not read
20    221   30    EV 20 % -> 100 % of 35 kWh at 7 kW (16 steps), deadline R + 12 h: starts at 22
21    221   30    EV with NULL charging power: skipped
23    221   30    EV with negative battery capacity: skipped
30    155   30    thermostatic heater, model 1, 2500 W, room at 17 °C, outdoor 18 °C; comfort
                  19.95 +- 1.5 °C from 08:00 to 23:00 CET on Sunday, eco 17.95 +- 1.5 °C
                  elsewhere (mild values: a narrow band or a cold day makes the planner
                  spend seconds, up to its time limit, on this one heater)
31    155   30    thermostatic heater with thermal model 99, unknown to the store: skipped
40    151   30    pilot-wire heater, 25 % eco, Sunday 08:00-12:00 CET (steps 28-43) and
                  22:00-01:00 crossing midnight (steps 84-95)
41    151   30    pilot-wire heater, NULL pourcentage_eco_force (0 %), Sunday 03:00-04:00:
                  03:00 exists once that day, in CET = R + 2 h: comfort on steps 8-11
43    151   20    manual: not read
====  ====  ====  ==============================================================================

The store holds, besides that forecast (issued at R - 1 h; an older issue at R - 2 h with other
values must not be used), the outdoor temperature (18 °C, fetched at R - 30 min), the learned
cycles (and a superseded one), the water heater's energy (3000 Wh measured at R - 10 min; an
older value), and the room temperature (17 °C at R - 5 min; a later value must not be used).
The output database holds the previous rounds' rows of the planning method ``ems-a``.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Connection, Engine, Table, event, insert, select, text

from coordination_rows import OFF, Period, device, machine, programme
from elfe_ems.config import Settings
from elfe_ems.db.engine import make_engine
from elfe_ems.round.job import RoundOutcome, run_round
from elfe_ems.sim.community import coordination_schema
from elfe_ems.store import migrate
from elfe_ems.store.tables import (
    OUTPUT,
    forecast,
    machine_cycle_profile,
    machine_cycle_settings,
    result,
    room_temperature,
    run_log,
    water_heater_energy,
    weather_forecast,
)
from postgres import admin, create_database, create_schema, drop_database, unique_name, url_of

DDL = coordination_schema()  # the demo\'s DDL file, as the package ships it
COORDINATION_SCHEMA = "elfe"

R = 1_792_886_400  # 2026-10-25 00:00Z = 02:00 CEST, the day the clocks go back
AT = R - 30  # the round runs at 23:59:30Z and publishes from R
H = 3600
STEP = 900
STEPS = 96
METHOD = "ems-a"

DEFICIT_W = -2000.0
SURPLUS_W = 20_000.0
SURPLUS_STEPS = (range(14, 20), range(22, 38), range(56, 59))

PLANNED_IDS = (1, 4, 5, 6, 11, 20, 30, 40, 41)
"""Devices with a row in the round's output, by id."""
MACHINE_TYPES = {1: 111, 4: 111, 5: 112, 6: 111, 11: 131, 20: 221, 30: 155, 40: 151, 41: 151}
ONE_SHOT_IDS = (1, 4, 5, 6, 20)
START_STEP = {1: 56, 4: 0, 5: 4, 6: 2, 20: 22}
"""The step at which each planned one-shot device starts."""
WATER_HEATER_RUN = range(14, 20)
PILOT_41_COMFORT = range(8, 12)
PILOT_40_PERIODS = ((range(28, 44), 12), (range(84, 96), 9))  # (steps, comfort steps owed)
LEARNED_CYCLES = {5001: [1000.0, 2000.0, 500.0], 5006: [800.0, 800.0]}


def surplus_w(step: int) -> float:
    """The forecast production - consumption of a step of the round [W]."""
    return SURPLUS_W if any(step in block for block in SURPLUS_STEPS) else DEFICIT_W


# --- the coordination database ---------------------------------------------------------------


_device = functools.partial(device, ems_consigne_marche=False)  # commande's last order: off


def _tank(device_id: int, power: int) -> dict:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "volume_ballon": 200,
        "puissance_chauffe": power,
        "mesures_puissance_elec_id": 6000 + device_id,
    }


def _window(row_id: int, tank: int, active: bool | None, start: int, end: int) -> dict:
    return {
        "id": row_id,
        "equipement_pilote_ballon_ecs_id": tank,
        "nom": f"HC {row_id}",
        "actif": active,
        "debut": start,
        "fin": end,
    }


def _ev(device_id: int, power: int | None = 7000, capacity: int = 35_000) -> dict:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "pourcentage_charge_restant": 20.0,
        "pourcentage_charge_finale_minimale_souhaitee": 100,
        "duree_de_charge_estime": 14_400,
        "timestamp_dispo_souhaitee": R + 12 * H,
        "puissance_de_charge": power,
        "capacite_de_batterie": capacity,
    }


def _thermostatic(device_id: int, model: int) -> dict:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "temperature_eco": 2911,  # 17.95 °C
        "temperature_confort": 2931,  # 19.95 °C
        "delta_temp_maximale_temp_demandee": 15,  # +- 1.5 K: the bands overlap
        "puissance": 2500,
        "modele_thermique_id": model,
        "mesure_temperature_id": 7000 + device_id,
        **programme(weekend=((True, 8 * H, 23 * H), OFF)),
    }


def _pilot_wire(device_id: int, pct: int | None, weekend: tuple[Period, Period]) -> dict:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "puissance_moyenne_eco": 100,
        "puissance_moyenne_confort": 1500,
        "pourcentage_eco_force": pct,
        **programme(weekend=weekend),
    }


NIGHT = (22 * H, 6 * H)  # 22:00-06:00: crosses midnight

COORDINATION_DATA: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "equipement_pilote_ou_mesure",
        [
            _device(1, 111),
            _device(2, 112, mode=20),
            _device(3, 113),
            _device(4, 111),
            _device(5, 112),
            _device(6, 111),
            _device(10, 131, last_on=R - 3 * H),
            _device(11, 131, last_on=R - 13 * H),
            _device(12, 131),
            _device(13, 131, mode=70, last_on=R - 20 * H),
            *(_device(i, 221) for i in (20, 21, 23)),
            *(_device(i, 155) for i in (30, 31)),
            *(_device(i, 151) for i in (40, 41)),
            _device(43, 151, mode=20),
        ],
    ),
    (
        "equipement_pilote_machine_generique",
        [
            machine(1, R + 16 * H, 2 * H, 1, 5001),
            machine(2, R + 5 * H, H, 2, 5002),
            machine(3, R + 6 * H, H, 3, 5003),
            machine(4, None, None, 999, None),
            machine(5, R + 3 * H, -600, 5, 5005),
            machine(6, R + 2 * H, H, 6, 5006),
        ],
    ),
    (
        "equipement_pilote_machine_generique_cycle",
        [
            {"id": i, "equipement_pilote_machine_generique_id": i, "nom": f"cycle {i}"}
            for i in (1, 2, 3, 5, 6)
        ],
    ),
    (
        "equipement_pilote_ballon_ecs",
        [_tank(10, 2000), _tank(11, 2000), _tank(12, -2000), _tank(13, 2000)],
    ),
    (
        "equipement_pilote_ballon_ecs_heures_creuses",
        [
            _window(1, 10, True, *NIGHT),
            _window(2, 11, True, *NIGHT),
            _window(3, 11, False, 12 * H, 14 * H),  # inactive
            _window(4, 11, None, 14 * H, 16 * H),  # NULL actif: inactive
            _window(5, 12, True, *NIGHT),
            _window(6, 13, True, *NIGHT),
        ],
    ),
    (
        "equipement_pilote_vehicule_electrique_generique",
        [_ev(20), _ev(21, power=None), _ev(23, capacity=-35_000)],
    ),
    ("chauffage_asservi_modele_thermique", [{"id": i, "nom": f"model {i}"} for i in (1, 99)]),
    ("equipement_pilote_chauffage_asservi", [_thermostatic(30, 1), _thermostatic(31, 99)]),
    (
        "equipement_pilote_chauffage_non_asservi",
        [
            _pilot_wire(40, 25, ((True, 8 * H, 12 * H), (True, 22 * H, H))),
            _pilot_wire(41, None, ((True, 3 * H, 4 * H), OFF)),
            _pilot_wire(43, 25, ((True, 0, 24 * H), OFF)),
        ],
    ),
]


def fill_coordination(connection: Connection) -> None:
    """Insert the dataset, column by column name (the same statements on both databases)."""
    for table, rows in COORDINATION_DATA:
        for row in rows:
            columns = ", ".join(row)
            values = ", ".join(f":{name}" for name in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


# --- the store and the output ----------------------------------------------------------------


def fill_store(
    engine: Engine, forecast_steps: int = STEPS, yesterday: bool = False, weather: bool = True
) -> None:
    """The store's data (see the module docstring). ``forecast_steps``: how many steps of the
    horizon the latest forecast covers; ``yesterday``: also forecast values for the day
    before the round (what 24 h persistence extends), at ``yesterday_w(step)``; ``weather``:
    whether there is an outdoor temperature forecast (without one, the thermostatic heater
    is not planned)."""
    forecasts = [
        {"source": "persistence", "issue_time": R - H, "target_time": R + STEP * k, "power_w": v}
        for k in range(forecast_steps)
        for v in [surplus_w(k)]
    ]
    forecasts += [  # an older issue of the same steps: never used
        {"source": "persistence", "issue_time": R - 2 * H, "target_time": R + STEP * k}
        | {"power_w": 99_999.0}
        for k in range(forecast_steps)
    ]
    if yesterday:
        forecasts += [
            {"source": "persistence", "issue_time": R - 25 * H, "target_time": R + STEP * k}
            | {"power_w": yesterday_w(k)}
            for k in range(-STEPS, 0)
        ]
    with engine.begin() as connection:
        if forecasts:
            connection.execute(insert(forecast), forecasts)
        if weather:
            connection.execute(
                insert(weather_forecast),
                [
                    {"target_time": t, "fetched_at": R - 1800, "temperature_c": 18.0}
                    for t in range(R - 6 * H, R + 31 * H, H)
                ],
            )
        connection.execute(
            insert(machine_cycle_settings), [{"power_item_id": i} for i in LEARNED_CYCLES]
        )
        connection.execute(
            insert(machine_cycle_profile),
            [
                {"power_item_id": 5001, "learned_at": R - 30 * H, "cycle_start": R - 31 * H}
                | {"profile_w": [3000.0] * 10, "superseded_at": R - 5 * H},
                *(
                    {"power_item_id": item, "learned_at": R - 5 * H, "cycle_start": R - 6 * H}
                    | {"profile_w": profile, "superseded_at": None}
                    for item, profile in LEARNED_CYCLES.items()
                ),
            ],
        )
        connection.execute(
            insert(water_heater_energy),
            [
                {"power_item_id": 6011, "measured_at": R - 600, "energy_wh": 3000.0},
                {"power_item_id": 6011, "measured_at": R - 25 * H, "energy_wh": 9999.0},
            ],
        )
        connection.execute(
            insert(room_temperature),
            [
                {"temperature_item_id": 7030, "measured_at": R - 300, "temp_c": 17.0},
                {"temperature_item_id": 7030, "measured_at": R + 600, "temp_c": 30.0},
            ],
        )


def yesterday_w(step: int) -> float:
    """The forecast of the day before the round, step ``step`` (-96 to -1) [W]: distinct."""
    return 1000.0 + 10.0 * step


def decisions(*ones: int) -> dict[str, int]:
    """The 96 decision columns, 1 at the given steps."""
    return {f"decisions_{k}": int(k in ones) for k in range(STEPS)}


HISTORY_ROWS: list[dict[str, Any]] = [
    # the previous round (R - 900): it started machine 3 at its step 0, applied at R - 900 + 5
    {"first_valid_timestamp": R - STEP, "machine_id": 3, **decisions(0)},
    # ... and planned machine 6 at its step 1 (= R): commande never applied it
    {"first_valid_timestamp": R - STEP, "machine_id": 6, **decisions(1)},
    # 3 h ago, water heater 10's run that switched it on
    {"first_valid_timestamp": R - 3 * H, "machine_id": 10, **decisions(0, 1, 2, 3, 4, 5)},
]


def fill_history(engine: Engine, method: str = METHOD) -> None:
    """The previous rounds' rows of ``method`` in the output database."""
    rows = [
        row | {"result_type": 0 if row["machine_id"] < 10 else 1, "planning_method": method}
        for row in HISTORY_ROWS
    ]
    for row in rows:
        row["machine_type"] = {3: 113, 6: 111, 10: 131}[row["machine_id"]]
    with engine.begin() as connection:
        connection.execute(insert(result), rows)


# --- an environment: three URLs, a run-conditions folder -------------------------------------


@dataclass
class RoundEnv:
    """The three databases of a round and its run-conditions folder, with readers."""

    coordination_url: str
    store_url: str
    output_url: str
    run_dir: Path

    def settings(self, method: str = METHOD, **values: Any) -> Settings:
        return Settings(
            coordination_url=self.coordination_url,
            store_url=self.store_url,
            output_url=self.output_url,
            run_conditions_dir=self.run_dir,
            planning_method=method,
            time_limit_s=30.0,
            **({"stale_forecast_s": 2 * H} | values),  # the dataset's forecast is 1 h old
        )

    def run(self, method: str = METHOD, at: float = AT) -> RoundOutcome:
        return run_round(self.settings(method), at)

    def _read(self, url: str, table: str, order: str) -> list[dict[str, Any]]:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
                return [dict(row) for row in rows.mappings()]
        finally:
            engine.dispose()

    def output(self, table: str) -> list[dict[str, Any]]:
        """Every row of an output table, in a stable order."""
        order = {
            "result": "planning_method, first_valid_timestamp, machine_id",
            "ems_run_info": "timestamp",
        }.get(table, "data_timestamp")
        return self._read(self.output_url, table, order)

    def output_snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every output table, ids included."""
        return {name: self.output(name) for name in OUTPUT.tables}

    def results(self, method: str = METHOD, first_valid: int = R) -> dict[int, dict[str, Any]]:
        """The result rows of one round and method, by machine_id."""
        return {
            row["machine_id"]: row
            for row in self.output("result")
            if row["planning_method"] == method and row["first_valid_timestamp"] == first_valid
        }

    def run_log(self) -> list[dict[str, Any]]:
        return self.store_rows(run_log)

    def store_rows(self, table: Table) -> list[dict[str, Any]]:
        """Every row of a store table, in primary-key order."""
        engine = make_engine(self.store_url)
        try:
            with engine.connect() as connection:
                query = select(table).order_by(*table.primary_key.columns)
                return [dict(row) for row in connection.execute(query).mappings()]
        finally:
            engine.dispose()


def _migrated(url: str, store: bool = True, output: bool = True) -> None:
    engine = make_engine(url)
    try:
        for database, wanted in (("store", store), ("output", output)):
            if wanted:
                migrate.upgrade(engine, database)
    finally:
        engine.dispose()


def _filled(env: RoundEnv, **store: Any) -> RoundEnv:
    """``env`` with its store filled (``fill_store``'s options) and the output's history."""
    store_engine, output_engine = make_engine(env.store_url), make_engine(env.output_url)
    try:
        fill_store(store_engine, **store)
        fill_history(output_engine)
    finally:
        store_engine.dispose()
        output_engine.dispose()
    return env


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_coordination_url() -> Iterator[str]:
    """The session's coordination database, filled, in its schema ``elfe``."""
    name = create_database("ems_round_coord")
    try:
        with admin(name) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier("elfe")))
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier("elfe")))
            connection.execute(DDL)
        url = url_of(name, COORDINATION_SCHEMA)
        engine = make_engine(url)
        try:
            with engine.begin() as connection:
                fill_coordination(connection)
        finally:
            engine.dispose()
        yield url
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The session's database for stores and outputs, one schema pair per environment."""
    name = create_database("ems_round")
    yield name
    drop_database(name)


def _pg_schema(database: str) -> str:
    schema = unique_name("s")
    create_schema(database, schema)
    return schema


def new_pg_env(
    coordination_url: str, database: str, run_dir: Path, password: str | None = None, **store: Any
) -> RoundEnv:
    """A new store schema and output schema, migrated and filled."""
    store_url = url_of(database, _pg_schema(database), password)
    output_url = url_of(database, _pg_schema(database), password)
    _migrated(store_url, output=False)
    _migrated(output_url, store=False)
    return _filled(RoundEnv(coordination_url, store_url, output_url, run_dir), **store)


EnvFactory = Callable[..., RoundEnv]
"""``pg_env(password=None, **store)``: a new PostgreSQL environment, its URLs with that
password (the server trusts the user: any password is accepted), its store filled with
``fill_store``'s options."""


def with_password(url: str, password: str) -> str:
    """``url`` with a password in its user part."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user.split(':')[0]}:{password}@{host}"


def unreachable(url: str) -> str:
    """``url`` on port 1 of its host, where nothing listens."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    address, path = host.split("/", 1)
    return f"{scheme}://{user}@{address.split(':')[0]}:1/{path}"


@pytest.fixture
def pg_env(pg_coordination_url: str, pg_database: str, tmp_path: Path) -> EnvFactory:
    """Makes new PostgreSQL environments (see :data:`EnvFactory`)."""
    count = iter(range(100))

    def make(password: str | None = None, **store: Any) -> RoundEnv:
        run_dir = tmp_path / f"run-conditions-{next(count)}"
        coordination_url = pg_coordination_url
        if password is not None:
            coordination_url = with_password(coordination_url, password)
        return new_pg_env(coordination_url, pg_database, run_dir, password, **store)

    return make


@dataclass(frozen=True)
class Published:
    """A round run once on PostgreSQL, shared by the tests that only read what it left."""

    env: RoundEnv
    outcome: RoundOutcome
    warnings: list[str]


@pytest.fixture(scope="session")
def published(
    pg_coordination_url: str, pg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Published:
    """The round of the dataset at ``AT`` with method ``ems-a``, on PostgreSQL."""
    env = new_pg_env(pg_coordination_url, pg_database, tmp_path_factory.mktemp("published"))
    handler = _ListHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in [n for n in os.environ if n.upper().startswith("EMS_")]:
                patch.delenv(name)
            outcome = env.run()
    finally:
        root.removeHandler(handler)
    return Published(env, outcome, handler.messages)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# --- SQLite --------------------------------------------------------------------------------


@pytest.fixture
def sqlite_env(tmp_path: Path) -> RoundEnv:
    """The same dataset on SQLite: the coordination tables from the same DDL file in one
    file, the store and the output migrated side by side in another."""
    coordination_file = tmp_path / "coordination.sqlite"
    with sqlite3.connect(coordination_file) as connection:
        connection.executescript(DDL)
    coordination_url = f"sqlite:///{coordination_file}"
    engine = make_engine(coordination_url)
    try:
        with engine.begin() as connection:
            fill_coordination(connection)
    finally:
        engine.dispose()
    ems_url = f"sqlite:///{tmp_path / 'ems.sqlite'}"
    _migrated(ems_url)
    return _filled(RoundEnv(coordination_url, ems_url, ems_url, tmp_path / "run-conditions"))


# --- failures ------------------------------------------------------------------------------


@dataclass
class Killer:
    """While ``armed``, kills the connection that runs a statement beginning with
    ``statement``; ``killed``: the pids."""

    armed: bool = True
    statement: str = "DELETE FROM result"
    killed: list[int] = field(default_factory=list)


@pytest.fixture
def kill_output_mid_publish() -> Iterator[Killer]:
    """While armed, the PostgreSQL connection that deletes the round's ``result`` rows (the
    first statement of the publish transaction; or whichever ``Killer.statement`` names) is
    terminated by the server right after that statement, as if the database went down: the
    next statement, or the commit, fails."""
    killer = Killer()

    def after(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
        if not killer.armed or conn.dialect.name != "postgresql":
            return
        if not statement.lstrip().startswith(killer.statement):
            return
        pid = cursor.connection.info.backend_pid
        with admin() as connection:  # wait until the server process has ended (10 s at most)
            connection.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        killer.killed.append(pid)

    event.listen(Engine, "after_cursor_execute", after)
    try:
        yield killer
    finally:
        event.remove(Engine, "after_cursor_execute", after)


@pytest.fixture(autouse=True)
def _isolated(isolated: None) -> None:
    """Every test here runs isolated (``isolated`` of the root conftest)."""


class Case:
    """The dataset's constants and helpers (see the module docstring), handed out by the
    ``case`` fixture: test modules cannot import a conftest in every pytest import mode."""

    R = R
    AT = AT
    H = H
    STEP = STEP
    STEPS = STEPS
    METHOD = METHOD
    PLANNED_IDS = PLANNED_IDS
    MACHINE_TYPES = MACHINE_TYPES
    ONE_SHOT_IDS = ONE_SHOT_IDS
    START_STEP = START_STEP
    WATER_HEATER_RUN = WATER_HEATER_RUN
    PILOT_41_COMFORT = PILOT_41_COMFORT
    PILOT_40_PERIODS = PILOT_40_PERIODS
    HISTORY_ROWS = HISTORY_ROWS
    surplus_w = staticmethod(surplus_w)
    yesterday_w = staticmethod(yesterday_w)
    unreachable = staticmethod(unreachable)
    with_password = staticmethod(with_password)

    @staticmethod
    def decisions_of(row: dict[str, Any]) -> list[int]:
        """The 96 decisions of a ``result`` row."""
        return [row[f"decisions_{k}"] for k in range(STEPS)]

    @staticmethod
    def ones(values: list[int]) -> list[int]:
        """The steps whose decision is not 0."""
        return [k for k, v in enumerate(values) if v]


@pytest.fixture
def case() -> type[Case]:
    """The dataset's constants and helpers."""
    return Case
