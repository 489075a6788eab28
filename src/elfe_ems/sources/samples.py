"""Time-weighted means of sampled signals over fixed steps.

Sources (Zabbix items, smart plugs, meters) deliver samples at irregular times, with gaps,
sometimes out of order or twice at the same clock. The planner and the forecasts want one
value per step. Here a sample holds its value until the next sample, but at most
``max_hold_s``: a longer silence is missing data, not a flat line. A step's mean is taken over
the part of it that is covered; a step with no covered time is NaN, so that the caller sees
the gap and decides (fill it, refuse, or skip the step).
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from elfe_ems.logtags import Tag

log = logging.getLogger(__name__)


def clean_samples(times_s: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples as float arrays sorted by time, with at most one sample per time.

    A sample whose time or value is NaN or infinite is left out (one ``[WARN_IGNORED]`` line
    per call). Samples sharing a time (duplicate clocks) become one sample, their mean: the
    order in which a source lists them says nothing about which one is newer.
    """
    t = np.asarray(times_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.ndim != 1 or t.shape != v.shape:
        raise ValueError(f"times {t.shape} and values {v.shape} must be 1-D of the same length")
    finite = np.isfinite(t) & np.isfinite(v)
    if not finite.all():
        log.warning(
            "%s %d of %d samples are not finite: left out", Tag.IGNORED, (~finite).sum(), t.size
        )
        t, v = t[finite], v[finite]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if t.size > 1 and (t[1:] == t[:-1]).any():
        t, first, counts = np.unique(t, return_index=True, return_counts=True)
        v = np.add.reduceat(v, first) / counts
    return t, v


def step_integrals(
    times_s: np.ndarray,
    values: np.ndarray,
    start_s: float,
    steps: int,
    step_s: float,
    max_hold_s: float = 900.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Per step ``[start_s + k step_s, start_s + (k+1) step_s)``: the integral of the held
    signal [value·s] and the covered time [s].

    Each sample (see :func:`clean_samples`) holds from its time until the next sample's, but
    at most ``max_hold_s``, the last one too. Samples before ``start_s`` count through their
    hold. The time line is cut at every hold start, hold end and step bound; each piece lies
    in one step and has one value or none, so the sums need no cancelling differences.
    """
    if steps < 0 or not step_s > 0 or not max_hold_s > 0:
        raise ValueError(
            f"need steps >= 0, step_s > 0 and max_hold_s > 0 (got {steps}, {step_s}, {max_hold_s})"
        )
    t, v = clean_samples(times_s, values)
    if steps == 0 or t.size == 0:
        return np.zeros(steps), np.zeros(steps)
    bounds = start_s + step_s * np.arange(steps + 1, dtype=float)
    hold_end = np.minimum(np.append(t[1:], np.inf), t + max_hold_s)
    cuts = np.unique(np.clip(np.concatenate((t, hold_end, bounds)), bounds[0], bounds[-1]))
    left, length = cuts[:-1], np.diff(cuts)
    sample = np.searchsorted(t, left, side="right") - 1
    held = sample >= 0
    held[held] = left[held] < hold_end[sample[held]]
    step = np.searchsorted(bounds, left[held], side="right") - 1
    length = length[held]
    integral = np.bincount(step, weights=v[sample[held]] * length, minlength=steps)
    covered = np.bincount(step, weights=length, minlength=steps)
    return integral, covered


def step_means(
    times_s: np.ndarray,
    values: np.ndarray,
    start_s: float,  # as step_integrals: a cycle's run starts at a sample's (float) time
    steps: int,
    step_s: int = 900,
    max_hold_s: float = 900.0,
) -> np.ndarray:
    """The time-weighted mean of a sampled signal over each of ``steps`` steps from ``start_s``.

    Rules (see :func:`step_integrals` and :func:`clean_samples`): a sample holds its value
    until the next sample, at most ``max_hold_s``; after a longer gap the time past the hold
    is not covered. A step's mean is over its covered time; a step with none is NaN. Input may
    be unsorted; duplicate clocks are averaged; NaN and infinite samples are left out.
    """
    integral, covered = step_integrals(times_s, values, start_s, steps, step_s, max_hold_s)
    means = np.full(steps, np.nan)
    np.divide(integral, covered, out=means, where=covered > 0)
    return means


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """``values`` with every non-finite entry replaced by linear interpolation between its
    finite neighbours, held flat before the first and after the last finite entry.

    Raises ValueError when no entry is finite (there is nothing to fill from).
    """
    # a float64 dtype lets the stubs pick np.interp's float overload (else it returns Any)
    v: npt.NDArray[np.float64] = np.asarray(values, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"values must be 1-D (got shape {v.shape})")
    known = np.flatnonzero(np.isfinite(v))
    if known.size == 0:
        raise ValueError(f"no finite value among {v.size} to fill the gaps from")
    return np.interp(np.arange(v.size), known, v[known])


def long_gaps(values: np.ndarray, max_gap: int) -> npt.NDArray[np.bool_]:
    """Whether each entry is in a run of more than ``max_gap`` non-finite entries: the gaps
    that :func:`fill_gaps` would fill by inventing the data of a long silence."""
    missing = ~np.isfinite(np.asarray(values, dtype=float))
    # runs of missing entries: their starts and ends (exclusive) from the edges of the mask
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = np.zeros(missing.size, dtype=bool)
    for start, end in zip(starts, ends, strict=True):
        if end - start > max_gap:
            long[start:end] = True
    return long
