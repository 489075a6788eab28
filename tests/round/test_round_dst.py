"""Rounds across and on the days the clocks change in Europe/Paris (issue 17,
docs/reliability.md): the spring-forward Sunday 2027-03-28 (02:00 CET -> 03:00 CEST, a local
day of 23 h: 92 quarter hours) and the fall-back Sunday 2027-10-31 (03:00 CEST -> 02:00 CET,
25 h: 100 quarter hours).

The contract (docs/spec/elfe.md, docs/spec/scenario.md): a round plans 96 UTC quarter hours
from its start, whatever the local day; the users' hours of day are local wall time, so a
programme period or an off-peak window lasts its wall time less (spring) or more (fall) one
hour when it spans the change; a wall time that does not exist is the instant of the change,
one that exists twice is its first occurrence. No quantity of the contract is per local day:
a pilot-wire heater's eco share is per comfort period (of its real length in steps), a tank's
energy is its measured last 24 h.

Each day runs five rounds in order on one set of real SQLite databases (coordination, store
and output): the evening before (its horizon crosses the change), at local midnight of the
day, in the night before the change (fall: the first 02:30, CEST), right after it (spring:
03:00 CEST; fall: the second 02:30, CET), and at noon. The local hours checked: a thermostatic
heater's comfort band, two pilot-wire heaters' comfort periods, a tank's off-peak window and
the tariff's off-peak hours (objective = price); a machine and an EV (whose times are Unix
instants) complete the five device types. The expected instants below are derived by hand in
UTC, or per step with :mod:`zoneinfo`, not through the EMS's conversions.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, MetaData, insert, text

import oracle
from coordination_rows import OFF, device, machine, programme
from elfe_ems.config import Settings
from elfe_ems.db.engine import make_engine
from elfe_ems.planner.scenario import Scenario, read_scenario
from elfe_ems.round.job import RoundOutcome, run_round
from elfe_ems.round.replay import read_options
from elfe_ems.sim.community import create_coordination
from elfe_ems.store import migrate
from elfe_ems.store.tables import forecast, room_temperature, water_heater_energy, weather_forecast

TZ = ZoneInfo("Europe/Paris")
H = 3600
STEP = 900
STEPS = 96
METHOD = "ems-dst"
LEAD_S = 30  # a round runs 30 s before its start


def utc(month: int, day: int, hour: int, minute: int = 0) -> int:
    """Unix time of a UTC wall time of 2027."""
    return int(datetime(2027, month, day, hour, minute, tzinfo=UTC).timestamp())


Interval = tuple[int, int]


@dataclass(frozen=True)
class DstDay:
    """A day the clocks change, its rounds, and what its local hours are in UTC."""

    name: str
    rounds: tuple[int, ...]  # the round starts, in order [Unix s]
    local_day: Interval  # Sunday 00:00 to Monday 00:00 local
    pilot_1_5: Interval  # Sunday's comfort period 01:00-05:00 local
    pilot_2_3: Interval | None  # Sunday's 02:00-03:00 local (None: it does not exist)
    tank_windows: tuple[Interval, ...]  # the 01:00-06:00 windows of Saturday to Monday


SPRING = DstDay(
    "spring-forward",
    # Sat 20:00 CET, Sun 00:00 CET, Sun 01:30 CET, Sun 03:00 CEST (the change), Sun 12:00 CEST
    rounds=(utc(3, 27, 19), utc(3, 27, 23), utc(3, 28, 0, 30), utc(3, 28, 1), utc(3, 28, 10)),
    local_day=(utc(3, 27, 23), utc(3, 28, 22)),  # 23 h
    pilot_1_5=(utc(3, 28, 0), utc(3, 28, 3)),  # 01:00 CET to 05:00 CEST: 3 h
    pilot_2_3=None,  # 02:00-03:00 is skipped: the instant of the change, empty
    tank_windows=(
        (utc(3, 27, 0), utc(3, 27, 5)),  # Saturday, CET
        (utc(3, 28, 0), utc(3, 28, 4)),  # Sunday 01:00 CET to 06:00 CEST: 4 h
        (utc(3, 28, 23), utc(3, 29, 4)),  # Monday, CEST
    ),
)
FALL = DstDay(
    "fall-back",
    # Sat 20:00 CEST, Sun 00:00 CEST, Sun 02:30 CEST (first), Sun 02:30 CET (second), 12:00 CET
    rounds=(
        utc(10, 30, 18),
        utc(10, 30, 22),
        utc(10, 31, 0, 30),
        utc(10, 31, 1, 30),
        utc(10, 31, 11),
    ),
    local_day=(utc(10, 30, 22), utc(10, 31, 23)),  # 25 h
    pilot_1_5=(utc(10, 30, 23), utc(10, 31, 4)),  # 01:00 CEST to 05:00 CET: 5 h
    pilot_2_3=(utc(10, 31, 0), utc(10, 31, 2)),  # 02:00 CEST (first) to 03:00 CET: 2 h
    tank_windows=(
        (utc(10, 29, 23), utc(10, 30, 4)),  # Saturday, CEST
        (utc(10, 30, 23), utc(10, 31, 5)),  # Sunday 01:00 CEST to 06:00 CET: 6 h
        (utc(11, 1, 0), utc(11, 1, 5)),  # Monday, CET
    ),
)

# devices: machine 1, EV 2, tank 3, thermostatic heater 4, pilot-wire heaters 5 (25 % eco,
# weekend 01:00-05:00) and 6 (0 % eco, weekend 02:00-03:00)
ECO_DK, COMFORT_DK, HALF_BAND_DK = 2911, 2931, 15  # 17.95 °C, 19.95 °C, +- 1.5 K
PILOT_5_ECO_PCT = 25
TANK_ENERGY_WH, TANK_POWER_W = 3000.0, 2000  # a 6-step run


def coordination_rows(day: DstDay) -> dict[str, list[dict[str, Any]]]:
    first, last = day.rounds[0], day.rounds[-1]
    return {
        "equipement_pilote_ou_mesure": [
            device(1, 111, ems_consigne_marche=False),
            device(2, 221, ems_consigne_marche=False),
            device(3, 131, last_on=first - 13 * H, ems_consigne_marche=False),
            device(4, 155, ems_consigne_marche=False),
            device(5, 151, ems_consigne_marche=False),
            device(6, 151, ems_consigne_marche=False),
        ],
        # no cycle row, no power item: the default cycle, to end by 8 h after the last round
        "equipement_pilote_machine_generique": [machine(1, last + 8 * H, 20 * H, 9, None)],
        "equipement_pilote_vehicule_electrique_generique": [
            {
                "id": 2,
                "equipement_pilote_ou_mesure_id": 2,
                "pourcentage_charge_restant": 40.0,
                "pourcentage_charge_finale_minimale_souhaitee": 80,
                "duree_de_charge_estime": 4 * H,
                "timestamp_dispo_souhaitee": last + 6 * H,
                "puissance_de_charge": 7000,
                "capacite_de_batterie": 40_000,
            }
        ],
        "equipement_pilote_ballon_ecs": [
            {
                "id": 3,
                "equipement_pilote_ou_mesure_id": 3,
                "volume_ballon": 200,
                "puissance_chauffe": TANK_POWER_W,
                "mesures_puissance_elec_id": 6003,
            }
        ],
        "equipement_pilote_ballon_ecs_heures_creuses": [
            {"id": 1, "equipement_pilote_ballon_ecs_id": 3, "nom": "HC", "actif": True}
            | {"debut": H, "fin": 6 * H}
        ],
        "chauffage_asservi_modele_thermique": [{"id": 1, "nom": "model 1"}],
        "equipement_pilote_chauffage_asservi": [
            {
                "id": 4,
                "equipement_pilote_ou_mesure_id": 4,
                "temperature_eco": ECO_DK,
                "temperature_confort": COMFORT_DK,
                "delta_temp_maximale_temp_demandee": HALF_BAND_DK,
                "puissance": 2500,
                "modele_thermique_id": 1,
                "mesure_temperature_id": 7004,
                **programme(weekend=((True, 6 * H, 22 * H), OFF)),
            }
        ],
        "equipement_pilote_chauffage_non_asservi": [
            {
                "id": heater_id,
                "equipement_pilote_ou_mesure_id": heater_id,
                "puissance_moyenne_eco": 100,
                "puissance_moyenne_confort": 1500,
                "pourcentage_eco_force": pct,
                **programme(weekend=((True, start_h * H, end_h * H), OFF)),
            }
            for heater_id, pct, start_h, end_h in ((5, PILOT_5_ECO_PCT, 1, 5), (6, 0, 2, 3))
        ],
    }


def fill_store(engine: Engine, day: DstDay) -> None:
    """One forecast issue, one weather fetch, one room temperature and one tank energy, all
    before the first round and covering every round's horizon."""
    first, last = day.rounds[0], day.rounds[-1] + STEPS * STEP
    issued = first - H
    with engine.begin() as connection:
        connection.execute(
            insert(forecast),
            [
                {"source": "persistence", "issue_time": issued, "target_time": t}
                # a midday surplus each UTC day, a deficit elsewhere
                | {"power_w": 8000.0 if 10 * H <= t % (24 * H) < 14 * H else -2000.0}
                for t in range(first, last, STEP)
            ],
        )
        connection.execute(
            insert(weather_forecast),
            [
                {"target_time": t, "fetched_at": first - 1800, "temperature_c": 8.0}
                for t in range(first - 6 * H, last + 6 * H, H)
            ],
        )
        connection.execute(
            insert(room_temperature),
            [{"temperature_item_id": 7004, "measured_at": first - 300, "temp_c": 19.0}],
        )
        connection.execute(
            insert(water_heater_energy),
            [{"power_item_id": 6003, "measured_at": first - 600, "energy_wh": TANK_ENERGY_WH}],
        )


