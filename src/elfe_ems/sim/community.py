"""The demo's community: seeded homes and devices, written as coordination database rows.

Devices are drawn with the distributions of :mod:`elfe_ems.sim.synthetic` (the planner's
synthetic scenarios): the device specs it makes for the demo's round give the rows' values,
so the round reads back what the synthetic scenarios plan. Every kind is present (at least
one device each, whatever ``homes``); about one device in ten is in manual mode (the round
leaves it alone, its measurements are still read). Each device is a measurement host of its
own, with items numbered from its id (:func:`power_item`, :func:`energy_item`,
:func:`temperature_item`); the territory balance is :data:`BALANCE_ITEM_ID`.

The users' wishes fit the round's time: machines programmed to end later in the day or the
next morning, cars plugged in until a morning deadline, tanks with their off-peak windows,
heaters with weekly programmes. Thermostatic heaters heat one room each, whose thermal model
(sized for its heater, see :mod:`elfe_ems.sim.synthetic`) is a row of its own.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, MetaData, insert

from elfe_ems.device_types import (
    EV,
    PILOT_WIRE_HEATER,
    THERMOSTATIC_HEATER,
    TYPE_NAMES,
    WASHING_MACHINE,
    WATER_HEATER,
)
from elfe_ems.planner.scenario import PilotWireHeaterSpec, ThermostaticHeaterSpec
from elfe_ems.round.inputs import FULL_REHEAT_WH_PER_L, KELVIN_DK
from elfe_ems.sim.synthetic import (
    DEVICES_PER_HOME,
    Programme,
    Weather,
    device_counts,
    ev_spec,
    machine_spec,
    pilot_wire_heater_spec,
    random_programme,
    thermostatic_heater_spec,
    water_heater_spec,
)
from elfe_ems.sources.coordination import MODE_PILOTED
from elfe_ems.timegrid import STEP_S, STEPS, Grid

MODE_MANUAL = 20
MANUAL_SHARE = 0.1
BALANCE_ITEM_ID = 1
BALANCE_HOST_ID = 0
TANK_VOLUMES_L = (100, 150, 200, 250, 300)
THERMAL_MODEL_FIRST_ID = 100  # room models; the store's seeded house models are 0-2
SIZING_NUDGE_K = 1e-3


def power_item(device_id: int) -> int:
    """The item of a device's power [W]."""
    return 10 * device_id + 1


def energy_item(device_id: int) -> int:
    """The item of a hot-water tank's energy meter [kWh]."""
    return 10 * device_id + 2


def temperature_item(device_id: int) -> int:
    """The item of a thermostatic heater's room temperature [°C]."""
    return 10 * device_id + 3


@dataclass(frozen=True)
class Device:
    """What every device has: its id (= the row id of its kind's table), type, home, mode."""

    id: int
    type_id: int
    home: int
    mode: int

    @property
    def name(self) -> str:
        """The name a user sees."""
        return f"home {self.home + 1} {TYPE_NAMES[self.type_id]}"


@dataclass(frozen=True)
class Machine(Device):
    """A washing machine, dishwasher or dryer, programmed to end by ``wanted_end``."""

    profile_w: tuple[float, ...]  # its cycle [W per 15-min step]
    wanted_end: int  # [Unix s]
    max_wait_s: int


@dataclass(frozen=True)
class WaterHeater(Device):
    """A hot-water tank heating ``daily_energy_wh`` a day in its off-peak windows."""

    power_w: float
    volume_l: float
    daily_energy_wh: float
    windows_s: tuple[tuple[int, int], ...]  # [s after local midnight], may cross it


@dataclass(frozen=True)
class Car(Device):
    """An electric car plugged in now until its deadline."""

    power_w: float
    capacity_wh: float
    soc_pct: float
    target_soc_pct: float
    deadline: int  # [Unix s]


@dataclass(frozen=True)
class PilotWireHeater(Device):
    """A heater switched between comfort and eco by its programme and the EMS."""

    eco_power_w: float
    comfort_power_w: float
    forced_eco_pct: float
    programme: Programme


@dataclass(frozen=True)
class ThermostaticHeater(Device):
    """A heater holding one room in the band of its programme's set points."""

    power_w: float
    comfort_c: float
    eco_c: float
    half_band_k: float
    r_k_per_w: float
    c_j_per_k: float
    model_id: int
    programme: Programme


