"""Thermal models of heated rooms (table ``thermal_model`` of the store): list and set.

A model is the 1R1C room of the thermostatic-heater planner: resistance ``R`` [K/W] between
the room and the outside, heat capacity ``C`` [J/K] of the room, time constant ``R C`` [s].
Its id is the coordination database's ``chauffage_asservi_modele_thermique.id``, which a
heater names in ``modele_thermique_id``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from elfe_ems.store.tables import thermal_model


@dataclass(frozen=True)
class ThermalModel:
    """One room model: ``r_k_per_w`` [K/W] and ``c_j_per_k`` [J/K], both finite and > 0."""

    id: int
    r_k_per_w: float
    c_j_per_k: float
    name: str | None = None

    def __post_init__(self) -> None:
        for field, value in (("R", self.r_k_per_w), ("C", self.c_j_per_k)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"thermal model {self.id}: {field} must be > 0, not {value}")

    @property
    def time_constant_s(self) -> float:
        """``R C`` [s]: how fast the room follows the outside temperature."""
        return self.r_k_per_w * self.c_j_per_k


def list_models(connection: Connection) -> list[ThermalModel]:
    """Every thermal model, by id."""
    rows = connection.execute(select(thermal_model).order_by(thermal_model.c.id))
    return [ThermalModel(r.id, r.r_k_per_w, r.c_j_per_k, r.name) for r in rows]


def set_model(connection: Connection, model: ThermalModel) -> bool:
    """Create or replace ``model`` (a None name keeps the stored one); True if created."""
    values: dict[str, float | str] = {"r_k_per_w": model.r_k_per_w, "c_j_per_k": model.c_j_per_k}
    if model.name is not None:
        values["name"] = model.name
    updated = connection.execute(
        update(thermal_model).where(thermal_model.c.id == model.id).values(values)
    )
    if updated.rowcount:
        return False
    connection.execute(insert(thermal_model).values(id=model.id, **values))
    return True