@dataclass(frozen=True)
class DstRounds:
    """The day's rounds, run in order, and the output database they published to."""

    day: DstDay
    outcomes: list[RoundOutcome]
    output_url: str
    settings: Settings

    def rows(self, table: str, order: str) -> list[dict[str, Any]]:
        engine = make_engine(self.output_url)
        try:
            with engine.connect() as connection:
                found = connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
                return [dict(row) for row in found.mappings()]
        finally:
            engine.dispose()


def run_day(day: DstDay, folder: Path) -> DstRounds:
    coordination_file = folder / "coordination.sqlite"
    create_coordination(str(coordination_file))
    coordination_url = f"sqlite:///{coordination_file}"
    ems_url = f"sqlite:///{folder / 'ems.sqlite'}"
    engine = make_engine(coordination_url)
    try:
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as connection:
            for name, rows in coordination_rows(day).items():
                connection.execute(insert(tables.tables[name]), rows)
    finally:
        engine.dispose()
    engine = make_engine(ems_url)
    try:
        migrate.upgrade(engine, "store")
        migrate.upgrade(engine, "output")
        fill_store(engine, day)
    finally:
        engine.dispose()
    settings = Settings(
        coordination_url=coordination_url,
        store_url=ems_url,
        output_url=ems_url,
        run_conditions_dir=folder / "run-conditions",
        planning_method=METHOD,
        timezone="Europe/Paris",
        time_limit_s=2.0,  # six devices: the plan is valid whatever the solver proves
        objective="price",  # the tariff's off-peak windows are local hours too
        tariff_off_peak_windows=["22:00-06:00"],
        # one issue of each input serves the day's rounds (16 h): none is stale
        stale_forecast_s=2 * 24 * H,
        stale_weather_s=2 * 24 * H,
        stale_room_temperature_s=2 * 24 * H,
    )
    outcomes = [run_round(settings, start - LEAD_S) for start in day.rounds]
    return DstRounds(day, outcomes, ems_url, settings)


