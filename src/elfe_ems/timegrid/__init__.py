"""The planning time grid: step k covers `[round_start + k step_s, round_start + (k+1) step_s)`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86_400
STEP_S = 900
"""The planning step [s]: a quarter hour (spec: docs/spec/elfe.md §3)."""
STEPS = 96
"""Steps of a round's horizon: 24 h."""


@dataclass(frozen=True)
class Grid:
    """A round's horizon: ``steps`` steps of ``step_s`` seconds from ``round_start`` (Unix s)."""

    round_start: int
    step_s: int
    steps: int

    @property
    def end(self) -> int:
        """Unix time at which the horizon ends (exclusive)."""
        return self.round_start + self.steps * self.step_s

    @property
    def step_h(self) -> float:
        """Length of one step in hours (W times this is Wh)."""
        return self.step_s / HOUR_S

    def time_of(self, step: int) -> int:
        """Unix time at which ``step`` begins."""
        return self.round_start + step * self.step_s

    def first_step_from(self, time_s: int) -> int:
        """First step that begins at or after ``time_s`` (may be negative or past the horizon)."""
        return -((self.round_start - time_s) // self.step_s)

    def steps_ended_by(self, time_s: int) -> int:
        """Number of steps from the round start that end at or before ``time_s`` (may be < 0)."""
        return (time_s - self.round_start) // self.step_s

    @staticmethod
    def iso(time_s: int) -> str:
        """A Unix time as readable UTC, for messages."""
        return datetime.fromtimestamp(time_s, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
