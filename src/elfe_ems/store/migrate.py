"""Schema migrations of the two databases the EMS writes: the internal store and the output.

Each database has its own Alembic environment (``migrations/store``, ``migrations/output``)
and its own version table (``alembic_version_store``, ``alembic_version_output``), so the two
can share one database (the embedded SQLite default) or live on different servers, and each
is upgraded on its own. Alembic is configured here, in code: there is no ``alembic.ini``, and
the migrations run from an installed package.

A new revision is written from a database at head, e.g.::

    with engine.begin() as connection:
        alembic.command.revision(
            alembic_config("store", connection), "what changes", autogenerate=True
        )

then checked by hand (autogenerate misses renames and data changes).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from alembic import context
from alembic.command import upgrade as alembic_upgrade
from alembic.config import Config
from alembic.runtime.environment import IncludeNameFn, NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData

from elfe_ems.store.tables import OUTPUT, STORE

Database = Literal["store", "output"]
DATABASES: tuple[Database, ...] = ("store", "output")
METADATA: dict[Database, MetaData] = {"store": STORE, "output": OUTPUT}

_MIGRATIONS = Path(__file__).with_name("migrations")
logger = logging.getLogger(__name__)


def version_table(database: Database) -> str:
    """Name of the table where Alembic records ``database``'s revision."""
    return f"alembic_version_{database}"


def alembic_config(database: Database, connection: Connection | None = None) -> Config:
    """The Alembic configuration of ``database``, migrating through ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS / database))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


def head_revision(database: Database) -> str | None:
    """The latest revision of ``database``'s migrations."""
    return ScriptDirectory.from_config(alembic_config(database)).get_current_head()


def current_revision(connection: Connection, database: Database) -> str | None:
    """The revision ``database`` is at, or None before its first migration."""
    opts = {"version_table": version_table(database)}
    return MigrationContext.configure(connection, opts=opts).get_current_revision()


def upgrade(engine: Engine, database: Database) -> tuple[str | None, str | None]:
    """Migrate ``database`` to the latest revision in one transaction (a no-op at head).

    Returns the revisions before and after.
    """
    with engine.begin() as connection:
        before = current_revision(connection, database)
        alembic_upgrade(alembic_config(database, connection), "head")
        after = current_revision(connection, database)
    if before != after:
        logger.info("%s database upgraded from %s to %s", database, before, after)
    return before, after


def own_tables(metadata: MetaData) -> IncludeNameFn:
    """An autogenerate ``include_name`` hook that ignores tables not in ``metadata`` (the
    other database's tables and version table, when both share one database)."""

    def include(name: str | None, type_: NameFilterType, _parents: NameFilterParentNames) -> bool:
        return type_ != "table" or name in metadata.tables

    return include


def run_migrations(database: Database) -> None:
    """Body of the ``env.py`` of ``database``: run the migrations on the given connection."""
    connection: Connection = context.config.attributes["connection"]
    metadata = METADATA[database]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table(database),
        include_name=own_tables(metadata),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