@pytest.fixture(scope="module", params=[SPRING, FALL], ids=lambda d: d.name)
def dst_rounds(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DstRounds]:
    """The day's rounds, run once for the module's tests (no ``EMS_…`` variable)."""
    day: DstDay = request.param
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.upper().startswith("EMS_")]:
            patch.delenv(name)
        yield run_day(day, tmp_path_factory.mktemp(day.name))


def steps_of(start: int, interval: Interval) -> list[int]:
    """The steps of a round starting at ``start`` that ``interval`` covers, cut to it."""
    return [k for k in range(STEPS) if interval[0] <= start + k * STEP < interval[1]]


def cut(start: int, interval: Interval) -> Interval | None:
    """``interval`` cut to the horizon of a round starting at ``start`` (None: outside)."""
    a, b = max(interval[0], start), min(interval[1], start + STEPS * STEP)
    return (a, b) if a < b else None


def published(rounds: DstRounds, start: int) -> dict[int, list[int]]:
    """The decisions of each device in the round starting at ``start``, as published."""
    return {
        row["machine_id"]: [row[f"decisions_{k}"] for k in range(STEPS)]
        for row in rounds.rows("result", "machine_id")
        if row["first_valid_timestamp"] == start
    }


def saved(outcome: RoundOutcome) -> tuple[Scenario, dict[str, Any]]:
    scenario = read_scenario(outcome.scenario_path)
    return scenario, scenario.model_dump(mode="json", exclude_none=True)


