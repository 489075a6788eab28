"""The device type codes of the ELFE spec (``docs/spec/elfe.md`` §1) and their names: a leaf
that the sources, the simulation and the dashboard share."""

from __future__ import annotations

WASHING_MACHINE, DISHWASHER, DRYER = 111, 112, 113
WATER_HEATER, PILOT_WIRE_HEATER, THERMOSTATIC_HEATER, EV = 131, 151, 155, 221
"""The spec's ``equipement_pilote_ou_mesure_type_id`` codes (copied to the output's
``machine_type``, which tells the control daemon how to apply a decision)."""

TYPE_NAMES = {
    WASHING_MACHINE: "washing machine",
    DISHWASHER: "dishwasher",
    DRYER: "dryer",
    WATER_HEATER: "water heater",
    EV: "electric vehicle",
    THERMOSTATIC_HEATER: "thermostatic heater",
    PILOT_WIRE_HEATER: "pilot-wire heater",
}
"""The name of each type code: the database names none. The spec only says that 151 and 155
are heaters; which is the pilot-wire one and which the thermostatic one is our reading."""
