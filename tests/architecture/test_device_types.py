"""Every device type of the scenario contract (docs/spec/scenario.md) has a planner model, a
rule from its coordination rows, and a publish rule (``resultat.result_type``), and goes the
whole way: coordination rows -> scenario -> plan -> output rows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from sqlalchemy import create_engine, select

from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.devices import MODELS
from elfe_ems.planner.scenario import AnyDeviceSpec
from elfe_ems.publish.in_force import PlanHistory
from elfe_ems.publish.output_tables import RESULT_TYPE, publish
from elfe_ems.round.assembly import RoundInputs, assemble_scenario
from elfe_ems.sim.plant import Plant
from elfe_ems.sim.world import Site, TaskKey, build_world
from elfe_ems.store import migrate
from elfe_ems.store.tables import result
from elfe_ems.timegrid import STEP_S, STEPS, Grid

CONTRACT = Path(__file__).parents[2] / "docs" / "spec" / "scenario.md"
RENNES = Site(48.11, -1.68, "Europe/Paris")


def _spec_types() -> set[str]:
    union = get_args(AnyDeviceSpec)[0]
    return {get_args(spec.model_fields["type"].annotation)[0] for spec in get_args(union)}


def test_the_contract_the_specs_the_models_and_the_publish_rules_name_the_same_types() -> None:
    documented = set(re.findall(r"^### `(\w+)`", CONTRACT.read_text(encoding="utf-8"), re.M))
    assert documented == _spec_types() == set(MODELS) == set(RESULT_TYPE)
    assert len(documented) == 5


def test_every_type_goes_from_its_rows_to_its_output_rows(tmp_path: Path) -> None:
    world = build_world(TaskKey("winter", 0, 3, 40), RENNES)
    plant = Plant(world, piloted=True)
    time_s = world.start_s + 12 * 4 * STEP_S  # noon: machines programmed, cars plugged in
    grid = Grid(time_s, STEP_S, STEPS)
    outdoor = [float(c) for c in world.outdoor_temp_c[world.span(time_s)]]
    inputs = RoundInputs(
        rows=plant.rows(time_s),
        net_load_w=[float(w) for w in world.load_w[world.span(time_s)]],
        measurements=plant.measurements(time_s, outdoor),
        thermal_models=plant.thermal_models(),
        history=PlanHistory(),
        in_force=PlanHistory(),
    )
    scenario, _issues = assemble_scenario(inputs, grid, world.tz)
    assert {d.type for d in scenario.devices} == _spec_types()
    plan, _stats = solve(scenario, SolveOptions(time_limit_s=5, gap=1e-2))
    planned = {d.type for d in plan.devices if d.status == "planned"}
    assert planned == _spec_types()
    engine = create_engine(f"sqlite:///{tmp_path / 'output.sqlite'}")
    migrate.upgrade(engine, "output")
    with engine.begin() as connection:
        publish(connection, plan, scenario.net_load_w, "elfe-ems")
    with engine.connect() as connection:
        rows = connection.execute(select(result.c.machine_id, result.c.result_type)).all()
    type_of = {d.id: d.type for d in plan.devices}
    assert {(type_of[device], kind) for device, kind in rows} == set(RESULT_TYPE.items())
