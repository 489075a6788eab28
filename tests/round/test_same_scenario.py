"""The live round (``ems run``) and the backtest assemble the same scenario from the same
inputs: the simulated world's coordination rows, measurements, forecast and published plan
rows, once written into real databases and read by the live round, once handed to the
backtest in memory."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, MetaData, Table, create_engine, insert

from elfe_ems.backtest.loop import round_scenario
from elfe_ems.config import Settings
from elfe_ems.db.engine import make_engine
from elfe_ems.planner.scenario import read_scenario
from elfe_ems.publish.in_force import PlanHistory, PublishedRow
from elfe_ems.round.job import run_round
from elfe_ems.sim.community import coordination_schema
from elfe_ems.sim.plant import Plant
from elfe_ems.sim.world import Site, TaskKey, World, build_world
from elfe_ems.sources.coordination import CoordinationRows, Programme
from elfe_ems.store import migrate
from elfe_ems.store.tables import (
    DECISION_COUNT,
    forecast,
    machine_cycle_profile,
    machine_cycle_settings,
    result,
    room_temperature,
    thermal_model,
    water_heater_energy,
    weather_forecast,
)
from elfe_ems.timegrid import STEP_S, STEPS

RENNES = Site(48.11, -1.68, "Europe/Paris")
METHOD = "elfe-ems"


def _programme_columns(programme: Programme) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for label, periods in (("semaine", programme.weekday), ("weekend", programme.weekend)):
        for number, period in enumerate(periods, start=1):
            prefix = f"prog_{label}_periode_{number}"
            columns[f"{prefix}_confort_actif"] = period.active
            columns[f"{prefix}_heure_debut"] = period.start_s
            columns[f"{prefix}_heure_fin"] = period.end_s
    return columns


def _coordination_tables(rows: CoordinationRows) -> dict[str, list[dict[str, Any]]]:
    """``rows`` as the coordination database holds them (docs/spec/elfe.md §1)."""
    last_on = {t.device_id: t.last_switched_on for t in rows.water_heaters}
    tables: dict[str, list[dict[str, Any]]] = {
        "equipement_pilote_ou_mesure": [
            {
                "id": d.device_id,
                "equipement_pilote_ou_mesure_type_id": d.type_id,
                "equipement_pilote_ou_mesure_mode_id": d.mode,
                "nom_humain": f"device {d.device_id}",
                "timestamp_derniere_mise_en_marche": last_on.get(d.device_id),
            }
            for d in rows.devices
        ]
    }

    def add(table: str, row: dict[str, Any]) -> None:
        tables.setdefault(table, []).append(row)

    for m in rows.machines:
        add(
            "equipement_pilote_machine_generique",
            {
                "id": m.row_id,
                "equipement_pilote_ou_mesure_id": m.device_id,
                "timestamp_de_fin_souhaite": m.wanted_end,
                "delai_attente_maximale_apres_fin": m.max_wait_s,
                "cycle_equipement_pilote_machine_generique_id": m.cycle_id,
                "mesures_puissance_elec_id": m.power_item_id,
            },
        )
        add(
            "equipement_pilote_machine_generique_cycle",
            {
                "id": m.cycle_id,
                "equipement_pilote_machine_generique_id": m.row_id,
                "duree_cycle": 7200,
                "nom": m.cycle_name,
            },
        )
    for t in rows.water_heaters:
        add(
            "equipement_pilote_ballon_ecs",
            {
                "id": t.row_id,
                "equipement_pilote_ou_mesure_id": t.device_id,
                "volume_ballon": t.volume_l,
                "puissance_chauffe": t.power_w,
                "mesures_puissance_elec_id": t.power_item_id,
            },
        )
        for w in t.windows:
            add(
                "equipement_pilote_ballon_ecs_heures_creuses",
                {
                    "id": t.row_id * 100 + w.row_id,
                    "equipement_pilote_ballon_ecs_id": t.row_id,
                    "nom": "heures creuses",
                    "actif": True,
                    "debut": w.start_s,
                    "fin": w.end_s,
                },
            )
    for c in rows.evs:
        add(
            "equipement_pilote_vehicule_electrique_generique",
            {
                "id": c.row_id,
                "equipement_pilote_ou_mesure_id": c.device_id,
                "pourcentage_charge_restant": c.soc_pct,
                "pourcentage_charge_finale_minimale_souhaitee": c.target_soc_pct,
                "duree_de_charge_estime": 3600,
                "timestamp_dispo_souhaitee": c.deadline,
                "puissance_de_charge": c.power_w,
                "capacite_de_batterie": c.capacity_wh,
            },
        )
    models = sorted({h.thermal_model_id for h in rows.thermostatic_heaters})
    tables["chauffage_asservi_modele_thermique"] = [
        {"id": model, "nom": f"model {model}"} for model in models
    ]
    for h in rows.thermostatic_heaters:
        add(
            "equipement_pilote_chauffage_asservi",
            {
                "id": h.row_id,
                "equipement_pilote_ou_mesure_id": h.device_id,
                "temperature_eco": h.eco_dk,
                "temperature_confort": h.comfort_dk,
                "delta_temp_maximale_temp_demandee": h.half_band_dk,
                "puissance": h.power_w,
                "modele_thermique_id": h.thermal_model_id,
                "mesure_temperature_id": h.temperature_item_id,
                **_programme_columns(h.programme),
            },
        )
    for p in rows.pilot_wire_heaters:
        add(
            "equipement_pilote_chauffage_non_asservi",
            {
                "id": p.row_id,
                "equipement_pilote_ou_mesure_id": p.device_id,
                "puissance_moyenne_eco": p.eco_power_w,
                "puissance_moyenne_confort": p.comfort_power_w,
                "pourcentage_eco_force": p.forced_eco_pct,
                **_programme_columns(p.programme),
            },
        )
    return tables


def _write(engine: Engine, tables: dict[Table | str, list[dict[str, Any]]]) -> None:
    """Insert the rows; a table given by name is reflected from the database."""
    metadata = MetaData()
    with engine.begin() as connection:
        for table, rows in tables.items():
            target = (
                table
                if isinstance(table, Table)
                else Table(table, metadata, autoload_with=connection)
            )
            if rows:
                connection.execute(insert(target), rows)


def _history(world: World, rows: CoordinationRows, time_s: int) -> PlanHistory:
    """Rows published by the two rounds before: a random plan per device."""
    rng = np.random.default_rng(11)
    ids = [r.device_id for kind in vars(rows).values() for r in kind]
    published = {
        device: [
            PublishedRow(start, tuple(int(v) for v in rng.integers(0, 2, DECISION_COUNT)))
            for start in (time_s - 2 * STEP_S, time_s - STEP_S)
        ]
        for device in ids
    }
    assert world.start_s <= time_s - 2 * STEP_S
    return PlanHistory(published)


def test_the_live_round_and_the_backtest_plan_the_same_scenario(tmp_path: Path) -> None:
    world = build_world(TaskKey("winter", 0, 5, 30), RENNES)
    plant = Plant(world, piloted=True)
    time_s = world.start_s + 13 * 4 * STEP_S  # 13:00 local: machines programmed, cars in
    span = world.span(time_s)
    net_load_w = world.load_w[span] - world.pv_w[span]
    outdoor_c = world.outdoor_temp_c[span]
    rows = plant.rows(time_s)
    history = _history(world, rows, time_s)
    measured = plant.measurements(time_s, [float(c) for c in outdoor_c])

    backtest = round_scenario(plant, time_s, net_load_w, outdoor_c, history)

    coordination_file = tmp_path / "coordination.sqlite"
    with sqlite3.connect(coordination_file) as connection:
        connection.executescript(coordination_schema())
    coordination = create_engine(f"sqlite:///{coordination_file}")  # foreign keys: as written
    ems_url = f"sqlite:///{tmp_path / 'ems.sqlite'}"
    ems = make_engine(ems_url)
    try:
        _write(coordination, _coordination_tables(rows))
        for database in ("store", "output"):
            migrate.upgrade(ems, database)
        with ems.begin() as connection:
            connection.execute(thermal_model.delete())
        issued_s = time_s - 60
        middles = time_s + STEP_S * (np.arange(STEPS) + 0.5)
        _write(
            ems,
            {
                forecast: [
                    {
                        "source": "persistence",
                        "issue_time": issued_s,
                        "target_time": time_s + k * STEP_S,
                        "power_w": -float(w),
                    }
                    for k, w in enumerate(net_load_w)
                ],
                weather_forecast: [
                    {"target_time": int(t), "fetched_at": issued_s, "temperature_c": float(c)}
                    for t, c in zip(middles, outdoor_c, strict=True)
                ],
                water_heater_energy: [
                    {"power_item_id": item, "measured_at": issued_s, "energy_wh": wh}
                    for item, wh in measured.water_heater_energy_wh.items()
                ],
                room_temperature: [
                    {"temperature_item_id": item, "measured_at": issued_s, "temp_c": c}
                    for item, c in measured.room_temp_c.items()
                ],
                machine_cycle_settings: [
                    {"power_item_id": item} for item in measured.cycle_profiles_w
                ],
                machine_cycle_profile: [
                    {
                        "power_item_id": item,
                        "learned_at": issued_s,
                        "cycle_start": issued_s - 86_400,
                        "profile_w": profile,
                    }
                    for item, profile in measured.cycle_profiles_w.items()
                ],
                thermal_model: [
                    {"id": model, "name": None, "r_k_per_w": r, "c_j_per_k": c}
                    for model, (r, c) in plant.thermal_models().items()
                ],
                result: [
                    {
                        "first_valid_timestamp": row.first_valid_timestamp,
                        "machine_id": device,
                        "result_type": 1,
                        "machine_type": 1,
                        "planning_method": METHOD,
                        **{f"decisions_{k}": v for k, v in enumerate(row.decisions)},
                    }
                    for device, device_rows in history.rows.items()
                    for row in device_rows
                ],
            },
        )
    finally:
        coordination.dispose()
        ems.dispose()
    settings = Settings(
        coordination_url=f"sqlite:///{coordination_file}",
        store_url=ems_url,
        output_url=ems_url,
        run_conditions_dir=tmp_path / "run-conditions",
        planning_method=METHOD,
        timezone=RENNES.timezone,
        time_limit_s=5.0,
    )
    outcome = run_round(settings, time_s - 30)
    live = read_scenario(outcome.scenario_path)

    assert {d.type for d in live.devices} == {
        "machine",
        "water_heater",
        "ev",
        "pilot_wire_heater",
        "thermostatic_heater",
    }
    assert any(d.previous_decisions is not None for d in live.devices)
    assert live.model_dump() == backtest.model_dump()
