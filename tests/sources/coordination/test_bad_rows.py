"""Bad coordination rows, fuzzed (hypothesis), in a real SQLite coordination database (the
embedded default, which stores any value in any column): NULLs in required fields, windows that
end before they start or are too short for the cycle, negative or huge numbers, unknown device
types, text where numbers belong (some of it looking like SQL), duplicate rows of a device.

Whatever the rows, the reading and the building of the round's devices never raise; every
device without a fault is planned as asked; every device with one has an issue naming it (a
documented repair, or left out); a row that cannot be read or a type not of its table leaves its
device out with one ``[WARN_IGNORED]`` line naming the table, the row and the column; and every
device is accounted for: planned or left out.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordination_rows import device, machine, programme
from elfe_ems.db.engine import make_engine
from elfe_ems.logtags import Tag
from elfe_ems.notices.collector import grouped
from elfe_ems.publish.in_force import PlanHistory
from elfe_ems.round.inputs import Measurements, build_devices
from elfe_ems.sim.community import create_coordination
from elfe_ems.sources.coordination import read_coordination
from elfe_ems.timegrid import Grid

S = 1_768_478_400  # 2026-01-15 12:00Z = 13:00 CET, a Thursday
H = 3600
PARIS = ZoneInfo("Europe/Paris")
GRID = Grid(round_start=S, step_s=900, steps=96)
THERMAL_MODELS = {1: (0.00457, 2_835_616.0)}
KINDS = ("machine", "water_heater", "ev", "thermostatic_heater", "pilot_wire_heater")
TYPE_OF_KIND = {
    "machine": 111,
    "water_heater": 131,
    "ev": 221,
    "thermostatic_heater": 155,
    "pilot_wire_heater": 151,
}
TABLE_OF_KIND = {
    "machine": "equipement_pilote_machine_generique",
    "water_heater": "equipement_pilote_ballon_ecs",
    "ev": "equipement_pilote_vehicule_electrique_generique",
    "thermostatic_heater": "equipement_pilote_chauffage_asservi",
    "pilot_wire_heater": "equipement_pilote_chauffage_non_asservi",
}
DEVICES = "equipement_pilote_ou_mesure"
NUMBER_COLUMNS = {
    "machine": ("timestamp_de_fin_souhaite", "delai_attente_maximale_apres_fin"),
    "water_heater": ("volume_ballon", "puissance_chauffe", "mesures_puissance_elec_id"),
    "ev": (
        "pourcentage_charge_restant",
        "pourcentage_charge_finale_minimale_souhaitee",
        "timestamp_dispo_souhaitee",
        "puissance_de_charge",
        "capacite_de_batterie",
    ),
    "thermostatic_heater": (
        "temperature_confort",
        "delta_temp_maximale_temp_demandee",
        "puissance",
        "prog_semaine_periode_1_heure_debut",
    ),
    "pilot_wire_heater": (
        "puissance_moyenne_eco",
        "puissance_moyenne_confort",
        "pourcentage_eco_force",
    ),
}
POWER_COLUMN = {
    "machine": None,  # a machine's power is its learned cycle's
    "water_heater": "puissance_chauffe",
    "ev": "puissance_de_charge",
    "thermostatic_heater": "puissance",
    "pilot_wire_heater": "puissance_moyenne_confort",
}
TEXTS = (
    "abc",
    "12 kW",
    "'; DROP TABLE equipement_pilote_ou_mesure; --",
    "1 OR 1=1",
    "",
    "NULL",
    "é" * 80,
)
COMFORT = programme(
    ((True, 0, 24 * H), (False, None, None)), ((True, 0, 24 * H), (False, None, None))
)


@dataclass(frozen=True)
class Fault:
    """What is wrong with one device: ``column`` of its ``table`` row set to ``value``; or
    ``duplicate``: a second row of its kind; ``unreadable``: the value is text that is no
    number; ``wrong_type``: its type is not one of its table's; ``by_planner``: a wish that
    cannot be met as it is, which the planner relaxes (its warnings are the planner's tests')."""

    table: str
    column: str
    value: Any
    unreadable: bool = False
    wrong_type: bool = False
    by_planner: bool = False  # a wish the planner relaxes, with its warning (not the reading)


def _rows(kind: str, device_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The rows of a device of ``kind`` that can be planned as asked, table by table."""
    item = 5000 + device_id
    rows: list[tuple[str, dict[str, Any]]] = [(DEVICES, device(device_id, TYPE_OF_KIND[kind]))]
    if kind == "machine":
        cycle = {"id": device_id, "equipement_pilote_machine_generique_id": device_id}
        rows += [
            (TABLE_OF_KIND[kind], machine(device_id, S + 10 * H, H, device_id, item)),
            ("equipement_pilote_machine_generique_cycle", {**cycle, "nom": "Coton"}),
        ]
    elif kind == "water_heater":
        tank = {
            "id": device_id,
            "equipement_pilote_ou_mesure_id": device_id,
            "volume_ballon": 200,
            "puissance_chauffe": 2000,
            "mesures_puissance_elec_id": item,
        }
        window = {
            "id": device_id,
            "equipement_pilote_ballon_ecs_id": device_id,
            "actif": True,
            "debut": 79_200,  # 22:00 to 06:00 local
            "fin": 21_600,
        }
        rows += [
            (TABLE_OF_KIND[kind], tank),
            ("equipement_pilote_ballon_ecs_heures_creuses", window),
        ]
    elif kind == "ev":
        ev = {
            "id": device_id,
            "equipement_pilote_ou_mesure_id": device_id,
            "pourcentage_charge_restant": 30,
            "pourcentage_charge_finale_minimale_souhaitee": 80,
            "timestamp_dispo_souhaitee": S + 18 * H,
            "puissance_de_charge": 7000,
            "capacite_de_batterie": 50_000,
        }
        rows.append((TABLE_OF_KIND[kind], ev))
    elif kind == "thermostatic_heater":
        heater = {
            "id": device_id,
            "equipement_pilote_ou_mesure_id": device_id,
            "temperature_eco": 2881,
            "temperature_confort": 2921,
            "delta_temp_maximale_temp_demandee": 10,
            "puissance": 1500,
            "modele_thermique_id": 1,
            "mesure_temperature_id": item,
            **COMFORT,
        }
        rows.append((TABLE_OF_KIND[kind], heater))
    else:
        heater = {
            "id": device_id,
            "equipement_pilote_ou_mesure_id": device_id,
            "puissance_moyenne_eco": 100,
            "puissance_moyenne_confort": 1500,
            "pourcentage_eco_force": 30,
            **COMFORT,
        }
        rows.append((TABLE_OF_KIND[kind], heater))
    return rows


