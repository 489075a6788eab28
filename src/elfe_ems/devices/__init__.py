"""Device models: one module per device type, all answering :class:`DeviceModel`.

A new device type is a spec class in ``scenario.py``, a module here, and one line in
``_FACTORIES``; the planner needs no change.
"""

from __future__ import annotations

from collections.abc import Callable

from elfe_ems.devices.base import Block, DeviceModel, SkipDevice, Tag
from elfe_ems.devices.ev import EvModel
from elfe_ems.devices.machine import MachineModel
from elfe_ems.devices.pilot_wire_heater import PilotWireHeaterModel
from elfe_ems.devices.thermostatic_heater import ThermostaticHeaterModel
from elfe_ems.devices.water_heater import WaterHeaterModel
from elfe_ems.scenario import AnyDeviceSpec, Scenario
from elfe_ems.timegrid import Grid

__all__ = ["Block", "DeviceModel", "SkipDevice", "Tag", "model_for"]

_FACTORIES: dict[str, Callable[..., DeviceModel]] = {
    "machine": lambda spec, grid, _scenario: MachineModel(spec, grid),
    "water_heater": lambda spec, grid, _scenario: WaterHeaterModel(spec, grid),
    "ev": lambda spec, grid, _scenario: EvModel(spec, grid),
    "pilot_wire_heater": lambda spec, grid, _scenario: PilotWireHeaterModel(spec, grid),
    "thermostatic_heater": lambda spec, grid, scenario: ThermostaticHeaterModel(
        spec, grid, scenario.outdoor_temp_c
    ),
}


def model_for(spec: AnyDeviceSpec, grid: Grid, scenario: Scenario) -> DeviceModel:
    """The model of one device; raises :class:`SkipDevice` when it cannot be planned."""
    return _FACTORIES[spec.type](spec, grid, scenario)
