"""The planner's objectives from the configuration: a peak/off-peak tariff per step.

With ``objective = "price"`` the planner minimises the import's cost: each step's price is the
off-peak price when the step begins inside an off-peak window (local wall-clock time, DST
aware: ``"22:00-06:00"`` crosses midnight), else the peak price. ``peak_tolerance`` turns the
peak stage on (> 0) or off (0 or ``"off"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from elfe_ems.config import parse_window
from elfe_ems.planner.core import SolveOptions
from elfe_ems.round.objective import Objective
from elfe_ems.timegrid import Grid


@dataclass(frozen=True)
class Tariff:
    """Prices per kWh (any currency) in and out of the off-peak windows."""

    peak_price: float
    off_peak_price: float
    off_peak_windows: Sequence[str]
    zone: ZoneInfo

    def __post_init__(self) -> None:
        for window in self.off_peak_windows:
            parse_window(window)  # a bad window is refused whatever the objective

    def prices(self, grid: Grid) -> tuple[float, ...]:
        """The price of each step, by the local time at which it begins."""
        windows = [parse_window(w) for w in self.off_peak_windows]
        prices = []
        for k in range(grid.steps):
            local = datetime.fromtimestamp(grid.time_of(k), self.zone)
            second = local.hour * 3600 + local.minute * 60 + local.second
            off_peak = any(_inside(second, start, end) for start, end in windows)
            prices.append(self.off_peak_price if off_peak else self.peak_price)
        return tuple(prices)


def _inside(second: int, start: int, end: int) -> bool:
    if start < end:
        return start <= second < end
    return second >= start or second < end  # across midnight (or all day when equal)


def solve_options(
    time_limit_s: float,
    gap: float,
    grid: Grid,
    objective: str,
    tariff: Tariff,
    peak_tolerance: float | Literal["off"],
) -> SolveOptions:
    """The planner's options for these settings on ``grid`` (``objective``: an
    :class:`Objective` value)."""
    return SolveOptions(
        time_limit_s=time_limit_s,
        gap=gap,
        price_per_kwh=tariff.prices(grid) if objective == Objective.PRICE else None,
        peak_tolerance=0.0 if peak_tolerance == "off" else float(peak_tolerance),
    )
