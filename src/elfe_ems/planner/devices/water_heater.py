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
- no energy to deliver, no window within the horizon, or a run that fits only in a window
  that continues past the horizon: not planned this round (``[WARN_IGNORED]``; a later round
  sees further);
- energy to deliver with no heating power: skipped (``[WARN_IMPOSSIBLE]``).
"""

from __future__ import annotations

import math

import numpy as np

from elfe_ems.planner.devices.base import (
    Notice,
    SkipDevice,
    StartChoiceModel,
    Tag,
    profile_matrix,
)
from elfe_ems.planner.scenario import WaterHeaterSpec
from elfe_ems.timegrid import Grid


class WaterHeaterModel(StartChoiceModel):
    """One heating run in one window (see the module docstring)."""

    def __init__(self, spec: WaterHeaterSpec, grid: Grid) -> None:
        super().__init__(spec, grid)
        if spec.energy_wh == 0:
            raise SkipDevice(Tag.IGNORED, "no energy to deliver")
        if spec.power_w == 0:
            raise SkipDevice(
                Tag.IMPOSSIBLE,
                f"{spec.energy_wh:g} Wh to deliver with 0 W of power",
                "energy to deliver with 0 W of power",
            )
        windows = self._windows_in_horizon(spec, grid)
        if not windows:
            raise SkipDevice(Tag.IGNORED, "no heating window within the horizon")
        run = max(1, math.ceil(spec.energy_wh / (spec.power_w * grid.step_h) - 1e-9))
        fitting = [(first, end) for first, end, _ in windows if end - first >= run]
        if not fitting:
            if any(whole - first >= run for first, _, whole in windows):
                raise SkipDevice(
                    Tag.IGNORED, "the run fits only in a window past the horizon: planned later"
                )
            first, end, _ = max(windows, key=lambda w: (w[1] - w[0], -w[0]))
            run = end - first
            self.warn(
                Notice.ENERGY_DOES_NOT_FIT,
                f"{spec.energy_wh:g} Wh does not fit in any window: heats during the longest "
                f"window, {run} steps from {grid.iso(grid.time_of(first))}",
            )
            fitting = [(first, end)]
        starts = np.array(
            sorted({s for first, end in fitting for s in range(first, end - run + 1)})
        )
        values = np.full((len(starts), run), spec.power_w)
        self.set_candidates(starts, profile_matrix(starts, values, grid.steps), run)

    @staticmethod
    def _windows_in_horizon(spec: WaterHeaterSpec, grid: Grid) -> list[tuple[int, int, int]]:
        """Windows as (first step, end step cut to the horizon, end step uncut), the part
        before the round start cut, windows without a step in the horizon dropped."""
        windows = []
        for start, end in spec.windows:
            first = max(0, grid.first_step_from(start))
            whole = grid.steps_ended_by(end)
            if min(grid.steps, whole) > first:
                windows.append((first, min(grid.steps, whole), whole))
        return windows