def test_every_round_plans_96_utc_quarter_hours(dst_rounds: DstRounds) -> None:
    """96 steps from the round start, whatever the local day's length; the local midnight
    round's horizon ends an hour into Monday (spring) or an hour before it (fall)."""
    day = dst_rounds.day
    local_steps = (day.local_day[1] - day.local_day[0]) // STEP
    assert local_steps == {"spring-forward": 92, "fall-back": 100}[day.name]
    for start, outcome in zip(day.rounds, dst_rounds.outcomes, strict=True):
        scenario, _ = saved(outcome)
        assert (outcome.plan.round_start, outcome.plan.steps, scenario.steps) == (start, 96, 96)
        assert len(scenario.net_load_w) == len(scenario.outdoor_temp_c or []) == STEPS
        assert all(len(d.decisions) == STEPS for d in outcome.plan.devices)
        assert sorted(published(dst_rounds, start)) == sorted(
            d.id for d in outcome.plan.devices if d.status == "planned"
        )
    midnight = day.rounds[1]
    assert midnight == day.local_day[0]
    assert midnight + STEPS * STEP - day.local_day[1] == (96 - local_steps) * STEP


def test_output_timestamps_rise_by_900_s_without_duplicates(dst_rounds: DstRounds) -> None:
    day = dst_rounds.day
    horizon = range(day.rounds[0], day.rounds[-1] + STEPS * STEP, STEP)
    for table in ("p_c_without_flexible_consumption", "p_c_with_flexible_consumption"):
        stamps = [r["data_timestamp"] for r in dst_rounds.rows(table, "data_timestamp")]
        assert stamps == list(horizon), table  # every step once, each 900 s after the last
    results = dst_rounds.rows("result", "first_valid_timestamp, machine_id")
    keys = [(r["first_valid_timestamp"], r["machine_id"], r["planning_method"]) for r in results]
    assert len(keys) == len(set(keys))
    assert sorted({r["first_valid_timestamp"] for r in results}) == list(day.rounds)
    assert all(r[f"decisions_{k}"] in (0, 1) for r in results for k in range(STEPS))
    infos = [r["timestamp"] for r in dst_rounds.rows("ems_run_info", "timestamp")]
    assert infos == list(day.rounds)


def test_published_plans_keep_every_constraint(dst_rounds: DstRounds) -> None:
    """The independent oracle on each round's saved scenario and its published decisions:
    every device type of the dataset is planned by some round."""
    planned_types: set[str] = set()
    for start, outcome in zip(dst_rounds.day.rounds, dst_rounds.outcomes, strict=True):
        _, raw = saved(outcome)
        specs = {d["id"]: d for d in raw["devices"]}
        warned = {d.id for d in outcome.plan.devices if d.warnings}
        for device_id, decisions in published(dst_rounds, start).items():
            spec = specs[device_id]
            assert oracle.violations(raw, spec, decisions, device_id in warned) == [], device_id
            planned_types.add(spec["type"])
    assert planned_types == {"machine", "ev", "water_heater", "thermostatic_heater"} | {
        "pilot_wire_heater"
    }


