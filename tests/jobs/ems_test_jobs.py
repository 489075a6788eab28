"""Job functions for the tests of ``ems job`` and ``ems serve``, imported by the job processes
too (the tests put this folder on their ``PYTHONPATH``).

Each appends lines ``PID FUNCTION start|end UNIX_TIME`` to ``DATA_DIR/marks.log``: the tests
read from them when each run really began and ended (one short append is one write, so the
lines of runs in parallel do not mix).
"""

from __future__ import annotations

import os
import time

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JobError

MARKS = "marks.log"
RELEASE = "release"  # linger ends when this file exists in the data folder


def _mark(settings: Settings, function: str, event: str) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with (settings.data_dir / MARKS).open("a", encoding="utf-8") as file:
        file.write(f"{os.getpid()} {function} {event} {time.time():.3f}\n")


def _sleeping(settings: Settings, function: str, duration_s: float) -> str:
    _mark(settings, function, "start")
    time.sleep(duration_s)
    _mark(settings, function, "end")
    return f"{function} slept {duration_s} s"


def quick(settings: Settings, now_s: float) -> str:
    """Marks its start and end at once; its summary gives ``now_s``."""
    _mark(settings, "quick", "start")
    _mark(settings, "quick", "end")
    return f"quick [done] at {now_s:.0f}"


def slow(settings: Settings, now_s: float) -> str:  # noqa: ARG001 (job signature)
    """Runs 1.5 s."""
    return _sleeping(settings, "slow", 1.5)


def linger(settings: Settings, now_s: float) -> str:  # noqa: ARG001
    """Runs until the file ``DATA_DIR/release`` exists (at most a minute)."""
    _mark(settings, "linger", "start")
    release = settings.data_dir / RELEASE
    deadline_s = time.monotonic() + 60
    while not release.exists() and time.monotonic() < deadline_s:
        time.sleep(0.02)
    _mark(settings, "linger", "end")
    return "linger released"


def hang(settings: Settings, now_s: float) -> str:  # noqa: ARG001
    """Runs a minute: longer than any test waits for it."""
    return _sleeping(settings, "hang", 60.0)


def crash(settings: Settings, now_s: float) -> str:  # noqa: ARG001
    """A bug: raises an unexpected exception that quotes the store URL and the Zabbix token."""
    _mark(settings, "crash", "start")
    token = settings.zabbix_token.get_secret_value() if settings.zabbix_token else ""
    raise RuntimeError(f"boom: {settings.store_url} {token}")


def refuse(settings: Settings, now_s: float) -> str:  # noqa: ARG001
    """A job that cannot do its work."""
    raise JobError("the source is away")
