"""Cycles of a machine (washing machine, dishwasher) found in its measured power.

A learned cycle's power profile is what the planner places when the user asks for a run. A
cycle starts when the power rises above the start threshold and ends after ``quiet_periods``
consecutive periods whose mean is below the end threshold; periods are counted from the
cycle's first sample and their means are time-weighted
(:func:`elfe_ems.sources.samples.step_means`). A cycle whose start or end was not seen is not
learned: its profile would be cut.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from elfe_ems.logtags import Tag
from elfe_ems.sources.samples import clean_samples, step_integrals, step_means

log = logging.getLogger(__name__)

FIRST_CHUNK_PERIODS = 16  # periods evaluated at once from a start; doubled while running


@dataclass(frozen=True)
class CycleSettings:
    """Thresholds [W] of a cycle's start and end, the quiet periods that end it, and the
    period length [s] at which its profile is learned.

    ``quiet_periods = 0`` is read as 1: a cycle ends at its first quiet period, which is cut
    from the profile like any trailing quiet period.
    """

    threshold_start_w: float = 40
    threshold_end_w: float = 40
    quiet_periods: int = 1
    period_s: int = 900

    def __post_init__(self) -> None:
        if not (math.isfinite(self.threshold_start_w) and math.isfinite(self.threshold_end_w)):
            raise ValueError("the cycle thresholds must be finite")
        if self.quiet_periods < 0 or self.period_s <= 0:
            raise ValueError(
                f"need quiet_periods >= 0 and period_s > 0 "
                f"(got {self.quiet_periods}, {self.period_s})"
            )


@dataclass(frozen=True)
class Cycle:
    """A learned cycle: ``[start_s, end_s)`` in Unix s (rounded to the second) and its mean
    power [W] per period of ``period_s`` from ``start_s``; ``end_s`` is the end of the last
    period that is not quiet."""

    start_s: int
    end_s: int
    profile_w: tuple[float, ...]


@dataclass(frozen=True)
class _Run:
    """The periods of a run from its start: ``profile_w`` (quiet tail cut), whether its end
    was seen, and the period without data that broke it (None if none)."""

    profile_w: np.ndarray
    ended: bool
    gap: int | None


def _run_from(
    times_s: np.ndarray,
    power_w: np.ndarray,
    start_s: float,
    settings: CycleSettings,
    end_s: float,
    max_hold_s: float,
) -> _Run:
    """The periods from ``start_s`` until the end rule fires, a period has no data, or the
    data end (only periods that end by ``end_s`` are judged)."""
    quiet_needed = max(settings.quiet_periods, 1)
    available = max(int((end_s - start_s) // settings.period_s), 0)
    periods = min(FIRST_CHUNK_PERIODS, available)
    while True:
        means = step_means(times_s, power_w, start_s, periods, settings.period_s, max_hold_s)
        quiet = np.concatenate(([0], np.cumsum(means < settings.threshold_end_w)))
        run_ends = np.flatnonzero(quiet[quiet_needed:] - quiet[:-quiet_needed] == quiet_needed)
        end = int(run_ends[0]) if run_ends.size else periods
        missing = np.flatnonzero(np.isnan(means[:end]))
        if missing.size:
            return _Run(means[: missing[0]], ended=False, gap=int(missing[0]))
        if run_ends.size:
            return _Run(means[:end], ended=True, gap=None)
        if periods == available:
            return _Run(means, ended=False, gap=None)
        periods = min(2 * periods, available)


def detect_cycles(
    times_s: np.ndarray,
    power_w: np.ndarray,
    settings: CycleSettings,
    *,
    max_hold_s: float = 900.0,
    end_s: float | None = None,
) -> list[Cycle]:
    """The complete cycles in the samples, oldest first.

    A cycle starts at a sample above ``threshold_start_w`` whose previous sample is not. Its
    periods of ``period_s`` are counted from that sample; it ends once ``quiet_periods``
    consecutive period means are below ``threshold_end_w`` (see :class:`CycleSettings` for
    0), and its profile is the period means before those quiet periods. Data are known until
    ``end_s`` (default: the last sample); a period that ends later is not judged, so a cycle
    still running is not learned. Not learned either: a cycle already running at the first
    sample (its start was not seen), a cycle with a period without data (``[WARN_IGNORED]``,
    samples hold ``max_hold_s``), and a rise whose first period is already quiet (a blip).
    The next start is searched from the end of the last period that was not quiet.
    """
    t, p = clean_samples(times_s, power_w)
    if t.size == 0:
        return []
    known_s = t[-1] if end_s is None else end_s
    above = p > settings.threshold_start_w
    starts = np.flatnonzero(np.concatenate(([above[0]], above[1:] & ~above[:-1])))
    cycles: list[Cycle] = []
    search_s = -math.inf
    for index in starts:
        start_s = t[index]
        if start_s < search_s:
            continue
        run = _run_from(t, p, start_s, settings, known_s, max_hold_s)
        if not run.ended and run.gap is None:
            break  # still running when the data end: nothing later can start
        if run.gap is not None:
            search_s = start_s + run.gap * settings.period_s
            log.warning(
                "%s cycle from %d left out: period %d has no data",
                Tag.IGNORED,
                round(float(start_s)),
                run.gap,
            )
            continue
        search_s = float(start_s + run.profile_w.size * settings.period_s)
        if index > 0 and run.profile_w.size:
            cycles.append(
                Cycle(round(float(start_s)), round(search_s), tuple(run.profile_w.tolist()))
            )
    return cycles


def to_step_profile(profile_w: Sequence[float], period_s: int, step_s: int = 900) -> list[float]:
    """A profile of mean powers per ``period_s`` as mean powers per planning step ``step_s``.

    Energy is preserved: each step's value is the profile's energy within that step divided
    by ``step_s``. The last step, when the cycle ends inside it, holds the rest of the cycle's
    energy spread over the whole step (as if the machine idled for the rest of it), so the
    sum of the values times ``step_s`` is the cycle's energy.
    """
    profile = np.asarray(profile_w, dtype=float)
    if period_s <= 0 or step_s <= 0:
        raise ValueError(f"need period_s > 0 and step_s > 0 (got {period_s}, {step_s})")
    if profile.ndim != 1 or not np.isfinite(profile).all():
        raise ValueError("a profile must be a sequence of finite powers")
    steps = -(-profile.size * period_s // step_s)
    starts_s = period_s * np.arange(profile.size, dtype=float)
    energy_ws, _ = step_integrals(starts_s, profile, 0, steps, step_s, max_hold_s=period_s)
    step_w: list[float] = (energy_ws / step_s).tolist()  # typed: the stubs say Any
    return step_w