def _measurements(ids_and_kinds: list[tuple[int, str]]) -> Measurements:
    return Measurements(
        cycle_profiles_w={5000 + i: [1500.0] * 8 for i, k in ids_and_kinds if k == "machine"},
        water_heater_energy_wh={5000 + i: 4000.0 for i, k in ids_and_kinds if k == "water_heater"},
        room_temp_c={5000 + i: 19.5 for i, k in ids_and_kinds if k == "thermostatic_heater"},
        outdoor_temp_c=[5.0] * 96,
    )


def faults(kind: str) -> st.SearchStrategy[Fault | None]:
    """No fault, or one fault of a device of ``kind``."""
    table = TABLE_OF_KIND[kind]
    numbers = st.sampled_from(NUMBER_COLUMNS[kind])
    power = POWER_COLUMN[kind]
    options = [
        # NULL where a value is needed (a tank's volume is, only when no energy is measured)
        st.builds(lambda c: Fault(table, c, None), numbers.filter(lambda c: c != "volume_ballon")),
        st.builds(
            lambda c, t: Fault(table, c, t, unreadable=True), numbers, st.sampled_from(TEXTS)
        ),
        st.builds(
            lambda t: Fault(DEVICES, "equipement_pilote_ou_mesure_type_id", t, wrong_type=True),
            st.sampled_from(
                (999, 0, -1, None, *(v for v in TYPE_OF_KIND.values() if v != TYPE_OF_KIND[kind]))
            ),
        ),
        st.builds(
            lambda t: Fault(DEVICES, "equipement_pilote_ou_mesure_type_id", t, unreadable=True),
            st.sampled_from(TEXTS),
        ),
        st.just(Fault(table, "id", "duplicate")),
    ]
    if power is not None:
        options.append(
            st.builds(lambda v: Fault(table, power, v), st.sampled_from((-1500, 1e12, 1e300)))
        )
    if kind == "machine":
        options += [
            # ends before now
            st.just(Fault(table, "timestamp_de_fin_souhaite", S - 5 * H, by_planner=True)),
            st.just(Fault(table, "delai_attente_maximale_apres_fin", -H)),  # window reversed
            # a 2 h cycle in a window of 15 min
            st.just(Fault(table, "timestamp_de_fin_souhaite", S + 900, by_planner=True)),
        ]
    if kind == "ev":
        options += [
            # deadline passed
            st.just(Fault(table, "timestamp_dispo_souhaitee", S - H, by_planner=True)),
            st.just(Fault(table, "pourcentage_charge_finale_minimale_souhaitee", 250)),
        ]
    return st.none() | st.one_of(options)


