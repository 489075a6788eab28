"""The devices (or items) that meet one kind of warning in one run, in one WARNING line.

Code that warns about a device calls :func:`note`: the device's own line goes out at INFO, with
its tag (a grep on the tag finds it at ``--verbose``), and the device joins its kind's group in
the active :func:`grouped` block, which logs one WARNING line per group (kind, device type and
what) when it ends. Outside a block a warning is a group of one, logged at once. Blocks nest:
an inner block joins the outermost one, which logs them all; a thread starts outside any.

A group of one is the device's own line with what to do; a larger group counts its devices,
gives the range of their detail values and the first few ids::

    [WARN_CONSTRAINT] 12 thermostatic heaters: comfort band out of reach, missed by 0.4 to 9.8
    K·h each (devices 201, 202, 203, … 12 in all); the plan keeps … — see docs/operator-guide.md#…
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType

from elfe_ems.notices.catalogue import Notice

FIRST_IDS = 3  # ids named in a group's line
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?Z?")
NUMBER = re.compile(r"[-+]?\d[\d,]*(\.\d+)?(e[-+]?\d+)?")

DEVICE_NOUNS = {
    "device": ("device", "devices"),
    "machine": ("machine", "machines"),
    "water_heater": ("water heater", "water heaters"),
    "ev": ("EV", "EVs"),
    "thermostatic_heater": ("thermostatic heater", "thermostatic heaters"),
    "pilot_wire_heater": ("pilot-wire heater", "pilot-wire heaters"),
}
"""How people call each device type (the scenario's); another kind is an item's noun."""


def noun(kind: str, count: int = 2) -> str:
    """What people call ``count`` devices of a type (or items of a kind): "3 EVs"."""
    singular, plural = DEVICE_NOUNS.get(kind, (kind, f"{kind}s"))
    return singular if count == 1 else plural


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


@dataclass
class _Group:
    logger: logging.Logger
    ids: list[int | str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    first_line: str = ""  # the first member's own line
    exc_info: ExcInfo | None = None  # the first exception logged with a member


class Collector:
    """The groups of one :func:`grouped` block."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Notice, str, str], _Group] = {}

    def add(
        self,
        logger: logging.Logger,
        key: tuple[Notice, str, str],
        ident: int | str,
        line: str,
        value: float | None,
        exc_info: ExcInfo | None,
    ) -> None:
        group = self._groups.setdefault(key, _Group(logger, first_line=line))
        group.ids.append(ident)
        if value is not None:
            group.values.append(value)
        group.exc_info = group.exc_info or exc_info

    def emit(self) -> None:
        """One WARNING line per group, in the order the groups began."""
        for (notice, kind, what), group in self._groups.items():
            if len(group.ids) == 1:
                text = f"{group.first_line}; {notice.advice}"
            else:
                text = group_line(notice, kind, what, group.ids, group.values)
            group.logger.warning("%s", text, exc_info=group.exc_info)
        self._groups.clear()


_ACTIVE: ContextVar[Collector | None] = ContextVar("elfe_ems_notices", default=None)


@contextmanager
def grouped() -> Iterator[None]:
    """Group the warnings noted inside the block (see the module docstring)."""
    if _ACTIVE.get() is not None:
        yield
        return
    collector = Collector()
    token = _ACTIVE.set(collector)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        collector.emit()


def own_line(notice: Notice, kind: str, ident: int | str, text: str) -> str:
    """A device's (or an item's) own line: ``TAG device ID (TYPE): TEXT`` for a device."""
    who = f"device {ident} ({kind})" if kind in DEVICE_NOUNS else f"{kind} {ident}"
    return f"{notice.tag} {who}: {text}"


def note(
    logger: logging.Logger,
    notice: Notice,
    kind: str,
    ident: int | str,
    text: str,
    *,
    value: float | None = None,
    what: str = "",
    exc_info: bool = False,
) -> None:
    """A warning of ``notice`` about device (or ``kind`` item) ``ident``: ``text`` says it with
    the device's values, ``value`` is its detail value (see the catalogue's ``detail``),
    ``what`` tells groups of a generic kind apart (e.g. which value is missing); with
    ``exc_info``, the exception being handled goes with the group's line."""
    line = own_line(notice, kind, ident, text)
    logger.info("%s", line)
    error = _caught() if exc_info else None
    collector = _ACTIVE.get()
    if collector is None:
        logger.warning("%s; %s", line, notice.advice, exc_info=error)
        return
    collector.add(logger, (notice, kind, what), ident, line, value, error)


def _caught() -> ExcInfo | None:
    """The exception being handled, if any."""
    error_type, error, trace = sys.exc_info()
    if error_type is None or error is None:
        return None
    return error_type, error, trace


def group_line(
    notice: Notice,
    kind: str,
    what: str,
    ids: Sequence[int | str],
    values: Sequence[float] = (),
) -> str:
    """The line of a group: ``TAG N NOUNS: TEXT[: WHAT][, DETAIL] (IDS); TODO — see …``."""
    entry = notice.value
    text = f"{notice.tag} {len(ids)} {noun(kind, len(ids))}: {entry.text}"
    if what:
        text += f": {what}"
    if values and entry.detail:
        each = " each" if len(ids) > 1 else ""
        text += f", {entry.detail.format(_span(values))}{each}"
    return f"{text} ({_ids(kind, ids)}); {notice.advice}"


def without_values(text: str) -> str:
    """What a warning's text is about, the same for every device: its values (numbers,
    instants) as ``…`` and without what was done about it (the part after the first
    ``": "``)."""
    head = text.split(": ", 1)[0]
    return NUMBER.sub("…", INSTANT.sub("…", head)).strip()


def _number(value: float) -> str:
    return f"{float(f'{value:.3g}'):g}"


def _span(values: Sequence[float]) -> str:
    low, high = _number(min(values)), _number(max(values))
    return low if low == high else f"{low} to {high}"


def _ids(kind: str, ids: Sequence[int | str]) -> str:
    shown = ", ".join(str(i) for i in ids[:FIRST_IDS])
    if len(ids) > FIRST_IDS:
        shown += f", … {len(ids)} in all"
    if kind not in DEVICE_NOUNS:
        return shown
    return f"{'device' if len(ids) == 1 else 'devices'} {shown}"
