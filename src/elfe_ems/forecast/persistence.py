"""Persistence forecast of the territory's power balance for the next 48 h.

The balance (consumption minus production) of a day looks much like the day before; the
recent past tells how today differs. The forecast starts at the last observed value and
drifts, step by step, toward what happened 24 h earlier, then repeats that day to cover 48 h.
"""

from __future__ import annotations

import numpy as np

from elfe_ems.sources.samples import fill_gaps, long_gaps, step_means
from elfe_ems.timegrid import DAY_S

MAX_FILL_STEPS = 8
"""The longest run of steps without data that is interpolated (2 h of 15-min steps); a longer
gap is not filled: the steps a day after it are not forecast."""


def persistence_forecast(last_day_w: np.ndarray) -> np.ndarray:
    """The 2·L step forecast from ``c = last_day_w``, the L step means of the last 24 h.

    ``c[L-1]`` is the latest complete step, ``c[0]`` the step 24 h before the first step to
    forecast; ``p[i]`` (i < L) forecasts the step 24 h after ``c[i]``::

        p[0] = c[L-1]
        p[i] = (p[i-1] + c[i] - c[i-1]) · (L-i)/L + c[i] · i/L      (1 <= i < L)
        p[L+i] = p[i]                                                 (the day repeated)

    That is: start at the last observed value, then follow the change seen 24 h earlier, with
    a weight that moves linearly from that path to the value of 24 h earlier as the horizon
    grows. Equivalently ``p[i] = c[i] + (c[L-1] - c[0]) · Π_{j=1..i} (1 - j/L)``: yesterday's
    value plus today's offset from it, which fades out within a few hours (the form computed).

    Raises ValueError on an empty, non 1-D or non-finite input (fill gaps first).
    """
    c = np.asarray(last_day_w, dtype=float)
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"need a non-empty 1-D array of step means (got shape {c.shape})")
    if not np.isfinite(c).all():
        raise ValueError(f"{(~np.isfinite(c)).sum()} of {c.size} step means are NaN or infinite")
    size = c.size
    fading = np.cumprod(np.concatenate(([1.0], 1 - np.arange(1, size) / size)))
    day = c + (c[-1] - c[0]) * fading
    day[0] = c[-1]  # exactly, whatever the rounding of c[0] + (c[-1] - c[0])
    return np.concatenate((day, day))


def last_day_means(
    times_s: np.ndarray,
    values: np.ndarray,
    now_s: int,
    step_s: int = 900,
    max_hold_s: float = 900.0,
) -> tuple[int, np.ndarray]:
    """The step means of the 24 h of complete steps before ``now_s``.

    The last complete step ends at the step bound (a multiple of ``step_s`` in Unix time, a
    quarter hour by default) at or before ``now_s``; the means are time-weighted
    (:func:`elfe_ems.sources.samples.step_means`, holding samples at most ``max_hold_s``), NaN for
    a step without data. Returns that bound (the start of the step in progress) and the means,
    oldest first.
    """
    if step_s <= 0 or DAY_S % step_s:
        raise ValueError(f"step_s must divide a day (got {step_s})")
    first_s = now_s - now_s % step_s
    means = step_means(times_s, values, first_s - DAY_S, DAY_S // step_s, step_s, max_hold_s)
    return int(first_s), means


def forecast_from_means(
    means: np.ndarray, min_coverage: float = 0.5, max_fill_steps: int = MAX_FILL_STEPS
) -> np.ndarray:
    """The persistence forecast (:func:`persistence_forecast`) of a day of step means, whose
    steps without data (NaN) are interpolated (:func:`elfe_ems.sources.samples.fill_gaps`) when at
    least ``min_coverage`` of the steps have data; otherwise ValueError.

    A gap of more than ``max_fill_steps`` steps is not interpolated across: the forecast steps
    a day (and two days) after it are NaN, not forecast. When the first or the last step is in
    such a gap, today's offset from yesterday is unknown: the forecast is the day of means as
    it was, repeated.
    """
    if not 0 <= min_coverage <= 1:
        raise ValueError(f"min_coverage must be within [0, 1] (got {min_coverage})")
    with_data = int(np.isfinite(means).sum())
    if with_data < min_coverage * means.size:
        raise ValueError(
            f"only {with_data} of the {means.size} steps of the last 24 h have data "
            f"(at least {min_coverage:.0%} needed)"
        )
    filled = fill_gaps(means)
    long = long_gaps(means, max_fill_steps)
    if not long.any():
        return persistence_forecast(filled)
    forecast = np.tile(filled, 2) if long[0] or long[-1] else persistence_forecast(filled)
    forecast[np.tile(long, 2)] = np.nan
    return forecast


def balance_forecast(
    times_s: np.ndarray,
    values: np.ndarray,
    now_s: int,
    step_s: int = 900,
    min_coverage: float = 0.5,
    max_hold_s: float = 900.0,
) -> tuple[int, np.ndarray]:
    """The persistence forecast from raw samples of the last 24 h: :func:`last_day_means`
    then :func:`forecast_from_means`. Returns the Unix time at which the first forecast step
    begins (the step in progress) and the 2·L forecast."""
    first_s, means = last_day_means(times_s, values, now_s, step_s, max_hold_s)
    return first_s, forecast_from_means(means, min_coverage)
