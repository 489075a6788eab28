"""Reading the coordination database by column name (dataset: conftest.py).

What is checked: only devices in mode 30 are read; values come back as stored, NULL as None,
nothing repaired; only active off-peak windows; a machine without a cycle row is still read;
the schema is the engine's search path; the same reader works on SQLite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, make_url
from sqlalchemy.exc import ProgrammingError

from elfe_ems.sources.coordination import (
    COORDINATION,
    CoordinationRows,
    EvRow,
    MachineRow,
    OffPeakWindowRow,
    PilotWireHeaterRow,
    Programme,
    ProgrammePeriod,
    ThermostaticHeaterRow,
    WaterHeaterRow,
    ballon,
    chauffage_non_asservi,
    equipement,
    heures_creuses,
    machine,
    read_coordination,
)

R = 1_792_886_400
H = 3600
OFF = ProgrammePeriod(active=False, start_s=None, end_s=None)


@pytest.fixture(scope="module")
def rows(coordination_engine: Engine) -> CoordinationRows:
    return read_coordination(coordination_engine)


def test_only_devices_in_mode_30_are_read(rows: CoordinationRows) -> None:
    assert [r.device_id for r in rows.machines] == [1, 3, 4, 5, 6]  # 2 is manual
    assert [r.device_id for r in rows.water_heaters] == [10, 11, 12, 13, 14, 15, 16]  # 17 off
    assert [r.device_id for r in rows.evs] == [20, 21, 22, 23, 24, 25, 26]
    assert [r.device_id for r in rows.thermostatic_heaters] == [30, 31, 32, 33]
    # 42 is manual; device 30's second row (46) is read: judging it is not the reader's job
    assert [(r.device_id, r.row_id) for r in rows.pilot_wire_heaters] == [
        (30, 46),
        (40, 40),
        (41, 41),
        (43, 43),
        (44, 44),
    ]


def test_machines_with_and_without_a_cycle_row(rows: CoordinationRows) -> None:
    by_id = {r.device_id: r for r in rows.machines}
    assert by_id[1] == MachineRow(
        device_id=1,
        machine_type=111,
        row_id=1,
        wanted_end=R + 10 * H,
        max_wait_s=2 * H,
        cycle_id=1,
        cycle_name="Coton 40",
        cycle_found=True,
        power_item_id=5001,
    )
    assert by_id[4] == MachineRow(
        device_id=4,
        machine_type=113,
        row_id=4,
        wanted_end=R + 3 * H,
        max_wait_s=None,
        cycle_id=999,
        cycle_name=None,
        cycle_found=False,
        power_item_id=5004,
    )
    assert (by_id[5].wanted_end, by_id[5].power_item_id) == (None, None)


def test_water_heaters_with_their_active_windows_only(rows: CoordinationRows) -> None:
    by_id = {r.device_id: r for r in rows.water_heaters}
    assert by_id[11] == WaterHeaterRow(
        device_id=11,
        machine_type=131,
        row_id=11,
        last_switched_on=R - 13 * H,
        volume_l=200.0,
        power_w=2000.0,
        power_item_id=6011,
        windows=(OffPeakWindowRow(row_id=2, start_s=79_200, end_s=21_600),),  # 3: off, 12: NULL
    )
    assert isinstance(by_id[12].volume_l, float)  # from a numeric column
    assert by_id[12].volume_l == 150.0
    assert by_id[12].last_switched_on is None
    assert [w.row_id for w in by_id[12].windows] == [4, 5]
    assert by_id[13].windows == (OffPeakWindowRow(row_id=6, start_s=None, end_s=21_600),)
    assert by_id[14].windows == ()
    assert by_id[15].power_w == -2000.0  # absurd values are not repaired here


def test_evs_as_stored(rows: CoordinationRows) -> None:
    by_id = {r.device_id: r for r in rows.evs}
    assert by_id[20] == EvRow(
        device_id=20,
        machine_type=221,
        row_id=20,
        soc_pct=40.5,  # a real column
        target_soc_pct=80.0,
        deadline=R + 8 * H,
        power_w=7000.0,
        capacity_wh=50_000.0,
    )
    assert (by_id[22].soc_pct, by_id[22].deadline) == (120.0, 3600)
    assert by_id[23].capacity_wh == -50_000.0
    assert (by_id[25].soc_pct, by_id[25].target_soc_pct, by_id[25].deadline) == (None,) * 3


def test_heaters_with_their_programme_by_name(rows: CoordinationRows) -> None:
    thermostatic = {r.device_id: r for r in rows.thermostatic_heaters}
    assert thermostatic[30] == ThermostaticHeaterRow(
        device_id=30,
        machine_type=155,
        row_id=30,
        eco_dk=2881.0,
        comfort_dk=2931.0,
        half_band_dk=5.0,
        power_w=1500.0,
        thermal_model_id=1,
        temperature_item_id=7030,
        programme=Programme(
            weekday=(ProgrammePeriod(True, 21_600, 28_800), ProgrammePeriod(True, 64_800, 79_200)),
            weekend=(ProgrammePeriod(True, 28_800, 82_800), OFF),
        ),
    )
    assert thermostatic[32].half_band_dk is None
    pilot = {r.row_id: r for r in rows.pilot_wire_heaters}
    assert pilot[41] == PilotWireHeaterRow(
        device_id=41,
        machine_type=151,
        row_id=41,
        eco_power_w=50.0,
        comfort_power_w=1000.0,
        forced_eco_pct=None,
        programme=Programme(
            weekday=(OFF, OFF),
            weekend=(ProgrammePeriod(True, 82_800, 3600), ProgrammePeriod(True, 0, 90_000)),
        ),
    )


def test_a_connection_reads_the_same_as_an_engine(
    coordination_engine: Engine, rows: CoordinationRows
) -> None:
    with coordination_engine.connect() as connection:
        assert read_coordination(connection) == rows


def test_the_schema_is_the_search_path(coordination_engine: Engine) -> None:
    public = create_engine(make_url(coordination_engine.url).difference_update_query(["options"]))
    try:
        with pytest.raises(ProgrammingError, match="equipement_pilote"):
            read_coordination(public)
    finally:
        public.dispose()


def test_the_reader_works_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'coordination.sqlite'}")
    COORDINATION.create_all(engine)  # the columns the reader declares, enough for it
    devices = [(1, 111, 30, None), (2, 131, 30, R), (3, 151, 20, None)]  # id, type, mode, on
    with engine.begin() as connection:
        for device_id, type_id, mode, last_on in devices:
            connection.execute(
                insert(equipement).values(
                    id=device_id,
                    equipement_pilote_ou_mesure_type_id=type_id,
                    equipement_pilote_ou_mesure_mode_id=mode,
                    timestamp_derniere_mise_en_marche=last_on,
                )
            )
        connection.execute(
            insert(machine).values(
                id=7, equipement_pilote_ou_mesure_id=1, timestamp_de_fin_souhaite=R
            )
        )
        connection.execute(
            insert(ballon).values(id=8, equipement_pilote_ou_mesure_id=2, puissance_chauffe=1)
        )
        for window_id, active in ((1, True), (2, False)):
            connection.execute(
                insert(heures_creuses).values(
                    id=window_id, equipement_pilote_ballon_ecs_id=8, actif=active, debut=0
                )
            )
        connection.execute(
            insert(chauffage_non_asservi).values(id=9, equipement_pilote_ou_mesure_id=3)
        )
    rows = read_coordination(engine)
    engine.dispose()
    assert [(r.device_id, r.row_id, r.wanted_end, r.cycle_found) for r in rows.machines] == [
        (1, 7, R, False)
    ]
    assert rows.water_heaters[0].last_switched_on == R
    assert rows.water_heaters[0].windows == (OffPeakWindowRow(1, 0, None),)
    assert rows.pilot_wire_heaters == ()  # mode 20
