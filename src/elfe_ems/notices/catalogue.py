"""Every kind of warning the EMS gives about a device, an item or an input, worded once.

A kind's WARNING line reads ``TAG N NOUNS: TEXT[: WHAT], DETAIL (devices …); TODO — see
docs/operator-guide.md#ANCHOR``; the guide has a section per kind whose heading gives
``ANCHOR`` (``tests/test_docs.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, unique

from elfe_ems.logtags import Tag
from elfe_ems.notices.hints import ems_command

GUIDE = "docs/operator-guide.md"


@dataclass(frozen=True)
class Entry:
    """One kind of warning. ``text``: what happened, without values; ``todo``: what the EMS
    did and what to do; ``anchor``: its section of the operator guide; ``detail``: how the
    devices' detail values read, ``{}`` standing for one value or their range (empty: none)."""

    tag: Tag
    text: str
    todo: str
    anchor: str
    detail: str = ""
    command: str = ""
    """The ``ems`` command that fixes it, named in ``todo`` by ``{command}``."""


@unique
class Notice(Enum):
    """The catalogue: one member per kind of warning."""

    # thermostatic heaters
    COMFORT_BAND_OUT_OF_REACH = Entry(
        Tag.CONSTRAINT,
        "comfort band out of reach",
        "the plan keeps them as close to the band as possible; check the heater's power and "
        "band in the coordination database",
        "comfort-band-out-of-reach",
        "missed by {} K·h",
    )
    COMFORT_BAND_NOT_SETTLED = Entry(
        Tag.CONSTRAINT,
        "comfort band not settled in time",
        "the plan keeps the least heating found so far; if it repeats, raise time_limit_s",
        "comfort-band-not-settled-in-time",
        "missed by at most {} K·h",
    )
    COMFORT_BAND_SEARCH_FAILED = Entry(
        Tag.IMPOSSIBLE,
        "comfort band search failed",
        "the plan keeps the least heating found so far; report the traceback logged with it",
        "comfort-band-search-failed",
        "missed by at most {} K·h",
    )
    # pilot-wire heaters
    COMFORT_OWED_EXCEEDS_PERIOD = Entry(
        Tag.CONSTRAINT,
        "more comfort owed than the period holds",
        "comfort on every step of the period; check pourcentage_eco_force and the programme",
        "more-comfort-owed-than-the-period-holds",
    )
    WINDOW_RULE_CANNOT_HOLD = Entry(
        Tag.CONSTRAINT,
        "eco steps applied before the round break the window rule",
        "comfort on the first steps of the period until the rule holds again; nothing to do",
        "eco-steps-applied-before-the-round-break-the-window-rule",
    )
    APPLIED_BEFORE_IGNORED = Entry(
        Tag.IGNORED,
        "decisions applied before the round ignored",
        "no comfort period covers the round start; nothing to do",
        "decisions-applied-before-the-round-ignored",
    )
    # one-start devices: machines, water heaters, EVs
    START_IN_THE_PAST = Entry(
        Tag.CONSTRAINT,
        "earliest start in the past",
        "may start from the round start; nothing to do",
        "earliest-start-in-the-past",
    )
    DEADLINE_PASSED = Entry(
        Tag.CONSTRAINT,
        "deadline passed",
        "started as soon as possible; check the wanted end in the user screens",
        "deadline-passed",
    )
    WINDOW_TOO_SHORT = Entry(
        Tag.CONSTRAINT,
        "window too short for the cycle",
        "the end is pushed back to fit the cycle; check the wanted end and the maximum wait",
        "window-too-short-for-the-cycle",
    )
    CYCLE_LONGER_THAN_HORIZON = Entry(
        Tag.CONSTRAINT,
        "cycle longer than the horizon",
        "started now, its power cut at the horizon; check the machine's learned cycle",
        "cycle-longer-than-the-horizon",
    )
    ENERGY_DOES_NOT_FIT = Entry(
        Tag.CONSTRAINT,
        "energy does not fit in any off-peak window",
        "heats during the longest window; check the tank's power and its off-peak windows",
        "energy-does-not-fit-in-any-off-peak-window",
    )
    TARGET_OUT_OF_REACH = Entry(
        Tag.CONSTRAINT,
        "charge target out of reach by the deadline",
        "charges from the first allowed step; nothing to do",
        "charge-target-out-of-reach-by-the-deadline",
    )
    # devices not planned this round, by the kind of their reason
    PLANNED_LATER = Entry(
        Tag.IGNORED,
        "not planned this round",
        "nothing wrong: a later round plans them",
        "not-planned-this-round",
    )
    MISSING_DATA = Entry(
        Tag.DATABASE,
        "not planned, data missing",
        "fill in the value named in the coordination database or the store; the next round "
        "plans them",
        "not-planned-data-missing",
    )
    UNUSABLE_DATA = Entry(
        Tag.IMPOSSIBLE,
        "not planned, data that make no sense",
        "fix the value named in the coordination database or the store ({command}); "
        "the next round plans them",
        "not-planned-data-that-make-no-sense",
        command="thermal set",
    )
    ROW_REPAIRED = Entry(
        Tag.DATABASE,
        "row repaired",
        "fix the row in the user screens; the device is planned meanwhile",
        "row-repaired",
    )
    ROW_UNREADABLE = Entry(
        Tag.IGNORED,
        "row not readable",
        "write a value of the column's kind (a number, a boolean) in the coordination database; "
        "the next round plans the device",
        "row-not-readable",
    )
    TYPE_NOT_OF_TABLE = Entry(
        Tag.IGNORED,
        "type not of its table",
        "set the device's equipement_pilote_ou_mesure_type_id to a type of the table of its row; "
        "the next round plans it",
        "type-not-of-its-table",
    )
    LEFT_OUT = Entry(
        Tag.IGNORED,
        "left out of the round",
        "fix the input or the row named; the next round after the fix plans them",
        "left-out-of-the-round",
    )
    # the round's inputs
    INPUT_STALE = Entry(
        Tag.DATABASE,
        "input stale",
        "the round plans with what it has, completed; check the job that stores it",
        "input-stale",
    )
    INPUT_MISSING = Entry(
        Tag.DATABASE,
        "input missing",
        "the round plans with its fallback; check the job that stores it",
        "input-missing",
    )
    # the acquisition jobs' items
    ITEM_NOT_IN_ZABBIX = Entry(
        Tag.IGNORED,
        "not in Zabbix",
        "left out of this run; check the item id in the coordination database and in Zabbix",
        "item-not-in-zabbix",
    )
    NO_VALUE_IN_ZABBIX = Entry(
        Tag.IGNORED,
        "no value in Zabbix",
        "left out of this run; check that the sensor reports to Zabbix",
        "no-value-in-zabbix",
    )
    IMPLAUSIBLE_VALUE = Entry(
        Tag.IGNORED,
        "value not plausible",
        "left out of this run; check the sensor and the item's unit in Zabbix",
        "value-not-plausible",
        "{} °C",
    )
    SHORT_HISTORY = Entry(
        Tag.DATABASE,
        "history covers part of the last 24 h",
        "the energy is completed as said; check that the item reports to Zabbix",
        "history-covers-part-of-the-last-24-h",
        "covers {} % of it",
    )
    TOO_FEW_READINGS = Entry(
        Tag.IGNORED,
        "fewer than 2 readings in 24 h",
        "the tank's power item is integrated instead; check the energy meter in Zabbix",
        "fewer-than-2-readings-in-24-h",
    )
    SEVERAL_ENERGY_ITEMS = Entry(
        Tag.IGNORED,
        "several energy items on the host",
        "the first is used; keep one energy meter per tank's host in Zabbix",
        "several-energy-items-on-the-host",
    )
    SAMPLES_NOT_FINITE = Entry(
        Tag.IGNORED,
        "samples NaN or infinite",
        "left out, the item's other samples are used; check the item (its preprocessing or "
        "the formula of a calculated item) in Zabbix",
        "samples-nan-or-infinite",
        "{} samples",
    )
    VALUE_IN_THE_FUTURE = Entry(
        Tag.IGNORED,
        "value timestamped in the future",
        "left out of this run; check the clock of the Zabbix server, proxy or agent (NTP)",
        "value-timestamped-in-the-future",
        "{} s ahead",
    )
    LONG_GAP = Entry(
        Tag.DATABASE,
        "gap of more than 2 h in the last 24 h",
        "the round takes those steps from an earlier forecast or extends them; check that "
        "the item reports to Zabbix",
        "gap-of-more-than-2-h-in-the-last-24-h",
        "{} steps not forecast",
    )

    @property
    def tag(self) -> Tag:
        return self.value.tag

    @property
    def see(self) -> str:
        """Where the guide explains it."""
        return f"{GUIDE}#{self.value.anchor}"

    @property
    def advice(self) -> str:
        """What to do, with the guide's section: the end of the kind's WARNING line."""
        todo = self.value.todo.format(command=ems_command(self.value.command))
        return f"{todo} — see {self.see}"


SKIPPED: dict[Tag, Notice] = {
    Tag.IGNORED: Notice.PLANNED_LATER,
    Tag.DATABASE: Notice.MISSING_DATA,
    Tag.IMPOSSIBLE: Notice.UNUSABLE_DATA,
}
"""The kind of a device skipped with a tag (its reason says what)."""


def skipped(tag: Tag) -> Notice:
    """The kind of a device skipped with ``tag`` (a relaxed constraint is never skipped)."""
    return SKIPPED.get(tag, Notice.UNUSABLE_DATA)
