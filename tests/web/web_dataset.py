"""The dashboard tests' dataset: real rounds run on SQLite databases, read by the app.

``NOW`` = 1_800_000_000 = 2027-01-15 08:00Z (Friday, 09:00 in Paris). The store holds a
measured balance (production - consumption) of the two days before ``NOW``: ``measured_w(t)``
without the piloted devices, less their power in the plans in force (``flexible_w(t)``,
written as the rounds write it), and forecasts issued every hour from three days before
``NOW`` to an hour before it, each for the 48 h after its issue: a forecast issued at ``i``
for the step ``t`` is ``measured_w(t) + 10 W x (t - i) / 1 h``, so its error grows with its
lead time and the mean absolute error of each horizon is known (``EXPECTED_MAE_W``).

Devices (coordination rows): three machines (type 111, default 8-step cycle; machines 2 and
3 with a wanted end), an EV (221), two pilot-wire heaters (151; heater 41 owes more comfort
than its period has left: a warning) and a water heater with a negative power (131, not
planned). Rounds: one at ``NOW - 30`` s (6 devices planned), one a quarter hour later, the
current plan (machine 1, started by the first, is no longer planned:
``CURRENT_TYPES``), then one that fails (its coordination database has no tables).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from acquisition_env import JobsEnv, new_env
from coordination_rows import OFF, device, machine, programme
from elfe_ems.config import Settings
from elfe_ems.db.engine import engine_for
from elfe_ems.round.job import RoundError, run_round
from elfe_ems.store.tables import balance_measurement, flexible_power, forecast, run_log

NOW = 1_800_000_000
H = 3600
METHOD = "elfe-ems"  # the planning method of the rounds and the app
STEP = 900
CURRENT_TYPES = {
    2: "machine",
    3: "machine",
    20: "ev",
    40: "pilot_wire_heater",
    41: "pilot_wire_heater",
}
"""The devices of the current plan, by id."""
EXPECTED_MAE_W = {0.0: 6.25, 1.0: 13.75, 6.0: 63.75, 24.0: 243.75}
"""Mean absolute error per horizon [W]: 10 W per hour of lead, the lead being the horizon
plus 0, 15, 30 or 45 min (hourly issues, quarter-hour steps)."""


def measured_w(t: int) -> float:
    """The measured balance without the piloted devices of the step at ``t`` [W]: a surplus
    around midday."""
    return -3000.0 + 8000.0 * math.sin(2 * math.pi * ((t % 86_400) / 86_400 - 0.25))


def flexible_w(t: int) -> float:
    """The piloted devices' power at ``t`` [W]: 1.5 kW from 12:00 to 14:00 UTC."""
    return 1500.0 if 12 * H <= t % 86_400 < 14 * H else 0.0


RAW_ROWS: list[tuple[str, dict[str, Any]]] = [
    (
        "equipement_pilote_vehicule_electrique_generique",
        {
            "id": 20,
            "equipement_pilote_ou_mesure_id": 20,
            "pourcentage_charge_restant": 40.0,
            "pourcentage_charge_finale_minimale_souhaitee": 80,
            "timestamp_dispo_souhaitee": NOW + 20 * H,
            "puissance_de_charge": 7000,
            "capacite_de_batterie": 35_000,
        },
    ),
    *(
        (
            "equipement_pilote_chauffage_non_asservi",
            {
                "id": i,
                "equipement_pilote_ou_mesure_id": i,
                "puissance_moyenne_eco": 100,
                "puissance_moyenne_confort": 1500,
                "pourcentage_eco_force": 25,
                **programme(semaine=(morning, (True, 18 * H, 22 * H))),
            },
        )
        # heater 41 owes comfort from 08:00 local, an hour before the rounds: a warning
        for i, morning in ((40, OFF), (41, (True, 8 * H, 10 * H)))
    ),
    (
        "equipement_pilote_ballon_ecs_heures_creuses",
        {"id": 1, "equipement_pilote_ballon_ecs_id": 12, "nom": "HC", "actif": True}
        | {"debut": 22 * H, "fin": 6 * H},
    ),
]


def _fill_coordination(env: JobsEnv) -> None:
    env.insert(
        "device",
        *(device(i, 111) for i in (1, 2, 3)),
        device(20, 221),
        device(40, 151),
        device(41, 151),
        device(12, 131, last_on=NOW - 20 * H),
    )
    env.insert(
        "machine",
        machine(1, None, None, 1, None),
        machine(2, NOW + 16 * H, 2 * H, 2, None),
        machine(3, NOW + 3 * H, -600, 3, None),
    )
    env.insert(
        "tank",
        {"id": 12, "equipement_pilote_ou_mesure_id": 12, "puissance_chauffe": -2000}
        | {"volume_ballon": 200, "mesures_puissance_elec_id": 6012},
    )
    with engine_for(env.coordination_url) as engine, engine.begin() as connection:
        for table, row in RAW_ROWS:
            columns, values = ", ".join(row), ", ".join(f":{name}" for name in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


def _fill_store(env: JobsEnv) -> None:
    env.write(
        balance_measurement,
        [
            {"step_start": t, "power_w": measured_w(t) - flexible_w(t), "measured_at": NOW}
            for t in range(NOW - 2 * 86_400, NOW, STEP)
        ],
    )
    env.write(
        flexible_power,
        [
            {"planning_method": METHOD, "step_start": t, "power_w": flexible_w(t)}
            | {"round_start": t}
            for t in range(NOW - 2 * 86_400, NOW, STEP)
            if flexible_w(t)
        ],
    )
    issues = range(NOW - 3 * 86_400, NOW, H)
    env.write(
        forecast,
        [
            {"source": "persistence", "issue_time": i, "target_time": t}
            | {"power_w": measured_w(t) + 10.0 * (t - i) / H}
            for i in issues
            for t in range(i + STEP, i + 48 * H + STEP, STEP)
        ],
    )


@dataclass(frozen=True)
class Dashboard:
    """The dataset's databases, the settings of the app on them, and the rounds' run ids."""

    env: JobsEnv
    settings: Settings
    first_round: int
    current_round: int
    failed_round: int


def web_settings(env: JobsEnv, **values: Any) -> Settings:
    """Settings on the dataset, with sources that fail at once (no network in tests)."""
    return env.settings(
        planning_method=METHOD,
        time_limit_s=5.0,
        weather_providers=["open-meteo"],
        open_meteo_url="http://127.0.0.1:9/v1",
        http_timeout_s=1.0,
        **values,
    )


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Dashboard:
    """The dataset of the module docstring, with its three rounds run."""
    env = new_env(tmp_path_factory.mktemp("web"))
    _fill_coordination(env)
    _fill_store(env)
    settings = web_settings(env)
    run_round(settings, NOW - 30)
    run_round(settings, NOW + STEP - 30)
    broken = settings.model_copy(
        update={"coordination_url": f"sqlite:///{env.folder / 'empty.sqlite'}"}
    )
    with pytest.raises(RoundError):
        run_round(broken, NOW + 2 * STEP - 30)
    first, current, failed = (int(row["id"]) for row in env.rows(run_log))
    return Dashboard(env, settings, first, current, failed)
