"""How fresh each input of a round is, so that old data is never shown as new.

For every input the round reads: the age of its newest good data at the round start, the
share of the horizon it covers with real data (for the inputs over the horizon), and a state:

- ``fresh``: at most its limit old (the ``stale_*_s`` settings) and covering the horizon;
- ``stale``: older than its limit, or covering less than :data:`MIN_COVERAGE` of the horizon
  (the rest extended: a forecast by 24 h persistence, a temperature held flat);
- ``missing``: no data at all.

The round still plans with what it has (each input's fallback is in docs/operator-guide.md),
logs one ``[WARN_DATABASE]`` line per input that is not fresh (or was completed: a forecast
extended), naming it, its age and what to do, and keeps
the states in the run log (``run_log.input_freshness``) for the dashboard's banner and
``ems doctor``.

The balance measurements are the data behind the forecast: a forecast issued a minute ago from
a balance item that stopped updating hours ago is as old as its data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from elfe_ems.config import Settings
from elfe_ems.notices.catalogue import Notice
from elfe_ems.timegrid import HOUR_S, MINUTE_S

SHOWN_ITEMS = 5  # stale items named in a line
MIN_COVERAGE = 0.95
"""Share of the horizon an input over the horizon must cover with real data to be fresh."""


class State(StrEnum):
    """How usable an input is."""

    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


def limits_s(settings: Settings) -> dict[str, int]:
    """Each input's age limit [s], from the configuration."""
    return {
        "balance measurements": settings.stale_balance_s,
        "forecast": settings.stale_forecast_s,
        "weather": settings.stale_weather_s,
        "room temperatures": settings.stale_room_temperature_s,
        "water-heater energies": settings.stale_water_heater_energy_s,
    }


def age_text(age_s: float) -> str:
    """An age for people: seconds, minutes or hours."""
    if age_s < 2 * MINUTE_S:
        return f"{age_s:.0f} s"
    if age_s < 2 * HOUR_S:
        return f"{age_s / MINUTE_S:.0f} min"
    return f"{age_s / HOUR_S:.1f} h"


@dataclass(frozen=True)
class Freshness:
    """One input at the round start. ``age_s``: of its newest good data (None: none);
    ``coverage``: the share of the horizon covered by real data (None: not over the horizon)."""

    name: str
    age_s: int | None
    limit_s: int
    coverage: float | None = None
    completion: str | None = None  # how the round filled what it lacks, said with its state
    # an input measured per Zabbix item (a room, a tank): each item's age [s]; None: not one
    item_ages_s: Mapping[int, int] | None = None

    @property
    def stale_items(self) -> tuple[int, ...]:
        """The items older than the limit, in order (none for an input not measured per item)."""
        ages = self.item_ages_s or {}
        return tuple(sorted(item for item, age in ages.items() if age > self.limit_s))

    @property
    def state(self) -> State:
        if self.age_s is None:
            return State.MISSING
        if self.age_s > self.limit_s or (
            self.coverage is not None and self.coverage < MIN_COVERAGE
        ):
            return State.STALE
        return State.FRESH

    def describe(self) -> str:
        """E.g. ``"forecast: stale, 6.2 h old (limit 30 min), covers 50% of the horizon"``;
        its completion, when it has one, instead of the share covered."""
        if self.age_s is None:
            text = f"{self.name}: missing"
        else:
            text = f"{self.name}: {self.state}, {age_text(max(self.age_s, 0))} old"
            text += f" (limit {age_text(self.limit_s)})"
            if self.completion is None and self.coverage is not None and self.coverage < 1:
                text += f", covers {self.coverage:.0%} of the horizon"
            if self.stale_items:
                shown = ", ".join(map(str, self.stale_items[:SHOWN_ITEMS]))
                more = ", …" if len(self.stale_items) > SHOWN_ITEMS else ""
                text += (
                    f"; {len(self.stale_items)} of {len(self.item_ages_s or {})} items older "
                    f"than that (items {shown}{more})"
                )
        return text if self.completion is None else f"{text}; {self.completion}"

    def warning(self) -> str | None:
        """The round's WARNING line about this input: when it is not fresh, or was completed
        all the same; None otherwise."""
        if self.state == State.FRESH and self.completion is None:
            return None
        notice = Notice.INPUT_MISSING if self.state == State.MISSING else Notice.INPUT_STALE
        return f"{notice.tag} input {self.describe()}; {notice.advice}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": str(self.state),
            "age_s": self.age_s,
            "limit_s": self.limit_s,
            "coverage": self.coverage,
            "stale_items": None if self.item_ages_s is None else list(self.stale_items),
        }


def assess(
    settings: Settings,
    ages_s: dict[str, int | None],
    coverage: dict[str, float],
    completions: dict[str, str | None] | None = None,
    item_ages_s: dict[str, dict[int, int]] | None = None,
) -> list[Freshness]:
    """The freshness of each input of :func:`limits_s` from its age, its coverage, how the
    round completed it and, for an input measured per item, each item's age [s] (its age is
    then the oldest item's)."""
    completions = completions or {}
    item_ages_s = item_ages_s or {}
    found = []
    for name, limit in limits_s(settings).items():
        per_item = item_ages_s.get(name)
        age_s = ages_s.get(name) if per_item is None else max(per_item.values(), default=None)
        found.append(
            Freshness(name, age_s, limit, coverage.get(name), completions.get(name), per_item)
        )
    return found
