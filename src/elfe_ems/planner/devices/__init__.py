"""Device models: one module per device type, all answering :class:`DeviceModel`.

A new device type is a spec class in ``scenario.py``, a module here, and one line in
``MODELS``; the planner needs no change.
"""

from __future__ import annotations

from elfe_ems.planner.devices.base import Block, DeviceModel, SkipDevice, Tag
from elfe_ems.planner.devices.ev import EvModel
from elfe_ems.planner.devices.machine import MachineModel
from elfe_ems.planner.devices.pilot_wire_heater import PilotWireHeaterModel
from elfe_ems.planner.devices.thermostatic_heater import ThermostaticHeaterModel
from elfe_ems.planner.devices.water_heater import WaterHeaterModel
from elfe_ems.planner.scenario import AnyDeviceSpec, Scenario
from elfe_ems.timegrid import Grid

__all__ = ["MODELS", "Block", "DeviceModel", "SkipDevice", "Tag", "model_for"]

MODELS: dict[str, type[DeviceModel]] = {
    "machine": MachineModel,
    "water_heater": WaterHeaterModel,
    "ev": EvModel,
    "pilot_wire_heater": PilotWireHeaterModel,
    "thermostatic_heater": ThermostaticHeaterModel,
}


def model_for(
    spec: AnyDeviceSpec, grid: Grid, scenario: Scenario, deadline: float | None = None
) -> DeviceModel:
    """The model of one device, prepared by ``deadline`` (a :func:`time.perf_counter`
    instant; None: no limit); raises :class:`SkipDevice` when it cannot be planned."""
    return MODELS[spec.type].from_scenario(spec, grid, scenario, deadline)
