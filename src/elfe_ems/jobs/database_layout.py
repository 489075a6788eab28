"""Where an installation's data live on its PostgreSQL server, and the names of its roles
(light: ``ems install --help`` shows these defaults)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A role, database or schema name that needs no quoting in a URL or a psql variable."""


@dataclass(frozen=True)
class DatabaseLayout:
    """Where the EMS's data live on one PostgreSQL server, and the three roles' names."""

    store_database: str = "ems"
    output_schema: str = "ems_output"
    coordination_database: str = "elfe"
    coordination_schema: str = "bdd_coordination_schema"
    owner_role: str = "ems"
    output_role: str = "ems_output"
    reader_role: str = "ems_reader"

    def __post_init__(self) -> None:
        for name in fields(self):
            value = getattr(self, name.name)
            if not NAME.fullmatch(value):
                raise ValueError(
                    f"{name.name.replace('_', '-')} {value!r}: lower-case letters, digits and "
                    "'_' only, not starting with a digit"
                )
