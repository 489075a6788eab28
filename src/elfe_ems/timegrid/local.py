"""Local wall-clock time and Unix time, across daylight saving changes.

Users give hours of day (programmes, off-peak windows) in local time; everything stored is
Unix seconds UTC. Conversions go through :mod:`zoneinfo` on a local date, never "midnight +
n x 86400", so days of 23 h and 25 h are right. A wall time that does not exist (spring
forward, 02:30 on 2026-03-29 in Paris) is the instant the clocks jump (03:00 CEST); one that
exists twice (fall back, 02:30 on 2026-10-25) is its first occurrence (CEST). Both rules keep
the conversion non-decreasing, so an interval never ends before it starts.

Times given on the command line (:func:`parse_time`) are stricter: a local time that does not
exist or exists twice is refused with what to give instead, since it names no single instant.
Times shown to people are local, with the zone's abbreviation (:func:`local_text`); times in
machine-readable output are UTC, ISO 8601 (:func:`utc_iso`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
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


UNIX_TEXT = re.compile(r"[+-]?\d+(\.\d*)?")
ISO_TEXT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d(:?\d\d)?)?")
TIME_FORMS = (
    "a local time in ISO 8601, 2027-01-12T18:05 or 2027-01-12 18:05:30 (in {zone}; an offset "
    "such as +01:00 or Z is honoured), or Unix seconds, 1799773500"
)
"""The forms :func:`parse_time` accepts, for help texts and messages (``{zone}``: where the
local time is read)."""


class TimeTextError(ValueError):
    """A time given as text that names no single instant; the message says what to give."""


def parse_time(text: str, tz: ZoneInfo) -> float:
    """Unix time [s] of ``text``: Unix seconds (``1799773500``), or ISO 8601 with or without
    seconds (``2027-01-12T18:05``, ``2027-01-12 18:05:30``), a wall time of ``tz`` unless it
    has an offset (``+01:00``, ``Z``).

    Raises :class:`TimeTextError` for any other text, and for a wall time of ``tz`` that does
    not exist (spring forward) or exists twice (fall back).
    """
    given = text.strip()
    if UNIX_TEXT.fullmatch(given):
        return float(given)
    wall = None
    if ISO_TEXT.fullmatch(given):
        try:
            wall = datetime.fromisoformat(given)
        except ValueError:  # e.g. month 13, 25:00
            wall = None
    if wall is None:
        raise TimeTextError(f"{text!r} is not a time: give {TIME_FORMS.format(zone=tz.key)}")
    if wall.tzinfo is not None:
        return wall.timestamp()
    return _wall_instant(wall, tz)


def _wall_instant(wall: datetime, tz: ZoneInfo) -> float:
    """Unix time [s] of the naive wall time ``wall`` in ``tz``, when it names one instant."""
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if before == after or before is None or after is None:
        return first.timestamp()
    shown = _wall_text(wall)
    if datetime.fromtimestamp(first.timestamp(), tz).replace(tzinfo=None) == wall:
        raise TimeTextError(
            f"{shown} happens twice in {tz.key} (the clocks go back): add the offset, "
            f"{shown}{_offset_text(before)} ({first.tzname()}, the first) or "
            f"{shown}{_offset_text(after)} ({second.tzname()}, the second)"
        )
    change = _offset_change_after(int(second.timestamp()), int(first.timestamp()), tz)
    start = datetime.fromtimestamp(change - 1, tz) + timedelta(seconds=1)
    end = datetime.fromtimestamp(change, tz)
    raise TimeTextError(
        f"{shown} does not exist in {tz.key}: the clocks go from {start:%H:%M} {start:%Z} to "
        f"{end:%H:%M} {end:%Z}; give a time before {start:%H:%M} or from {end:%H:%M} "
        f"(e.g. {_wall_text(wall + (after - before))}), or add the offset meant"
    )


def _wall_text(wall: datetime) -> str:
    """``2027-03-28T02:30``, with the seconds when they are not zero."""
    return f"{wall:%Y-%m-%dT%H:%M:%S}" if wall.second else f"{wall:%Y-%m-%dT%H:%M}"


def _offset_text(offset: timedelta) -> str:
    """``+01:00``, ``-03:30``."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_text(time_s: float, tz: ZoneInfo) -> str:
    """A Unix time as people read it: the wall time of ``tz`` and the zone's abbreviation,
    ``2027-01-12 18:05 CET``, with the seconds when they are not zero."""
    moment = datetime.fromtimestamp(round(time_s), tz)
    if moment.second:
        return f"{moment:%Y-%m-%d %H:%M:%S %Z}"
    return f"{moment:%Y-%m-%d %H:%M %Z}"


def utc_iso(time_s: float) -> str:
    """A Unix time as ISO 8601 UTC, to the second, for machine-readable output:
    ``2027-01-12T17:05:00Z``."""
    return datetime.fromtimestamp(round(time_s), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
