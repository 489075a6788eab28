"""The ``ems`` command: one module per command group in this package."""

from __future__ import annotations

import logging
import os
from typing import Annotated, Any

import typer

from elfe_ems.cli.backtest import backtest_command
from elfe_ems.cli.cycles import cycles_app
from elfe_ems.cli.db import db_app, thermal_app
from elfe_ems.cli.demo import demo_command
from elfe_ems.cli.doctor import doctor_command
from elfe_ems.cli.install import install_command
from elfe_ems.cli.jobs import job_command, jobs_command, serve_command, systemd_app
from elfe_ems.cli.logs import configure
from elfe_ems.cli.planning import replay_command, run_command, solve_command
from elfe_ems.cli.web import web_command
from elfe_ems.cli.zabbix import zabbix_template_command

OWNER_ONLY = 0o077
"""The umask bits every ``ems`` process holds: what it writes (the SQLite store and its
``-wal``/``-shm``, the run conditions, reports) is readable by its user alone, whatever umask
it was started with (a stricter one is kept)."""


class EmsApp(typer.Typer):
    """The ``ems`` command; called as a program (the console script, ``python -m elfe_ems``),
    it first makes the process's umask owner-only. Tests invoke it in their own process
    through Click, which leaves their umask alone."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        os.umask(os.umask(OWNER_ONLY) | OWNER_ONLY)
        return super().__call__(*args, **kwargs)


app = EmsApp(
    rich_markup_mode=None,  # help texts are plain: "[s]" is a unit, not a style
    no_args_is_help=True,
    help="ELFE community energy management system: places flexible consumption "
    "to import as little energy as possible.",
)


app.add_typer(db_app, name="db")
app.add_typer(thermal_app, name="thermal")
app.add_typer(cycles_app, name="cycles")
app.add_typer(systemd_app, name="systemd")
# the order of `ems --help`: first run, daily operation, then the planner's own commands
app.command("demo")(demo_command)
app.command("doctor")(doctor_command)
app.command("install")(install_command)
app.command("web")(web_command)
app.command("zabbix-template")(zabbix_template_command)
app.command("job")(job_command)
app.command("jobs")(jobs_command)
app.command("serve")(serve_command)
app.command("backtest")(backtest_command)
app.command("solve")(solve_command)
app.command("run")(run_command)
app.command("replay")(replay_command)


DISTRIBUTION = "elfe-ems"
"""The distribution whose metadata gives ``ems --version`` (pyproject.toml's name)."""


def _print_version(asked: bool) -> None:
    """``ems --version``: the installed version, then exit (an eager option: before the
    command, nothing else loaded)."""
    if asked:
        from importlib.metadata import version  # noqa: PLC0415

        typer.echo(f"ems {version(DISTRIBUTION)}")
        raise typer.Exit(0)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress too.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log errors only.")] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version of ems and exit.",
        ),
    ] = False,
) -> None:
    """Configure logging: one event per line on standard error, with journald's priorities
    under systemd (:mod:`elfe_ems.cli.logs`)."""
    configure(logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING)