@st.composite
def communities(draw: st.DrawFn) -> list[tuple[str, Fault | None]]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=60))
    return [(kind, draw(faults(kind))) for kind in kinds]


def _insert(path: Path, devices: list[tuple[str, Fault | None]]) -> None:
    with sqlite3.connect(path) as connection:
        for number, (kind, fault) in enumerate(devices, start=1):
            rows = _rows(kind, number)
            if fault is not None and fault.column == "id":  # a second row of its kind
                table, first = next(r for r in rows if r[0] == TABLE_OF_KIND[kind])
                rows.append((table, {**first, "id": 100_000 + number}))
            elif fault is not None:
                for table, values in rows:
                    if table == fault.table:
                        values[fault.column] = fault.value
            for table, values in rows:
                columns = ", ".join(values)
                marks = ", ".join("?" * len(values))
                statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                connection.execute(statement, list(values.values()))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(devices=communities())
def test_bad_rows_are_left_out_one_line_each_and_the_others_planned(
    devices: list[tuple[str, Fault | None]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / f"coordination-{id(devices)}.sqlite"
    path.unlink(missing_ok=True)
    create_coordination(str(path))
    _insert(path, devices)
    engine = make_engine(f"sqlite:///{path}")
    caplog.clear()
    try:
        with caplog.at_level(logging.INFO), grouped():
            rows = read_coordination(engine)
            built = build_devices(
                rows,
                GRID,
                PARIS,
                PlanHistory(),
                _measurements([(i, k) for i, (k, _) in enumerate(devices, start=1)]),
                THERMAL_MODELS,
            )
    finally:
        engine.dispose()
        path.unlink()
    planned = {spec.id for spec in built.specs}
    issues: dict[int, list[str]] = {}
    for issue in built.issues:
        issues.setdefault(issue.device_id, []).append(f"{issue.tag} {issue.text}")
    own_lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    for number, (kind, fault) in enumerate(devices, start=1):
        # every device accounted for: planned, or left out with its reason
        assert (number in planned) != (number in built.left_out), (number, kind, fault)
        if fault is None or fault.by_planner:
            assert number in planned, (number, kind, fault, issues.get(number))
        if fault is None:
            assert number not in issues, (number, kind, issues.get(number))
        if fault is None or fault.by_planner:
            continue
        assert issues.get(number), (number, kind, fault)  # never silently
        if fault.unreadable or fault.wrong_type:
            left = built.left_out[number]
            assert (left.tag, left.problem) == (Tag.IGNORED, True), (number, fault, left)
            mine = [line for line in own_lines if f"device {number} (" in line]
            ignored = [line for line in mine if line.startswith(str(Tag.IGNORED))]
            assert len(ignored) == 1, (number, fault, mine)
            assert fault.column.removeprefix("equipement_pilote_ou_mesure_") in ignored[0] or (
                fault.wrong_type and "type" in ignored[0]
            ), ignored
    # one warning line per kind of problem, naming its devices
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert all(line.startswith("[WARN_") for line in warnings), warnings
