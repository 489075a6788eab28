"""Every job of the EMS, with its schedule: the one list that ``ems job``, ``ems serve`` and
``ems systemd`` read.

A job is a function ``job(settings, now_s) -> str`` that runs once and returns a one-line
summary of what it did. It raises :class:`JobError` when it could not do its work (a source
away, a database down): ``ems job`` then exits non-zero, ``ems serve`` logs it and runs the
job again at its next time. A job never takes another down: each runs in its own process.
"""

from __future__ import annotations

import functools
import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from elfe_ems.config import Settings
from elfe_ems.notices.collector import grouped
from elfe_ems.timegrid import DAY_S, HOUR_S, MINUTE_S

JobFunction = Callable[[Settings, float], str]


class JobError(RuntimeError):
    """A job could not do its work; the message says why (never a password)."""


@dataclass(frozen=True)
class Schedule:
    """When a job runs, in the configured time zone: cron-like hour and minute fields
    (``"*"``, a number or a comma-separated list) and a second (a number, or a field like
    the others: the tests of ``ems serve`` run jobs every second)."""

    minute: str
    second: int | str = 0
    hour: str = "*"

    def on_calendar(self, timezone: str) -> str:
        """The systemd ``OnCalendar=`` expression of this schedule."""
        second = f"{self.second:02d}" if isinstance(self.second, int) else self.second
        return f"*-*-* {self.hour}:{self.minute}:{second} {timezone}"

    def period_s(self) -> int:
        """The longest time between two runs [s], over a day of local time (a change of
        daylight saving time aside)."""
        times = sorted(
            h * HOUR_S + m * MINUTE_S + s
            for h in _values(self.hour, 24)
            for m in _values(self.minute, 60)
            for s in _values(self.second, 60)
        )
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return max([*gaps, times[0] + DAY_S - times[-1]])


def _values(field: str | int, count: int) -> list[int]:
    """The values a cron-like field of :class:`Schedule` takes among ``range(count)``."""
    text = str(field)
    return list(range(count)) if text == "*" else sorted(int(v) for v in text.split(","))


@dataclass(frozen=True)
class Job:
    """A job: its name (``ems job NAME``), what it does, when, and its function."""

    name: str
    summary: str
    schedule: Schedule
    target: str  # "module:function", imported only when the job runs
    timeout_s: int  # a run still going after this is stopped

    def load(self) -> JobFunction:
        """The job's function."""
        return load_target(self.target)


def load_target(target: str) -> JobFunction:
    """The job function named by ``target``, ``"module:function"``, its warnings about items
    and devices logged one line per kind when it returns."""
    module, function = target.split(":")
    loaded: JobFunction = getattr(importlib.import_module(module), function)

    @functools.wraps(loaded)
    def run(settings: Settings, now_s: float) -> str:
        with grouped():
            return loaded(settings, now_s)

    return run


QUARTER_MINUTES = "14,29,44,59"

JOBS: tuple[Job, ...] = (
    Job(
        "round",
        "plan the flexible devices for the next 24 h and publish the plan",
        Schedule(QUARTER_MINUTES, 30),
        "elfe_ems.round.job:job",
        timeout_s=240,
    ),
    Job(
        "power-prediction",
        "forecast the territory balance from Zabbix (persistence), 30 s before the round",
        Schedule(QUARTER_MINUTES, 0),
        "elfe_ems.jobs.power_prediction:job",
        timeout_s=120,
    ),
    Job(
        "weather",
        "fetch the weather forecast (Météo-Concept, else Open-Meteo)",
        Schedule("58"),
        "elfe_ems.jobs.weather:job",
        timeout_s=300,
    ),
    Job(
        "cycles",
        "learn each machine's cycle from its power over the last 3 days",
        Schedule("58"),
        "elfe_ems.jobs.cycles:job",
        timeout_s=600,
    ),
    Job(
        "water-heater-energy",
        "energy each hot-water tank used over the last 24 h",
        Schedule("00", 30, hour="16"),
        "elfe_ems.jobs.water_heater_energy:job",
        timeout_s=600,
    ),
    Job(
        "room-temperature",
        "last room temperature of every thermostatic heater",
        Schedule("*"),
        "elfe_ems.jobs.room_temperature:job",
        timeout_s=50,
    ),
    Job(
        "housekeeping",
        "delete what is older than the configured retention",
        Schedule("02"),
        "elfe_ems.jobs.housekeeping:job",
        timeout_s=600,
    ),
)
"""Every job; times from ``docs/spec/elfe.md`` and the issues (round at :14:30, prediction at
:14, …)."""


def job_named(name: str) -> Job:
    """The job called ``name``; :class:`KeyError` names the known jobs."""
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(f"unknown job {name!r}; the jobs are {', '.join(j.name for j in JOBS)}")
