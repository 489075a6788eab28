"""``ems install``: install the EMS on a server with PostgreSQL, as root, step by step
(:mod:`elfe_ems.jobs.install`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from elfe_ems.cli.common import console, fail
from elfe_ems.jobs.database_layout import DatabaseLayout
from elfe_ems.jobs.systemd import DEFAULT_USER, SystemdError

DEFAULTS = DatabaseLayout()


def install_command(
    admin_url: Annotated[
        str | None,
        typer.Option(
            "--admin-url",
            help="PostgreSQL URL of an admin that creates the roles and the store database, "
            "e.g. postgresql://postgres@/postgres (a password goes in $PGPASSWORD, never "
            "here). Without it, the SQL is printed for a DBA to run.",
            show_default=False,
        ),
    ] = None,
    db_host: Annotated[str, typer.Option("--db-host", help="Host the jobs connect to.")] = (
        "127.0.0.1"
    ),
    db_port: Annotated[int, typer.Option("--db-port", help="Port of PostgreSQL.")] = 5432,
    store_database: Annotated[
        str, typer.Option("--store-database", help="Database of the store (created).")
    ] = DEFAULTS.store_database,
    output_schema: Annotated[
        str, typer.Option("--output-schema", help="Schema of the output tables, in it.")
    ] = DEFAULTS.output_schema,
    coordination_database: Annotated[
        str, typer.Option("--coordination-database", help="The ELFE coordination database.")
    ] = DEFAULTS.coordination_database,
    coordination_schema: Annotated[
        str, typer.Option("--coordination-schema", help="Its schema, read only.")
    ] = DEFAULTS.coordination_schema,
    owner_role: Annotated[
        str, typer.Option("--owner-role", help="Role owning the store and output tables.")
    ] = DEFAULTS.owner_role,
    output_role: Annotated[
        str, typer.Option("--output-role", help="Role writing the output tables' rows only.")
    ] = DEFAULTS.output_role,
    reader_role: Annotated[
        str, typer.Option("--reader-role", help="Role reading the coordination schema only.")
    ] = DEFAULTS.reader_role,
    user: Annotated[
        str, typer.Option("--user", help="Unprivileged system user that runs the jobs.")
    ] = DEFAULT_USER,
    root: Annotated[
        Path,
        typer.Option("--root", help="Folder under which etc/ and var/lib/ are made (tests)."),
    ] = Path("/"),
    ems: Annotated[
        Path | None,
        typer.Option(
            "--ems",
            help="The ems executable the jobs run [default: the one next to this Python].",
            show_default=False,
        ),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="The territory's IANA time zone.")
    ] = None,
    zabbix_url: Annotated[
        str | None,
        typer.Option("--zabbix-url", help="Zabbix frontend URL ($EMS_ZABBIX_TOKEN: its token)."),
    ] = None,
    measurements_url: Annotated[
        str | None,
        typer.Option(
            "--measurements-url", help="Recorded measurements instead of Zabbix (simulations)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace existing files (new passwords too).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every step and the SQL; change nothing.")
    ] = False,
    no_start: Annotated[
        bool,
        typer.Option("--no-start", help="Enable no timer and print the first jobs, not run."),
    ] = False,
    print_sql: Annotated[
        bool, typer.Option("--print-sql", help="Print the roles' SQL only, for a DBA.")
    ] = False,
) -> None:
    """Install the EMS on this server, as root: user, folders, configuration and secrets,
    database roles, migrations, systemd units, first run of every job. Idempotent: run it
    again after an upgrade."""
    try:
        layout = DatabaseLayout(
            store_database,
            output_schema,
            coordination_database,
            coordination_schema,
            owner_role,
            output_role,
            reader_role,
        )
    except ValueError as error:
        raise fail(str(error)) from None
    if print_sql:
        from elfe_ems.jobs.database_roles import script  # noqa: PLC0415

        console.print(script(layout), markup=False, highlight=False, end="")
        return
    if admin_url is not None and urlsplit(admin_url).password:
        raise fail("--admin-url: no password in an argument; give it in $PGPASSWORD")
    if os.geteuid() != 0 and not dry_run:
        raise fail("ems install runs as root (or try --dry-run)")
    settings = {
        key: value
        for key, value in (
            ("timezone", timezone),
            ("zabbix_url", zabbix_url),
            ("measurements_url", measurements_url),
        )
        if value is not None
    }
    _install(
        admin_url, db_host, db_port, layout, user, root, ems, settings, force, dry_run, no_start
    )


def _install(
    admin_url: str | None,
    db_host: str,
    db_port: int,
    layout: DatabaseLayout,
    user: str,
    root: Path,
    ems: Path | None,
    settings: dict[str, str],
    force: bool,
    dry_run: bool,
    no_start: bool,
) -> None:
    from elfe_ems.jobs import install as installing  # noqa: PLC0415
    from elfe_ems.jobs.systemd import default_ems  # noqa: PLC0415

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False)

    try:
        plan = installing.InstallPlan(
            admin_url,
            db_host,
            db_port,
            layout,
            user,
            root.absolute(),
            ems or default_ems(),
            settings,
            force,
            dry_run,
            not no_start,
        )
        failed = installing.install(plan, say)
    except (installing.InstallError, SystemdError) as error:
        raise fail(str(error), 1) from None
    except OSError as error:
        raise fail(f"{error.filename}: {error.strerror}", 1) from None
    if failed:
        say(f"installed; first run failed for {', '.join(failed)} (see above; `ems doctor`)")
    else:
        say("installed" + (" (dry run: nothing changed)" if dry_run else ""))
    if "round" in failed:
        raise typer.Exit(1)
