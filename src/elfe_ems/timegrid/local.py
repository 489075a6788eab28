"""Local wall-clock time and Unix time, across daylight saving changes.

Users give hours of day (programmes, off-peak windows) in local time; everything stored is
Unix seconds UTC. Conversions go through :mod:`zoneinfo` on a local date, never "midnight +
n x 86400", so days of 23 h and 25 h are right. A wall time that does not exist (spring
forward, 02:30 on 2026-03-29 in Paris) is the instant the clocks jump (03:00 CEST); one that
exists twice (fall back, 02:30 on 2026-10-25) is its first occurrence (CEST). Both rules keep
the conversion non-decreasing, so an interval never ends before it starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from elfe_ems.timegrid import Grid

Interval = tuple[int, int]  # [start, end) in Unix s


def local_instant(day: date, seconds: int, tz: ZoneInfo) -> int:
    """Unix time [s] of the wall-clock time ``seconds`` after local midnight of ``day``.

    ``seconds`` may reach 86400 (the next midnight). A wall time skipped by a spring-forward
    change is the instant of the change; a repeated one is its first occurrence.
    """
    wall = datetime.combine(day, time()) + timedelta(seconds=seconds)
    instant = int(wall.replace(tzinfo=tz).timestamp())  # fold 0: the earlier offset
    if datetime.fromtimestamp(instant, tz).replace(tzinfo=None) == wall:
        return instant
    return _offset_change_after(int(wall.replace(tzinfo=tz, fold=1).timestamp()), instant, tz)


def _offset_change_after(before: int, after: int, tz: ZoneInfo) -> int:
    """The first instant in ``(before, after]`` whose UTC offset differs from ``before``'s."""
    offset = datetime.fromtimestamp(before, tz).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            before = middle
        else:
            after = middle
    return after


def local_interval(day: date, start_s: int, end_s: int, tz: ZoneInfo) -> Interval:
    """``[start, end)`` [Unix s] of a daily interval beginning on ``day``; ``end_s < start_s``
    crosses midnight."""
    end_day = day + timedelta(days=1) if end_s < start_s else day
    return local_instant(day, start_s, tz), local_instant(end_day, end_s, tz)


def local_days(grid: Grid, tz: ZoneInfo) -> list[date]:
    """The local dates from the day before the round start's to that of the horizon's last
    second."""
    first = datetime.fromtimestamp(grid.round_start, tz).date() - timedelta(days=1)
    last = datetime.fromtimestamp(grid.end - 1, tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals merged, in start order."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
