"""The ``ems db`` and ``ems thermal`` commands: the EMS's databases and its thermal models.

Database errors end the command with a one-line message and exit code 1 (no traceback);
configuration errors with exit code 2. URLs are always shown with their password masked.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from elfe_ems.cli.common import ConfigOption, console, fail, settings_from
from elfe_ems.config import Settings, mask_url, redact
from elfe_ems.notices.hints import ems_command

# SQLAlchemy, Alembic and the store are imported by the commands, not here: they would slow
# down the start of every command
if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from elfe_ems.store.migrate import Database

db_app = typer.Typer(
    no_args_is_help=True,
    help="Create and upgrade the EMS's databases: the internal store and the output tables.",
)
thermal_app = typer.Typer(
    no_args_is_help=True,
    help="Thermal models of the rooms of thermostatic heaters (R [K/W], C [J/K]).",
)


def _url(settings: Settings, database: Database) -> str:
    return settings.store_url if database == "store" else settings.output_url


@contextmanager
def _connected(database: Database, url: str) -> Iterator[Engine]:
    """An engine on ``url``; a bad URL exits with code 2, a database error with code 1."""
    from alembic.util import CommandError  # noqa: PLC0415
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    from elfe_ems.db.engine import DatabaseUrlError, engine_for, error_reason  # noqa: PLC0415

    try:
        with engine_for(url) as engine:
            yield engine
    except DatabaseUrlError as error:
        raise fail(f"{database} database: {error}", 2) from None
    except (SQLAlchemyError, CommandError) as error:  # CommandError: e.g. an unknown revision
        reason = redact(error_reason(error), url)
        raise fail(f"{database} database {mask_url(url)}: {reason}", 1) from None


def _where(connection: Connection, url: str) -> str:
    """The masked URL, and the schema for PostgreSQL."""
    from elfe_ems.db.engine import schema_of  # noqa: PLC0415

    schema = schema_of(connection)
    return mask_url(url) + (f" (schema {schema})" if schema else "")


@contextmanager
def _store(settings: Settings) -> Iterator[Connection]:
    """A transaction on the store, which must be at the latest revision."""
    from elfe_ems.store import migrate  # noqa: PLC0415

    url = settings.store_url
    with _connected("store", url) as engine, engine.begin() as connection:
        current, head = (
            migrate.current_revision(connection, "store"),
            migrate.head_revision("store"),
        )
        if current != head:
            raise fail(
                f"store database {_where(connection, url)} is at revision {current or 'none'}, not "
                f"{head}: run `{ems_command('db upgrade')}` first",
                1,
            )
        yield connection


@db_app.command("upgrade")
def upgrade_command(config: ConfigOption = None) -> None:
    """Create or migrate the store and output databases to the latest revision (idempotent)."""
    from elfe_ems.store import migrate  # noqa: PLC0415
    from elfe_ems.store.migrate import DATABASES  # noqa: PLC0415

    settings = settings_from(config)
    for database in DATABASES:
        url = _url(settings, database)
        with _connected(database, url) as engine:
            before, after = migrate.upgrade(engine, database)
            with engine.connect() as connection:
                where = _where(connection, url)
        change = "already up to date" if before == after else f"upgraded from {before or 'empty'}"
        console.print(f"{database}: {where}: at {after}, {change}", markup=False, highlight=False)


@db_app.command("status")
def status_command(config: ConfigOption = None) -> None:
    """Show the revision of each database and the latest revision."""
    from elfe_ems.store import migrate  # noqa: PLC0415
    from elfe_ems.store.migrate import DATABASES  # noqa: PLC0415

    settings = settings_from(config)
    for database in DATABASES:
        url = _url(settings, database)
        with _connected(database, url) as engine, engine.connect() as connection:
            current, where = migrate.current_revision(connection, database), _where(connection, url)
        head = migrate.head_revision(database)
        state = "up to date" if current == head else f"behind: run `{ems_command('db upgrade')}`"
        console.print(
            f"{database}: {where}: at {current or 'none (empty)'}, latest {head}: {state}",
            markup=False,
            highlight=False,
        )


@thermal_app.command("list")
def list_command(config: ConfigOption = None) -> None:
    """List the thermal models: R [K/W], C [J/K] and time constant R C [h]."""
    from elfe_ems.store import thermal  # noqa: PLC0415

    with _store(settings_from(config)) as connection:
        models = thermal.list_models(connection)
    table = Table(title="Thermal models")
    for column in ("id", "name", "R [K/W]", "C [J/K]", "R C [h]"):
        table.add_column(escape(column), justify="left" if column == "name" else "right")
    for model in models:
        table.add_row(
            str(model.id),
            model.name or "",
            f"{model.r_k_per_w:g}",
            f"{model.c_j_per_k:,.0f}",
            f"{model.time_constant_s / 3600:.2f}",
        )
    console.print(table)


@thermal_app.command("set")
def set_command(
    model_id: Annotated[
        int, typer.Argument(metavar="ID", min=0, help="Model id (modele_thermique_id).")
    ],
    r: Annotated[float, typer.Option("--r", help="Thermal resistance room - outside [K/W].")],
    c: Annotated[float, typer.Option("--c", help="Heat capacity of the room [J/K].")],
    name: Annotated[
        str | None, typer.Option("--name", help="Label [default: keep the current one].")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create or replace a thermal model."""
    from elfe_ems.store import thermal  # noqa: PLC0415

    try:
        model = thermal.ThermalModel(model_id, r, c, name)
    except ValueError as error:
        raise fail(str(error), 2) from None
    with _store(settings_from(config)) as connection:
        created = thermal.set_model(connection, model)
    console.print(
        f"Thermal model {model_id} {'created' if created else 'updated'}: R = {r:g} K/W, "
        f"C = {c:,.0f} J/K, R C = {model.time_constant_s / 3600:.2f} h",
        markup=False,
        highlight=False,
    )
