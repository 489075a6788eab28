"""Electric hot-water tank: one contiguous heating run inside an off-peak window.

Model
-----
The run lasts ``n = ceil(energy_wh / (power_w * step_h))`` steps at ``power_w`` [W], wholly
inside one window (windows are cut to the horizon; a run must end within it). Decision: 1 on
every step of the run.

Relaxations
-----------
- energy above what any window can hold: the longest window, all of it
  (``[WARN_CONSTRAINT]``);
- no energy to deliver, or no window within the horizon: not planned this round
  (``[WARN_IGNORED]``);
- energy to deliver with no heating power: skipped (``[WARN_IMPOSSIBLE]``).
"""

from __future__ import annotations

import math

import numpy as np

from elfe_ems.devices.base import SkipDevice, StartChoiceModel, Tag, profile_matrix
from elfe_ems.scenario import WaterHeaterSpec
from elfe_ems.timegrid import Grid


class WaterHeaterModel(StartChoiceModel):
    """One heating run in one window (see the module docstring)."""

    def __init__(self, spec: WaterHeaterSpec, grid: Grid) -> None:
        super().__init__(spec, grid)
        if spec.energy_wh == 0:
            raise SkipDevice(Tag.IGNORED, "no energy to deliver")
        if spec.power_w == 0:
            raise SkipDevice(Tag.IMPOSSIBLE, f"{spec.energy_wh:g} Wh to deliver with 0 W of power")
        windows = self._windows_in_horizon(spec, grid)
        if not windows:
            raise SkipDevice(Tag.IGNORED, "no heating window within the horizon")
        run = math.ceil(spec.energy_wh / (spec.power_w * grid.step_h) - 1e-9)
        longest = max(windows, key=lambda w: (w[1] - w[0], -w[0]))
        if run > longest[1] - longest[0]:
            run = longest[1] - longest[0]
            self.warn(
                Tag.CONSTRAINT,
                f"{spec.energy_wh:g} Wh does not fit in any window: heats during the longest "
                f"window, {run} steps from {grid.iso(grid.time_of(longest[0]))}",
            )
            windows = [longest]
        starts = np.array(
            sorted({s for first, end in windows for s in range(first, end - run + 1)})
        )
        values = np.full((len(starts), run), spec.power_w)
        self.set_candidates(starts, profile_matrix(starts, values, grid.steps), run)

    @staticmethod
    def _windows_in_horizon(spec: WaterHeaterSpec, grid: Grid) -> list[tuple[int, int]]:
        """Windows as [first step, end step) cut to the horizon, empty ones dropped."""
        windows = []
        for start, end in spec.windows:
            first = max(0, grid.first_step_from(start))
            last = min(grid.steps, grid.steps_ended_by(end))
            if last > first:
                windows.append((first, last))
        return windows
