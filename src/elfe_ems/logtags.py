"""The tags that start a log line about a device or a source, as in the operations manual.

In a module of its own, without dependencies, so that every part of the EMS (the light
acquisition jobs too) can tag its lines without importing the planner's.
"""

from __future__ import annotations

from enum import StrEnum


class Tag(StrEnum):
    """Log tags, as in the operations manual."""

    CONSTRAINT = "[WARN_CONSTRAINT]"  # a user constraint was relaxed to make a plan
    IGNORED = "[WARN_IGNORED]"  # a device or part of its data is left out of this round
    DATABASE = "[WARN_DATABASE]"  # a database or source could not be used as expected
    IMPOSSIBLE = "[WARN_IMPOSSIBLE]"  # data that make no sense: the device is skipped
