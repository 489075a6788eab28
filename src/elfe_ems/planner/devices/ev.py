"""Electric vehicle on a switched plug: one charge start.

Model
-----
Once switched on at step ``s``, the car charges at ``power_w`` [W] until the battery is full
(``(100 - soc_pct) % * capacity_wh`` delivered) or the deadline, whichever comes first; the
last step may be partial (its mean power is ``power_w`` times the charged fraction). A start
is allowed when it is at or after ``available_from`` and leaves the time to reach
``target_soc_pct`` by the deadline (a deadline beyond the horizon counts as the horizon's
end). Decision: 1 at the start step.

Relaxations
-----------
- availability in the past: from the round start (``[WARN_CONSTRAINT]``);
- deadline already passed: charges as soon as possible, until full (``[WARN_CONSTRAINT]``);
- target unreachable by the deadline: charges from the first allowed step
  (``[WARN_CONSTRAINT]``);
- battery already full, or available only after the horizon: not planned this round
  (``[WARN_IGNORED]``); zero capacity, or charge owed with zero power: skipped
  (``[WARN_IMPOSSIBLE]``).
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
from elfe_ems.planner.scenario import EvSpec
from elfe_ems.timegrid import Grid


class EvModel(StartChoiceModel):
    """One charge start (see the module docstring)."""

    def __init__(self, spec: EvSpec, grid: Grid) -> None:
        super().__init__(spec, grid)
        if spec.capacity_wh == 0:
            raise SkipDevice(Tag.IMPOSSIBLE, "battery capacity is 0 Wh")
        to_full_wh = (100 - spec.soc_pct) / 100 * spec.capacity_wh
        owed_wh = max(0.0, spec.target_soc_pct - spec.soc_pct) / 100 * spec.capacity_wh
        if to_full_wh == 0:
            raise SkipDevice(Tag.IGNORED, "battery already full")
        if spec.power_w == 0:
            raise SkipDevice(Tag.IMPOSSIBLE, "charging power is 0 W")
        first = grid.first_step_from(spec.available_from)
        if first < 0:
            self.warn(
                Notice.START_IN_THE_PAST,
                f"available since {grid.iso(spec.available_from)}: may start from the round start",
            )
            first = 0
        if first >= grid.steps:
            raise SkipDevice(Tag.IGNORED, "available only after the horizon: planned later")
        to_full_s = to_full_wh / spec.power_w * 3600
        owed_s = owed_wh / spec.power_w * 3600
        stop_at_deadline = True
        if spec.deadline <= grid.time_of(first):
            self.warn(
                Notice.DEADLINE_PASSED,
                f"deadline {grid.iso(spec.deadline)} has passed: charges now, until full",
            )
            last = first
            stop_at_deadline = False
        else:
            target_by = min(spec.deadline, grid.end)
            last = min(
                grid.steps - 1,
                int((target_by - owed_s - grid.round_start) // grid.step_s),
                grid.first_step_from(spec.deadline) - 1,  # a start must leave time to charge
            )
            if last < first:
                self.warn(
                    Notice.TARGET_OUT_OF_REACH,
                    f"target {spec.target_soc_pct:g} % cannot be reached by "
                    f"{grid.iso(target_by)}: charges from the first allowed step",
                )
                last = first
        starts = np.arange(first, last + 1)
        start_times = grid.round_start + starts * grid.step_s
        stop_times = start_times + to_full_s
        if stop_at_deadline:
            stop_times = np.minimum(stop_times, spec.deadline)
        step_begin = start_times[:, None] + grid.step_s * np.arange(grid.steps)[None, :]
        charged_s = np.clip(stop_times[:, None] - step_begin, 0, grid.step_s)
        values = spec.power_w * charged_s / grid.step_s
        self.set_candidates(starts, profile_matrix(starts, values, grid.steps), 1)
