"""Insert-or-update on SQLite and PostgreSQL, the two databases the EMS runs on.

Both dialects have ``INSERT … ON CONFLICT (key) DO UPDATE``; SQLAlchemy Core spells it per
dialect, so this module picks the right one from the connection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str] | None = None,
) -> None:
    """Insert ``rows`` into ``table``; a row whose ``key`` columns (default: the primary key)
    match a stored row replaces that row's other columns. Nothing happens for no rows."""
    if not rows:
        return
    key_names = list(key) if key is not None else [c.name for c in table.primary_key.columns]
    dialect = connection.dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:
        raise NotImplementedError(f"upsert is not written for {dialect}")
    updated = {name: statement.excluded[name] for name in rows[0] if name not in set(key_names)}
    statement = (
        statement.on_conflict_do_update(index_elements=key_names, set_=updated)
        if updated
        else statement.on_conflict_do_nothing(index_elements=key_names)
    )
    connection.execute(statement, list(rows))
