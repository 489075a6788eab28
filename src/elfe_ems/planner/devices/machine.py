"""Washing machine, dishwasher, dryer: one learned cycle placed in the user's window.

Model
-----
With the learned profile ``p[0..L-1]`` [W per step] and start step ``s``, the machine draws
``p[j]`` at step ``s + j``. A start is allowed when it begins at or after ``earliest_start``
and the cycle ends (``s + L`` steps) at or before ``latest_end`` and within the horizon.
Decision: 1 at the start step.

Relaxations (each a ``[WARN_CONSTRAINT]`` warning)
--------------------------------------------------
- earliest start in the past: from the round start;
- deadline already passed, or window shorter than the cycle: the end is pushed back and the
  cycle starts as soon as allowed;
- cycle longer than the horizon: started now, its power cut at the horizon.

A cycle that cannot end within the horizon when started at its earliest start is left to a
later round, which sees further (``[WARN_IGNORED]``).
"""

from __future__ import annotations

import numpy as np

from elfe_ems.planner.devices.base import (
    Notice,
    SkipDevice,
    StartChoiceModel,
    Tag,
    profile_matrix,
)
from elfe_ems.planner.scenario import MachineSpec
from elfe_ems.timegrid import Grid


class MachineModel(StartChoiceModel):
    """One cycle, one start (see the module docstring)."""

    def __init__(self, spec: MachineSpec, grid: Grid) -> None:
        super().__init__(spec, grid)
        profile = np.asarray(spec.profile_w, dtype=float)
        length = len(profile)
        first = grid.first_step_from(spec.earliest_start)
        if first < 0:
            self.warn(
                Notice.START_IN_THE_PAST,
                f"earliest start {grid.iso(spec.earliest_start)} is in the past: "
                "may start from the round start",
            )
            first = 0
        if first >= grid.steps:
            raise SkipDevice(Tag.IGNORED, "earliest start is after the horizon: planned later")
        if length > grid.steps:
            if first > 0:
                raise SkipDevice(
                    Tag.IGNORED, "cycle longer than the horizon: planned when it may start now"
                )
            self.warn(
                Notice.CYCLE_LONGER_THAN_HORIZON,
                f"cycle of {length} steps is longer than the horizon: started now, "
                "its power cut at the horizon",
            )
            last = 0
        elif first + length > grid.steps:
            raise SkipDevice(
                Tag.IGNORED, "the cycle cannot end within the horizon yet: planned by a later round"
            )
        else:
            last = self._last_start(spec, first, length)
        starts = np.arange(first, last + 1)
        self.set_candidates(
            starts, profile_matrix(starts, np.tile(profile, (len(starts), 1)), grid.steps), 1
        )

    def _last_start(self, spec: MachineSpec, first: int, length: int) -> int:
        """Latest allowed start step, relaxing a deadline that cannot be met."""
        grid = self.grid
        wanted_end = grid.steps_ended_by(spec.latest_end)
        if spec.latest_end <= grid.round_start:
            self.warn(
                Notice.DEADLINE_PASSED,
                f"deadline {grid.iso(spec.latest_end)} has passed: started as soon as possible",
            )
            return first
        if wanted_end - first < length:
            self.warn(
                Notice.WINDOW_TOO_SHORT,
                f"window too short for the {length}-step cycle: end pushed back to "
                f"{grid.iso(grid.time_of(first + length))}",
            )
            return first
        return min(wanted_end, grid.steps) - length