@dataclass(frozen=True)
class Community:
    """The homes and their devices, by kind, each kind by id."""

    homes: int
    round_start: int
    machines: tuple[Machine, ...]
    water_heaters: tuple[WaterHeater, ...]
    cars: tuple[Car, ...]
    pilot_wire_heaters: tuple[PilotWireHeater, ...]
    thermostatic_heaters: tuple[ThermostaticHeater, ...]

    def devices(self) -> list[Device]:
        """Every device, by id."""
        kinds: tuple[tuple[Device, ...], ...] = (
            self.machines,
            self.water_heaters,
            self.cars,
            self.pilot_wire_heaters,
            self.thermostatic_heaters,
        )
        return sorted((d for kind in kinds for d in kind), key=lambda d: d.id)


def build_community(
    homes: int, seed: int, round_start: int, horizon_weather: Weather, tz: ZoneInfo
) -> Community:
    """A seeded community of ``homes`` homes for the round at ``round_start`` (a multiple of
    900 s); ``horizon_weather`` is the weather of its 96 steps (the heaters' sizing)."""
    if homes < 1:
        raise ValueError(f"a community needs at least one home (got {homes})")
    grid = Grid(round_start, STEP_S, STEPS)
    counts = device_counts(homes, dict.fromkeys(DEVICES_PER_HOME), "winter")
    ids = iter(range(1, sum(max(1, n) for n in counts.values()) + 1))
    homes_rng = np.random.default_rng([seed, 100])

    def common(type_id: int) -> dict[str, int]:
        mode = MODE_MANUAL if homes_rng.random() < MANUAL_SHARE else MODE_PILOTED
        return {
            "id": next(ids),
            "type_id": type_id,
            "home": int(homes_rng.integers(homes)),
            "mode": mode,
        }

    def each(part: int, kind: str) -> Iterator[np.random.Generator]:
        rng = np.random.default_rng([seed, 10 + part])
        for _ in range(max(1, counts[kind])):
            yield rng

    machines = []
    for rng in each(0, "machine"):
        spec = machine_spec(0, grid, horizon_weather, rng)
        cycle_s = len(spec.profile_w) * STEP_S
        machines.append(
            Machine(
                **common(int(spec.machine_type or WASHING_MACHINE)),
                profile_w=tuple(spec.profile_w),
                wanted_end=spec.latest_end,
                max_wait_s=spec.latest_end - cycle_s - spec.earliest_start,
            )
        )
    tanks = []
    for rng in each(1, "water_heater"):
        tank_spec = water_heater_spec(0, grid, horizon_weather, rng)
        tanks.append(
            WaterHeater(
                **common(WATER_HEATER),
                power_w=tank_spec.power_w,
                volume_l=_tank_volume_l(tank_spec.energy_wh),
                daily_energy_wh=tank_spec.energy_wh,
                windows_s=_daily_windows(tank_spec.windows, tz),
            )
        )
    cars = []
    for rng in each(2, "ev"):
        car_spec = ev_spec(0, grid, horizon_weather, rng)
        cars.append(
            Car(
                **common(EV),
                power_w=car_spec.power_w,
                capacity_wh=car_spec.capacity_wh,
                soc_pct=car_spec.soc_pct,
                target_soc_pct=car_spec.target_soc_pct,
                deadline=car_spec.deadline,
            )
        )
    pilot_wire = [
        _pilot_wire(common(PILOT_WIRE_HEATER), grid, horizon_weather, rng)
        for rng in each(3, "pilot_wire_heater")
    ]
    thermostatic = [
        _thermostatic(common(THERMOSTATIC_HEATER), n, grid, horizon_weather, rng)
        for n, rng in enumerate(each(4, "thermostatic_heater"))
    ]
    return Community(
        homes,
        round_start,
        tuple(machines),
        tuple(tanks),
        tuple(cars),
        tuple(pilot_wire),
        tuple(thermostatic),
    )


def _tank_volume_l(energy_wh: float) -> float:
    """The smallest usual tank whose full reheat (10 to 60 °C) holds ``energy_wh``."""
    fits = [v for v in TANK_VOLUMES_L if v * FULL_REHEAT_WH_PER_L >= energy_wh]
    return float(fits[0] if fits else TANK_VOLUMES_L[-1])


