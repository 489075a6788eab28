"""The energy accounting of a simulated day: import, export, rates and peak.

Per 15-min step the community's net load is household load - PV + flexible devices [W]: a
positive net load is imported, a negative one exported. Self-consumption is the share of the
PV used in the community, ``(PV - export) / PV``; self-sufficiency the share of the
consumption covered by it, ``(consumption - import) / consumption``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP_H = 0.25


@dataclass(frozen=True)
class EnergyFigures:
    """The energy of a simulated period [Wh], its peak import [W] and its rates (0-1)."""

    import_wh: float
    export_wh: float
    pv_wh: float
    consumption_wh: float
    peak_import_w: float

    @property
    def self_consumption(self) -> float:
        """Share of the PV used in the community (NaN without PV)."""
        return (self.pv_wh - self.export_wh) / self.pv_wh if self.pv_wh > 0 else float("nan")

    @property
    def self_sufficiency(self) -> float:
        """Share of the consumption covered by the PV (NaN without consumption)."""
        if self.consumption_wh <= 0:
            return float("nan")
        return (self.consumption_wh - self.import_wh) / self.consumption_wh

    def __add__(self, other: EnergyFigures) -> EnergyFigures:
        """The figures of two periods together."""
        return EnergyFigures(
            self.import_wh + other.import_wh,
            self.export_wh + other.export_wh,
            self.pv_wh + other.pv_wh,
            self.consumption_wh + other.consumption_wh,
            max(self.peak_import_w, other.peak_import_w),
        )


def energy_figures(
    load_w: np.ndarray, pv_w: np.ndarray, flexible_w: np.ndarray, step_h: float = STEP_H
) -> EnergyFigures:
    """The figures of steps of ``step_h`` hours with these mean powers [W] (PV >= 0)."""
    consumption = np.asarray(load_w, dtype=float) + np.asarray(flexible_w, dtype=float)
    net = consumption - np.asarray(pv_w, dtype=float)
    imported = np.maximum(net, 0.0)
    return EnergyFigures(
        import_wh=float(imported.sum() * step_h),
        export_wh=float(np.maximum(-net, 0.0).sum() * step_h),
        pv_wh=float(np.sum(pv_w) * step_h),
        consumption_wh=float(consumption.sum() * step_h),
        peak_import_w=float(imported.max(initial=0.0)),
    )


def captured_share(without_wh: float, with_wh: float, perfect_wh: float) -> float:
    """The share of the import reduction perfect foresight achieves that the EMS captures:
    ``(without - with) / (without - perfect)``; NaN when perfect foresight saves nothing."""
    possible = without_wh - perfect_wh
    return (without_wh - with_wh) / possible if possible > 0 else float("nan")
