"""A real coordination database on PostgreSQL, built from ``coordination_schema.sql``.

One fresh database per test session, named ``ems_coord_<random>`` (other sessions may run at
the same time on the same server) and dropped at the end. Its tables live in the non-public
schema ``elfe``, reached through the engine's search path, and hold the dataset below. The
server is ``$ELFE_TEST_POSTGRES_URL`` (default: user postgres on 127.0.0.1:5432); when it
cannot be reached the tests fail, they never skip.

The dataset: the round starts at ``R`` = 1_792_886_400 = 2026-10-25 00:00Z = 02:00 CEST
(first occurrence), the Sunday the clocks go back at 03:00 CEST = 02:00 CET = 01:00Z. Device
ids give the kind: 1-9 machines, 10-19 water heaters, 20-29 EVs, 30-39 thermostatic heaters,
40-49 pilot-wire heaters; a kind's row id is its device id unless said otherwise. Stored times
are written ``R + n h`` in the comments.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Connection, Engine, text

from coordination_rows import OFF, device, machine, programme
from elfe_ems.db.engine import make_engine
from elfe_ems.sim.community import coordination_schema
from postgres import admin, create_database, drop_database, url_of

SCHEMA = "elfe"
SCHEMA_SQL = coordination_schema()  # the demo\'s DDL file, as the package ships it

R = 1_792_886_400  # 2026-10-25 00:00Z
H = 3600


def _tank(device_id: int, volume: float, power: int, item: int) -> dict:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "volume_ballon": volume,
        "puissance_chauffe": power,
        "mesures_puissance_elec_id": item,
    }


def _window(row_id: int, tank: int, active: bool | None, start: int | None, end: int) -> dict:
    return {
        "id": row_id,
        "equipement_pilote_ballon_ecs_id": tank,
        "nom": f"HC {row_id}",
        "actif": active,
        "debut": start,
        "fin": end,
    }


def _ev(device_id: int, soc: float | None, target: int | None, deadline: int | None, **kw):
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "pourcentage_charge_restant": soc,
        "pourcentage_charge_finale_minimale_souhaitee": target,
        "timestamp_dispo_souhaitee": deadline,
        "puissance_de_charge": kw.get("power", 7000),
        "capacite_de_batterie": kw.get("capacity", 50_000),
        "duree_de_charge_estime": 20_000,
    }


def _thermostatic(device_id: int, comfort: int, delta: int | None, model: int, **kw) -> dict:
    return {
        "id": device_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "temperature_eco": 2881,  # 288.1 K = 14.95 °C
        "temperature_confort": comfort,
        "delta_temp_maximale_temp_demandee": delta,
        "puissance": kw.get("power", 1500),
        "modele_thermique_id": model,
        "mesure_temperature_id": 7000 + device_id,
        **kw.get("programme", programme()),
    }


def _pilot_wire(row_id: int, device_id: int, comfort_w: int | None, pct: int | None, **kw):
    return {
        "id": row_id,
        "equipement_pilote_ou_mesure_id": device_id,
        "puissance_moyenne_eco": kw.get("eco_w", 100),
        "puissance_moyenne_confort": comfort_w,
        "pourcentage_eco_force": pct,
        **kw.get("programme", programme()),
    }


# Off-peak window 22:00-06:00 and the thermostatic programme, in s after local midnight.
NIGHT = (79_200, 21_600)
HEATING = programme(
    semaine=((True, 21_600, 28_800), (True, 64_800, 79_200)),  # 06:00-08:00, 18:00-22:00
    weekend=((True, 28_800, 82_800), OFF),  # 08:00-23:00
)

DATASET: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "equipement_pilote_ou_mesure",
        [
            *(device(i, t) for i, t in ((1, 111), (3, 112), (4, 113), (5, 111), (6, 112))),
            device(2, 111, mode=20),  # manual: not read
            device(10, 131, last_on=R - 3 * H),  # switched on 3 h ago: resting
            device(11, 131, last_on=R - 13 * H),  # 13 h ago: planned
            device(12, 131),  # never switched on (NULL)
            *(device(i, 131, last_on=R - 20 * H) for i in (13, 14, 15, 16)),
            device(17, 131, mode=70),  # disabled: not read
            *(device(i, 221) for i in range(20, 27)),
            *(device(i, 155) for i in range(30, 34)),
            *(device(i, 151) for i in (40, 41, 43, 44)),
            device(42, 151, mode=20),  # manual: not read
        ],
    ),
    (
        "equipement_pilote_machine_generique",
        [
            machine(1, R + 10 * H, 2 * H, 1, 5001),  # learned cycle of 3 steps
            machine(2, R + 5 * H, H, 2, 5002),
            machine(3, R + 6 * H, H, 3, 5003),  # the previous plan started it
            machine(4, R + 3 * H, None, 999, 5004),  # no cycle row 999, NULL wait
            machine(5, None, H, 5, None),  # NULL wanted end
            machine(6, R + H, 1800, 6, 5006),  # the previous plan starts it at R
        ],
    ),
    (
        "equipement_pilote_machine_generique_cycle",
        [
            {"id": i, "equipement_pilote_machine_generique_id": i, "nom": n, "duree_cycle": 7200}
            for i, n in ((1, "Coton 40"), (2, "Eco"), (3, "Intensif"), (5, "Rapide"), (6, "Mixte"))
        ],
    ),
    (
        "equipement_pilote_ballon_ecs",
        [
            _tank(10, 200, 2000, 6010),
            _tank(11, 200, 2000, 6011),
            _tank(12, 150.0, 1500, 6012),  # no energy measured
            _tank(13, 100, 1200, 6013),
            _tank(14, 100, 1200, 6014),
            _tank(15, 100, -2000, 6015),  # negative power
            _tank(16, 200, 2000, 6016),
            _tank(17, 200, 2000, 6017),
        ],
    ),
    (
        "equipement_pilote_ballon_ecs_heures_creuses",
        [
            _window(1, 10, True, *NIGHT),
            _window(2, 11, True, *NIGHT),  # crosses midnight
            _window(3, 11, False, 43_200, 50_400),  # inactive
            _window(12, 11, None, 0, 3600),  # NULL actif: inactive
            _window(4, 12, True, 3600, 25_200),  # 01:00-07:00 and 05:00-08:00 overlap
            _window(5, 12, True, 18_000, 28_800),
            _window(6, 13, True, None, 21_600),  # its only active window has a NULL hour
            _window(7, 13, False, 0, 3600),
            _window(8, 14, False, *NIGHT),  # no active window
            _window(9, 15, True, *NIGHT),
            _window(10, 16, True, *NIGHT),
            _window(11, 17, True, *NIGHT),
        ],
    ),
    (
        "equipement_pilote_vehicule_electrique_generique",
        [
            _ev(20, 40.5, 80, R + 8 * H),
            _ev(21, 70, 50, R + 8 * H),  # target below the charge
            _ev(22, 120, 80, 3600),  # charge above 100 %, deadline in 1970
            _ev(23, 40, 80, R + 8 * H, capacity=-50_000),
            _ev(24, 40, 80, R + 8 * H, power=None),
            _ev(25, None, None, None, power=3700, capacity=40_000),
            _ev(26, 40, 80, R + 8 * H),  # the previous plan started it
        ],
    ),
    (
        "chauffage_asservi_modele_thermique",
        [{"id": i, "nom": f"model {i}"} for i in (0, 1, 2, 99)],
    ),
    (
        "equipement_pilote_chauffage_asservi",
        [
            _thermostatic(30, 2931, 5, 1, programme=HEATING),  # 19.95 °C +- 0.5 K
            _thermostatic(31, 2931, 5, 99, programme=HEATING),  # model 99: not in the store
            _thermostatic(32, 2931, None, 2, power=1000),  # no period, NULL delta, no temp
            _thermostatic(33, 20, 5, 0),  # comfort typed in °C
        ],
    ),
    (
        "equipement_pilote_chauffage_non_asservi",
        [
            _pilot_wire(
                40,
                40,
                1500,
                25,
                programme=programme(
                    semaine=((True, 1800, 7200), (False, 0, 0)),  # 00:30-02:00
                    weekend=((True, 0, 14_400), (True, 14_400, 18_000)),  # 00-04, 04-05
                ),
            ),
            _pilot_wire(
                41,
                41,
                1000,
                None,
                eco_w=50,
                programme=programme(
                    weekend=((True, 82_800, 3600), (True, 0, 90_000)),  # 23:00-01:00; bad
                ),
            ),
            _pilot_wire(42, 42, 1500, 25),
            _pilot_wire(43, 43, None, 25),
            _pilot_wire(
                44, 44, 1500, 150, programme=programme(weekend=((True, 36_000, 37_200), OFF))
            ),
            _pilot_wire(46, 30, 1500, 25),  # device 30 is already a thermostatic heater
        ],
    ),
]


def _insert(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


@pytest.fixture(scope="session")
def coordination_database() -> Iterator[str]:
    """This session's fresh database, with the schema ``elfe`` built from the DDL file."""
    name = create_database("ems_coord")
    try:
        with admin(name) as connection:
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(SCHEMA)))
            connection.execute(SCHEMA_SQL)
        yield name
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
def coordination_engine(coordination_database: str) -> Iterator[Engine]:
    """An engine on the filled database, its search path set to ``elfe`` (not ``public``)."""
    engine = make_engine(url_of(coordination_database, SCHEMA))
    with engine.begin() as connection:
        for table, rows in DATASET:
            _insert(connection, table, rows)
    yield engine
    engine.dispose()
