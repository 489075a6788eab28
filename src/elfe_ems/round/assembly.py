"""A round's scenario from its inputs: the one assembly that the live round (``ems run``) and
the backtest both use.

:class:`RoundInputs` is everything a round reads, already in memory: the coordination rows,
the forecast net load, what the store measured or learned, the thermal models and the plan
rows published before. :func:`assemble_scenario` turns it into the planner's scenario by the
spec's rules (:func:`~elfe_ems.round.inputs.build_devices`), with each device's plan in force
as its previous decisions. It reads no database and no clock: the live round reads the
inputs from its databases (:mod:`elfe_ems.round.job`), the backtest from its simulated world
(:mod:`elfe_ems.backtest.loop`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from elfe_ems.notices.collector import grouped
from elfe_ems.planner.scenario import AnyDeviceSpec, Scenario
from elfe_ems.publish.in_force import PlanHistory, previous_decisions
from elfe_ems.round.inputs import BuiltDevices, Measurements, build_devices
from elfe_ems.sources.coordination import CoordinationRows
from elfe_ems.timegrid import Grid


@dataclass(frozen=True)
class RoundInputs:
    """What one round reads, frozen.

    ``net_load_w``: the forecast consumption - production without the piloted devices [W per
    step]; ``measurements``: per Zabbix item, with the outdoor temperature forecast;
    ``thermal_models``: ``modele_thermique_id`` -> ``(R [K/W], C [J/K])``; ``history``: the rows
    published before the round (comfort periods and rests in progress); ``in_force``: the
    same with the round's own rows when it is run again: the plan in force at each step.
    """

    rows: CoordinationRows
    net_load_w: Sequence[float]
    measurements: Measurements
    thermal_models: Mapping[int, tuple[float, float]]
    history: PlanHistory
    in_force: PlanHistory


def assemble_scenario(
    inputs: RoundInputs, grid: Grid, zone: ZoneInfo
) -> tuple[Scenario, BuiltDevices]:
    """The round's scenario on ``grid`` (``zone``: the territory's time zone, for the
    programmes and the daily windows), and what the spec's rules gave: the devices' issues
    (repaired or left out) and why each device without a spec was left out."""
    with grouped():  # the devices' issues: one line per kind
        built = build_devices(
            inputs.rows, grid, zone, inputs.history, inputs.measurements, inputs.thermal_models
        )
    scenario = Scenario(
        round_start=grid.round_start,
        step_s=grid.step_s,
        steps=grid.steps,
        net_load_w=[float(w) for w in inputs.net_load_w],
        outdoor_temp_c=(
            None
            if inputs.measurements.outdoor_temp_c is None
            else [float(c) for c in inputs.measurements.outdoor_temp_c]
        ),
        devices=[with_plan_in_force(spec, inputs.in_force, grid) for spec in built.specs],
    )
    return scenario, built


def with_plan_in_force(spec: AnyDeviceSpec, in_force: PlanHistory, grid: Grid) -> AnyDeviceSpec:
    """``spec`` with the decisions of its plan in force, when it has one."""
    decisions = previous_decisions(in_force, spec.id, grid)
    if decisions is None:
        return spec
    return spec.model_copy(update={"previous_decisions": decisions})
