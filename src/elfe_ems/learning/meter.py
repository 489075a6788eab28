"""Energy [Wh] over a time window, from a cumulative meter or from sampled power.

A water heater's energy of the last hours tells the planner how full its tank is. A meter
gives it directly (a reset or rollover must not count as negative energy); without one the
power samples are integrated with the same holding rule as every other signal
(:func:`elfe_ems.sources.samples.step_integrals`), and the covered share of the window is returned
so the caller can judge a gap.
"""

from __future__ import annotations

import logging

import numpy as np

from elfe_ems.logtags import Tag
from elfe_ems.sources.samples import clean_samples, step_integrals

log = logging.getLogger(__name__)

WS_PER_WH = 3600
MAX_METER_RATE_W = 36_000.0
"""A tank's meter never counts faster than this [W]: the largest home connection (36 kVA)."""


def energy_from_meter_wh(
    times_s: np.ndarray, readings_wh: np.ndarray, max_rate_w: float = MAX_METER_RATE_W
) -> float:
    """The energy [Wh] counted by a cumulative meter between its first and last reading.

    Readings are put in time order (duplicate clocks averaged, NaN left out, see
    :func:`elfe_ems.sources.samples.clean_samples`); a negative reading is bad data and left out
    (``[WARN_IGNORED]``). A reading lower than the one before is a reset to 0 (or a rollover):
    the meter is taken to have counted from 0 since, so the new reading itself is the energy
    of that interval. An interval that would so count more than ``max_rate_w`` could in its
    time (a counter that went back a little, a glitch, a jump up) is no reset and no
    consumption: it counts 0 (one ``[WARN_IGNORED]`` line). Fewer than 2 readings give 0.0.
    """
    t, wh = clean_samples(times_s, readings_wh)
    negative = wh < 0
    if negative.any():
        log.warning("%s %d negative meter readings left out", Tag.IGNORED, negative.sum())
        t, wh = t[~negative], wh[~negative]
    if wh.size < 2:
        return 0.0
    rise = np.diff(wh)
    counted = np.where(rise >= 0, rise, wh[1:])
    impossible = counted > max_rate_w * np.diff(t) / WS_PER_WH
    if impossible.any():
        log.warning(
            "%s %d of %d meter intervals count more than %.0f W could (a fall that is no reset, "
            "or a jump): counted 0 Wh",
            Tag.IGNORED,
            impossible.sum(),
            impossible.size,
            max_rate_w,
        )
    return float(np.where(impossible, 0.0, counted).sum())


def energy_from_power_wh(
    times_s: np.ndarray,
    power_w: np.ndarray,
    start_s: float,
    end_s: float,
    max_hold_s: float = 900.0,
) -> tuple[float, float]:
    """The energy [Wh] of the sampled power over ``[start_s, end_s)`` and the covered share of
    that window (0..1).

    Each sample holds until the next one, at most ``max_hold_s``, as in
    :func:`elfe_ems.sources.samples.step_means`; the time not covered adds no energy.
    """
    if not end_s > start_s:
        raise ValueError(f"the window must end after it starts (got {start_s} to {end_s})")
    integral_ws, covered_s = step_integrals(
        times_s, power_w, start_s, 1, end_s - start_s, max_hold_s
    )
    return float(integral_ws[0]) / WS_PER_WH, float(covered_s[0]) / (end_s - start_s)
