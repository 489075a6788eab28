"""The unit of a measured item, read from the source (Zabbix's ``units``), and the conversion
of its values to the unit the EMS computes in: W, Wh or °C.

An item in a unit of the right quantity is converted (a balance in kW is multiplied by 1000,
not read as W); an item in another unit is refused with :class:`UnitError`, naming the item,
its unit and the units accepted. An item without a unit (Zabbix's default is an empty string)
is read in the EMS's unit, logged (``[WARN_DATABASE]``): set its unit in Zabbix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from elfe_ems.logtags import Tag
from elfe_ems.notices.catalogue import Notice
from elfe_ems.notices.collector import note
from elfe_ems.sources.measurements import Item, MeasurementError, MeasurementSource

log = logging.getLogger(__name__)


class Quantity(StrEnum):
    """What an item measures, by the EMS's unit."""

    POWER_W = "W"
    ENERGY_WH = "Wh"
    TEMPERATURE_C = "°C"


@dataclass(frozen=True)
class Conversion:
    """``value_in_ems_unit = value * scale + offset``."""

    scale: float = 1.0
    offset: float = 0.0

    def __call__(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        converted: npt.NDArray[np.float64] = values * self.scale + self.offset
        return converted

    def one(self, value: float) -> float:
        return value * self.scale + self.offset


UNITS: dict[Quantity, dict[str, Conversion]] = {
    Quantity.POWER_W: {"w": Conversion(), "kw": Conversion(1e3), "mw": Conversion(1e6)},
    Quantity.ENERGY_WH: {"wh": Conversion(), "kwh": Conversion(1e3), "mwh": Conversion(1e6)},
    Quantity.TEMPERATURE_C: {
        "°c": Conversion(),
        "c": Conversion(),
        "degc": Conversion(),
        "k": Conversion(1.0, -273.15),
    },
}
"""Accepted units (lower case, spaces removed) of each quantity."""


class UnitError(MeasurementError):
    """An item whose unit is not one of its quantity's."""


def _noun(quantity: Quantity) -> str:
    """``power``, ``energy`` or ``temperature``."""
    return quantity.name.split("_")[0].lower()


def normalised(units: str) -> str:
    return units.strip().lower().replace(" ", "")


def is_unit_of(item: Item, quantity: Quantity) -> bool:
    """Whether the item's unit is one of ``quantity``'s (an empty unit is not)."""
    return normalised(item.units) in UNITS[quantity]


def conversion(item: Item, quantity: Quantity) -> Conversion:
    """How to convert the item's values to ``quantity``'s EMS unit; :class:`UnitError` when
    its unit is of another quantity."""
    unit = normalised(item.units)
    if not unit:
        log.warning(
            "%s item %d (%s) has no unit in the source: read in %s; set its unit",
            Tag.DATABASE,
            item.item_id,
            item.name,
            quantity.value,
        )
        return Conversion()
    found = UNITS[quantity].get(unit)
    if found is None:
        accepted = ", ".join(UNITS[quantity])
        raise UnitError(
            f"item {item.item_id} ({item.name}) is in {item.units!r}, not a "
            f"{_noun(quantity)} unit ({accepted})"
        )
    return found


def history_in(
    source: MeasurementSource, item: Item, quantity: Quantity, start_s: int, end_s: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The item's samples over ``[start_s, end_s]`` in ``quantity``'s EMS unit; an item in a
    unit of another quantity is logged (``[WARN_DATABASE]``) and raises :class:`UnitError`.
    NaN and infinite values (Zabbix stores what a calculated item or a script gives) are left
    out, counted in one notice per item (``[WARN_IGNORED]``): never a mean or an energy."""
    try:
        convert = conversion(item, quantity)
    except UnitError as error:
        log.warning("%s %s: not read", Tag.DATABASE, error)
        raise
    times_s, values = source.history(item, start_s, end_s)
    values = convert(np.asarray(values, dtype=float))
    finite = np.isfinite(values)
    if not finite.all():
        bad = int((~finite).sum())
        text = f"{bad} of {values.size} samples are NaN or infinite: left out"
        note(
            log, Notice.SAMPLES_NOT_FINITE, f"{_noun(quantity)} item", item.item_id, text, value=bad
        )
        times_s, values = times_s[finite], values[finite]
    return times_s, values
