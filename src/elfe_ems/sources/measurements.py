"""What the acquisition jobs read measurements from: Zabbix in production, or recorded
measurements (the demo, simulations) that answer the same questions.

A source gives items (a measured quantity of a device, with its unit and last value) and the
numeric history of an item over a time range. :class:`MeasurementError` is any failure of a
source; its message never holds a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

import numpy as np

FLOAT = 0
"""``value_type`` of a numeric float item (Zabbix's numbering)."""
UNSIGNED = 3
"""``value_type`` of a numeric unsigned item."""
NUMERIC_TYPES = (FLOAT, UNSIGNED)


class MeasurementError(RuntimeError):
    """A measurement source could not be used; the message says what and why, no secret."""


@dataclass(frozen=True)
class Item:
    """A measured item, with its last value (``None`` when it has none or it is not a number)."""

    item_id: int
    host_id: int  # the item's device or home: items of one host measure the same thing
    name: str
    key: str
    units: str
    value_type: int
    last_clock: int | None
    last_value: float | None


class MeasurementSource(Protocol):
    """Items and histories, as the jobs read them; a context manager that closes the source."""

    def items(self, item_ids: Iterable[int]) -> dict[int, Item]:
        """The items with these ids, by id; unknown ids are absent."""
        ...

    def item_named(self, name: str) -> Item:
        """The one item named exactly ``name``; :class:`MeasurementError` if none or several."""
        ...

    def host_items(self, host_id: int) -> list[Item]:
        """The items of a host, by id."""
        ...

    def history(
        self, item: Item, time_from_s: int, time_till_s: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The item's values with ``time_from_s <= clock <= time_till_s``: clocks (int64 Unix
        seconds, ascending) and values (float64)."""
        ...

    def close(self) -> None:
        """Release the source."""
        ...

    def __enter__(self) -> Self: ...

    # the three arguments ``with`` passes (positional): *exc would refuse ZabbixClient's
    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
        /,
    ) -> None: ...