def test_pilot_wire_periods_in_local_time(dst_rounds: DstRounds) -> None:
    """Sunday 01:00-05:00 local lasts 3 h (spring) or 5 h (fall): its steps and the comfort
    owed, 75 % of its real steps; 02:00-03:00 does not exist in spring (eco all round) and
    lasts 2 h in fall (0 % eco: comfort on each of its steps)."""
    day = dst_rounds.day
    whole = (day.pilot_1_5[1] - day.pilot_1_5[0]) // STEP
    assert whole == {"spring-forward": 12, "fall-back": 20}[day.name]
    for start, outcome in zip(day.rounds, dst_rounds.outcomes, strict=True):
        scenario, _ = saved(outcome)
        heaters = {d.id: d for d in scenario.devices if d.type == "pilot_wire_heater"}
        decisions = published(dst_rounds, start)
        period = cut(start, day.pilot_1_5)
        owed = [(p.start, p.end) for p in heaters[5].comfort_periods]
        assert owed == ([] if period is None else [period])
        comfort = steps_of(start, day.pilot_1_5)
        assert {k for k, d in enumerate(decisions[5]) if d} <= set(comfort)
        if period is not None:
            (p,) = heaters[5].comfort_periods
            assert sum(decisions[5][k] for k in comfort) >= p.min_comfort_steps
            if start <= day.pilot_1_5[0]:  # nothing given yet: the whole period's share
                assert p.min_comfort_steps == math.ceil((100 - PILOT_5_ECO_PCT) * whole / 100)
        if day.pilot_2_3 is None:
            assert heaters[6].comfort_periods == []
            assert decisions[6] == [0] * STEPS
        else:
            period = cut(start, day.pilot_2_3)
            assert [(p.start, p.end) for p in heaters[6].comfort_periods] == (
                [] if period is None else [period]
            )
            ones = steps_of(start, day.pilot_2_3)
            assert decisions[6] == [int(k in ones) for k in range(STEPS)]


def test_thermostatic_band_follows_local_hours(dst_rounds: DstRounds) -> None:
    """Comfort band where the end of the step is 06:00-22:00 local on Saturday or Sunday."""
    for outcome in dst_rounds.outcomes:
        scenario, _ = saved(outcome)
        (heater,) = [d for d in scenario.devices if d.type == "thermostatic_heater"]
        for k in range(STEPS):
            local = datetime.fromtimestamp(scenario.round_start + (k + 1) * STEP, TZ)
            centre_dk = COMFORT_DK if local.weekday() >= 5 and 6 <= local.hour < 22 else ECO_DK
            low_c = (centre_dk - HALF_BAND_DK) / 10 - 273.15
            assert heater.comfort_min_c[k] == pytest.approx(low_c), (k, local)


def test_tank_windows_in_local_time(dst_rounds: DstRounds) -> None:
    """01:00-06:00 local: 4 h on the spring Sunday, 6 h on the fall one; the run in one."""
    day = dst_rounds.day
    sunday = day.tank_windows[1]
    assert (sunday[1] - sunday[0]) // H == {"spring-forward": 4, "fall-back": 6}[day.name]
    seen = 0
    for start, outcome in zip(day.rounds, dst_rounds.outcomes, strict=True):
        scenario, _ = saved(outcome)
        tanks = [d for d in scenario.devices if d.type == "water_heater"]
        if not tanks:  # resting: the run of an earlier round is being applied
            continue
        seen += 1
        (tank,) = tanks
        expected = [w for w in (cut(start, w) for w in day.tank_windows) if w is not None]
        assert [tuple(w) for w in tank.windows] == expected
        run = [k for k, d in enumerate(published(dst_rounds, start)[3]) if d]
        assert len(run) == math.ceil(TANK_ENERGY_WH / (TANK_POWER_W * STEP / H))
        assert any(set(run) <= set(steps_of(start, w)) for w in expected)
    assert seen


def test_tariff_off_peak_in_local_time(dst_rounds: DstRounds) -> None:
    """The price of each step the round solved with (its saved options): off-peak where the
    step begins at 22:00-06:00 local."""
    settings = dst_rounds.settings
    for start, outcome in zip(dst_rounds.day.rounds, dst_rounds.outcomes, strict=True):
        options = read_options(outcome.scenario_path)
        assert options is not None
        assert options.price_per_kwh is not None
        expected = []
        for k in range(STEPS):
            hour = datetime.fromtimestamp(start + k * STEP, TZ).hour
            off_peak = hour >= 22 or hour < 6
            expected.append(
                settings.tariff_off_peak_price if off_peak else settings.tariff_peak_price
            )
        assert list(options.price_per_kwh) == pytest.approx(expected)
