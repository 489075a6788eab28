"""Recorded measurements: items and samples in two SQL tables, read like Zabbix.

The demo and the simulations record the measurements of their simulated community here, and
the acquisition jobs read them through the same :class:`~elfe_ems.sources.measurements.
MeasurementSource` questions as Zabbix when ``measurements_url`` is set. The tables are
created by :func:`create_tables` in a database of their own (not the store: they are no part
of a production installation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Engine,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from elfe_ems.config import mask_url
from elfe_ems.db.engine import DatabaseUrlError, error_reason, make_engine
from elfe_ems.sources.measurements import Item, MeasurementError

RECORDED = MetaData()

recorded_item = Table(
    "recorded_item",
    RECORDED,
    Column("item_id", BigInteger, primary_key=True, autoincrement=False),
    Column("host_id", BigInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("units", Text, nullable=False),
    Column("value_type", Integer, nullable=False),  # Zabbix's: 0 float, 3 unsigned
)
"""A measured item, as Zabbix describes one."""

recorded_sample = Table(
    "recorded_sample",
    RECORDED,
    Column("item_id", BigInteger, primary_key=True, autoincrement=False),
    Column("clock", BigInteger, primary_key=True, autoincrement=False),  # Unix s
    Column("value", Double, nullable=False),
)
"""One value of an item at a time."""


def create_tables(engine: Engine) -> None:
    """Create the two tables (kept when they exist)."""
    RECORDED.create_all(engine)


def record_items(engine: Engine, items: Sequence[Mapping[str, Any]]) -> None:
    """Insert items (the columns of ``recorded_item``)."""
    with engine.begin() as connection:
        connection.execute(insert(recorded_item), list(items))


def record_samples(engine: Engine, item_id: int, clocks_s: np.ndarray, values: np.ndarray) -> None:
    """Insert the samples of one item."""
    rows = [
        {"item_id": item_id, "clock": int(t), "value": float(v)}
        for t, v in zip(clocks_s, values, strict=True)
    ]
    with engine.begin() as connection:
        connection.execute(insert(recorded_sample), rows)


class RecordedMeasurements:
    """The recorded measurements of a database; a context manager that closes it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> RecordedMeasurements:
        """The recordings at ``url``; :class:`MeasurementError` when it has none."""
        try:
            engine = make_engine(url)
            tables = set(inspect(engine).get_table_names())
        except (SQLAlchemyError, DatabaseUrlError) as error:
            raise MeasurementError(f"recorded measurements: {error_reason(error)}") from None
        missing = {recorded_item.name, recorded_sample.name} - tables
        if missing:
            engine.dispose()
            raise MeasurementError(
                f"recorded measurements {mask_url(url)}: no table {', '.join(sorted(missing))}"
            )
        return cls(engine)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database's connections."""
        self._engine.dispose()

    def _items(self, *where: Any) -> list[Item]:
        last = (
            select(recorded_sample.c.item_id, func.max(recorded_sample.c.clock).label("clock"))
            .group_by(recorded_sample.c.item_id)
            .subquery()
        )
        value = (
            select(recorded_sample.c.value)
            .where(
                recorded_sample.c.item_id == recorded_item.c.item_id,
                recorded_sample.c.clock == last.c.clock,
            )
            .scalar_subquery()
        )
        query = (
            select(recorded_item, last.c.clock.label("last_clock"), value.label("last_value"))
            .outerjoin(last, last.c.item_id == recorded_item.c.item_id)
            .where(*where)
            .order_by(recorded_item.c.item_id)
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise MeasurementError(f"recorded measurements: {error_reason(error)}") from None
        return [
            Item(
                item_id=int(r["item_id"]),
                host_id=int(r["host_id"]),
                name=r["name"],
                key=r["key"],
                units=r["units"],
                value_type=int(r["value_type"]),
                last_clock=None if r["last_clock"] is None else int(r["last_clock"]),
                last_value=None if r["last_value"] is None else float(r["last_value"]),
            )
            for r in rows
        ]

    def items(self, item_ids: Iterable[int]) -> dict[int, Item]:
        """The items with these ids, by id; unknown ids are absent."""
        ids = sorted({int(i) for i in item_ids})
        if not ids:
            return {}
        return {i.item_id: i for i in self._items(recorded_item.c.item_id.in_(ids))}

    def item_named(self, name: str) -> Item:
        """The one item named ``name``; :class:`MeasurementError` if none or several."""
        found = self._items(recorded_item.c.name == name)
        if len(found) != 1:
            raise MeasurementError(f"item {name!r}: {len(found)} recorded items with this name")
        return found[0]

    def host_items(self, host_id: int) -> list[Item]:
        """The items of a host, by id."""
        return self._items(recorded_item.c.host_id == host_id)

    def history(
        self, item: Item, time_from_s: int, time_till_s: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The item's samples with ``time_from_s <= clock <= time_till_s``, ascending."""
        query = (
            select(recorded_sample.c.clock, recorded_sample.c.value)
            .where(
                recorded_sample.c.item_id == item.item_id,
                recorded_sample.c.clock.between(time_from_s, time_till_s),
            )
            .order_by(recorded_sample.c.clock)
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError as error:
            raise MeasurementError(f"recorded measurements: {error_reason(error)}") from None
        clocks = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        values = np.fromiter((r[1] for r in rows), np.float64, len(rows))
        return clocks, values