def _seconds_of_day(time_s: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(time_s, tz)
    return local.hour * 3600 + local.minute * 60 + local.second


def _daily_windows(windows: list[tuple[int, int]], tz: ZoneInfo) -> tuple[tuple[int, int], ...]:
    """The daily hours [s after local midnight] of a spec's dated windows."""
    return tuple(
        sorted({(_seconds_of_day(a, tz), _seconds_of_day(b, tz) % 86_400) for a, b in windows})
    )


def _pilot_wire(
    common: dict[str, int], grid: Grid, weather: Weather, rng: np.random.Generator
) -> PilotWireHeater:
    """Powers and forced eco of a synthetic pilot-wire heater, with a programme of its own."""
    spec: PilotWireHeaterSpec = pilot_wire_heater_spec(0, grid, weather, rng)
    owed = sum(p.min_comfort_steps for p in spec.comfort_periods)
    steps = sum((p.end - p.start) // STEP_S for p in spec.comfort_periods)
    return PilotWireHeater(
        **common,
        eco_power_w=spec.eco_power_w,
        comfort_power_w=spec.comfort_power_w,
        forced_eco_pct=round(100 * (1 - owed / steps)) if steps else 20.0,
        programme=random_programme(rng),
    )


def _thermostatic(
    common: dict[str, int], index: int, grid: Grid, weather: Weather, rng: np.random.Generator
) -> ThermostaticHeater:
    """A synthetic thermostatic heater's room, power and set points, with a programme of its
    own. The set points come back from its band: the eco bottom is the band's lowest value,
    the comfort top its highest, and the narrowest step is twice the half band.

    The eco set point is then raised, if need be, so that the two bands overlap by half of
    one: a round switches a room's band at once when a comfort period begins or ends
    (synthetic scenarios ramp it), so a room passes from one band to the other in a quarter
    hour only through their overlap. Otherwise every heater misses its band at each change
    (the planner relaxes it, but each relaxation costs the round one to two seconds)."""
    # synthetic's sizing divides by zero when the warmest outdoor temperature equals the
    # comfort band's top (both on the 0.1 K grid here): a thousandth of a kelvin avoids it
    nudged = Weather(weather.outdoor_temp_c + SIZING_NUDGE_K, weather.pv_w_per_kwp)
    spec: ThermostaticHeaterSpec = thermostatic_heater_spec(0, grid, nudged, rng)
    low, high = np.asarray(spec.comfort_min_c), np.asarray(spec.comfort_max_c)
    half = round(float((high - low).min()) / 2, 1)
    comfort = round(float(high.max()) - half, 1)
    return ThermostaticHeater(
        **common,
        power_w=spec.power_w,
        comfort_c=comfort,
        eco_c=max(round(float(low.min()) + half, 1), round(comfort - half, 1)),
        half_band_k=half,
        r_k_per_w=spec.r_k_per_w,
        c_j_per_k=spec.c_j_per_k,
        model_id=THERMAL_MODEL_FIRST_ID + index,
        programme=random_programme(rng),
    )


# --- coordination rows -----------------------------------------------------------------


def coordination_schema() -> str:
    """The coordination database's DDL (spec ``docs/spec/elfe.md`` §1), shipped with the package."""
    return files("elfe_ems.sim").joinpath("coordination_schema.sql").read_text(encoding="utf-8")


def create_coordination(path: str) -> None:
    """Create the coordination tables in the SQLite file ``path``."""
    with sqlite3.connect(path) as connection:
        connection.executescript(coordination_schema())
    connection.close()


def deci_kelvin(temp_c: float) -> int:
    """A temperature [°C] as the coordination database stores it [dK]."""
    return round(temp_c * 10 + KELVIN_DK)


def hours_s(hours: float) -> int:
    """An hour of day [h] as the coordination database stores it [s after midnight]."""
    return round(hours * 3600) % 86_400


def _programme_columns(programme: Programme) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    for label, periods in (("semaine", programme.weekday_h), ("weekend", programme.weekend_h)):
        for number, (start_h, end_h) in enumerate(periods, start=1):
            prefix = f"prog_{label}_periode_{number}"
            columns[f"{prefix}_confort_actif"] = True
            columns[f"{prefix}_heure_debut"] = hours_s(start_h)
            columns[f"{prefix}_heure_fin"] = hours_s(end_h)
    return columns


def coordination_rows(community: Community) -> dict[str, list[dict[str, Any]]]:
    """The rows of every coordination table, by table name."""
    rows: dict[str, list[dict[str, Any]]] = {
        "equipement_pilote_ou_mesure": [
            {
                "id": d.id,
                "equipement_pilote_specifique_id": d.id,
                "equipement_pilote_ou_mesure_type_id": d.type_id,
                "equipement_pilote_ou_mesure_mode_id": d.mode,
                "nom_humain": d.name,
                "utilisateur": f"home-{d.home + 1:03d}",
                "timestamp_derniere_mise_en_marche": None,  # the EMS takes over now
            }
            for d in community.devices()
        ],
        "equipement_pilote_machine_generique": [],
        "equipement_pilote_machine_generique_cycle": [],
        "equipement_pilote_ballon_ecs": [],
        "equipement_pilote_ballon_ecs_heures_creuses": [],
        "equipement_pilote_vehicule_electrique_generique": [],
        "chauffage_asservi_modele_thermique": [],
        "equipement_pilote_chauffage_asservi": [],
        "equipement_pilote_chauffage_non_asservi": [],
    }
    for m in community.machines:
        rows["equipement_pilote_machine_generique"].append(
            {
                "id": m.id,
                "equipement_pilote_ou_mesure_id": m.id,
                "timestamp_de_fin_souhaite": m.wanted_end,
                "delai_attente_maximale_apres_fin": m.max_wait_s,
                "cycle_equipement_pilote_machine_generique_id": m.id,
                "mesures_puissance_elec_id": power_item(m.id),
            }
        )
        length_s = len(m.profile_w) * STEP_S
        rows["equipement_pilote_machine_generique_cycle"].append(
            {
                "id": m.id,
                "equipement_pilote_machine_generique_id": m.id,
                "duree_cycle": length_s,
                "nom": f"{length_s // 3600} h {length_s % 3600 // 60:02d} programme",
            }
        )
    window_id = 0
    for t in community.water_heaters:
        rows["equipement_pilote_ballon_ecs"].append(
            {
                "id": t.id,
                "equipement_pilote_ou_mesure_id": t.id,
                "volume_ballon": t.volume_l,
                "puissance_chauffe": round(t.power_w),
                "mesures_puissance_elec_id": power_item(t.id),
            }
        )
        for start_s, end_s in t.windows_s:
            window_id += 1
            rows["equipement_pilote_ballon_ecs_heures_creuses"].append(
                {
                    "id": window_id,
                    "equipement_pilote_ballon_ecs_id": t.id,
                    "nom": "heures creuses",
                    "actif": True,
                    "debut": start_s,
                    "fin": end_s,
                }
            )
    for c in community.cars:
        rows["equipement_pilote_vehicule_electrique_generique"].append(
            {
                "id": c.id,
                "equipement_pilote_ou_mesure_id": c.id,
                "pourcentage_charge_restant": c.soc_pct,
                "pourcentage_charge_finale_minimale_souhaitee": round(c.target_soc_pct),
                "duree_de_charge_estime": math.ceil(
                    (c.target_soc_pct - c.soc_pct) / 100 * c.capacity_wh / c.power_w * 3600
                ),
                "timestamp_dispo_souhaitee": c.deadline,
                "puissance_de_charge": round(c.power_w),
                "capacite_de_batterie": round(c.capacity_wh),
            }
        )
    for h in community.thermostatic_heaters:
        rows["chauffage_asservi_modele_thermique"].append(
            {"id": h.model_id, "nom": f"room of device {h.id}"}
        )
        rows["equipement_pilote_chauffage_asservi"].append(
            {
                "id": h.id,
                "equipement_pilote_ou_mesure_id": h.id,
                "temperature_eco": deci_kelvin(h.eco_c),
                "temperature_confort": deci_kelvin(h.comfort_c),
                "delta_temp_maximale_temp_demandee": round(h.half_band_k * 10),
                "puissance": round(h.power_w),
                "modele_thermique_id": h.model_id,
                "mesures_puissance_elec_id": power_item(h.id),
                "mesure_temperature_id": temperature_item(h.id),
                **_programme_columns(h.programme),
            }
        )
    for p in community.pilot_wire_heaters:
        rows["equipement_pilote_chauffage_non_asservi"].append(
            {
                "id": p.id,
                "equipement_pilote_ou_mesure_id": p.id,
                "puissance_moyenne_eco": round(p.eco_power_w),
                "puissance_moyenne_confort": round(p.comfort_power_w),
                "pourcentage_eco_force": round(p.forced_eco_pct),
                **_programme_columns(p.programme),
            }
        )
    return rows


def write_coordination(engine: Engine, community: Community) -> None:
    """Insert the community's rows into the coordination tables (their columns reflected from
    the database, so every column of the schema can be written)."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        for name, table_rows in coordination_rows(community).items():
            if table_rows:
                connection.execute(insert(tables.tables[name]), table_rows)
