"""The ``ems`` commands that run the jobs of :mod:`elfe_ems.jobs.registry`: ``job`` (one run,
what the systemd timers and ``ems serve`` start), ``jobs`` (the list), ``serve`` (the
scheduler) and ``systemd print|install`` (the units)."""

from __future__ import annotations

import logging
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from elfe_ems.cli.common import (
    AtOption,
    ConfigOption,
    JsonOption,
    at_time,
    console,
    errors,
    fail,
    json_time,
    print_json,
    settings_from,
    shown_time,
)
from elfe_ems.config import without_secrets
from elfe_ems.jobs import serve as serving
from elfe_ems.jobs import systemd
from elfe_ems.jobs.registry import JOBS, JobError, job_named, load_target

log = logging.getLogger(__name__)


def _log_runs(logger: logging.Logger) -> None:
    """Show ``logger``'s one line per run unless ``--quiet``: it is the jobs' journal."""
    if logging.getLogger().level <= logging.WARNING:
        logger.setLevel(logging.INFO)


def job_command(
    name: Annotated[str, typer.Argument(help="The job (see `ems jobs`).", show_default=False)],
    at: AtOption = None,
    config: ConfigOption = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            help="Run this MODULE:FUNCTION as the job NAME (a job not in the list yet).",
            hidden=True,
        ),
    ] = None,
) -> None:
    """Run one job once and print its summary: exit code 1 when it could not do its work.

    Each run is recorded in the store (the health checks read it)."""
    # here, not at the top: the store's database layer would slow down every start
    from elfe_ems.jobs.runs import recorded_run  # noqa: PLC0415

    if target is None:
        try:
            target = job_named(name).target
        except KeyError as error:
            raise fail(error.args[0], 2) from None
    settings = settings_from(config)
    at_s = at_time(at, settings.zone)
    _log_runs(log)
    started_s = time.monotonic()
    try:
        with recorded_run(settings, name) as run:
            run.summary = summary = load_target(target)(settings, at_s)
    except JobError as error:
        log.error("job %s: failed after %.1f s: %s", name, time.monotonic() - started_s, error)
        raise typer.Exit(1) from None
    except Exception:
        trace = without_secrets(traceback.format_exc(), settings)
        log.error("job %s: crashed after %.1f s\n%s", name, time.monotonic() - started_s, trace)
        raise typer.Exit(1) from None
    log.info("job %s: succeeded in %.1f s", name, time.monotonic() - started_s)
    console.print(summary, markup=False, highlight=False)


def jobs_command(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """List the jobs: name, timeout, schedule (as systemd OnCalendar), next run and what each
    does."""
    settings = settings_from(config)
    now_s = time.time()
    next_s = {job.name: serving.next_run_s(job.schedule, settings.zone, now_s) for job in JOBS}
    if as_json:
        print_json(
            {
                **json_time("listed_at", now_s),
                "timezone": settings.timezone,
                "jobs": [
                    {
                        "name": job.name,
                        "summary": job.summary,
                        "on_calendar": job.schedule.on_calendar(settings.timezone),
                        "timeout_s": job.timeout_s,
                        **json_time("next_run", next_s[job.name]),
                    }
                    for job in JOBS
                ],
            }
        )
        return
    table = Table(title="Jobs")
    table.add_column("job", no_wrap=True)
    table.add_column(escape("timeout [s]"), justify="right")
    table.add_column("when (systemd OnCalendar), next run, what it does")
    for job in JOBS:
        upcoming = next_s[job.name]
        table.add_row(
            job.name,
            str(job.timeout_s),
            f"{escape(job.schedule.on_calendar(settings.timezone))}\n"
            f"next: {'never' if upcoming is None else shown_time(upcoming, settings)}\n"
            f"[dim]{escape(job.summary)}",
        )
    console.print(table)


def serve_command(
    config: ConfigOption = None,
    grace: Annotated[
        float,
        typer.Option(
            "--grace", min=0.0, help="Seconds given to running jobs after SIGTERM or Ctrl-C."
        ),
    ] = serving.DEFAULT_GRACE_S,
) -> None:
    """Run every job at its schedule (where there is no systemd).

    Each run is a process of its own; runs until SIGTERM or Ctrl-C. See also `ems systemd`.
    """
    settings = settings_from(config)
    _log_runs(serving.log)
    serving.serve(settings, config, grace_s=grace)


systemd_app = typer.Typer(
    no_args_is_help=True,
    help="systemd units that run every job at its time (a service and a timer per job) "
    "and the dashboard (the web service).",
)

UserOption = Annotated[
    str, typer.Option("--user", help="Unprivileged user (and group) that runs the jobs.")
]
UnitConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        help="Configuration file of the installed EMS; read here, if it exists, for the time "
        "zone and the data folders.",
    ),
]
EmsOption = Annotated[
    Path | None,
    typer.Option(
        "--ems",
        help="The ems executable [default: the one next to this Python].",
        show_default=False,
    ),
]
WorkingDirectoryOption = Annotated[
    Path, typer.Option("--working-directory", help="The jobs' working directory (writable).")
]


def _units(
    user: str, config: Path, ems: Path | None, working_directory: Path
) -> tuple[systemd.Installation, dict[str, str]]:
    """The installation and its unit files, or exit 2 with the reason."""
    if config.exists():
        settings = settings_from(config)
    else:
        settings = settings_from(None)
        errors.print(
            f"note: {escape(str(config))} is not here: time zone ({settings.timezone}) and "
            "data folders from the settings of this environment",
            highlight=False,
        )
    try:
        installation = systemd.Installation(
            user, config, ems or systemd.default_ems(), working_directory
        )
        return installation, systemd.units(installation, settings)
    except systemd.SystemdError as error:
        raise fail(str(error)) from None


@systemd_app.command("print")
def print_command(
    user: UserOption = systemd.DEFAULT_USER,
    config: UnitConfigOption = systemd.DEFAULT_CONFIG,
    ems: EmsOption = None,
    working_directory: WorkingDirectoryOption = systemd.DEFAULT_WORKING_DIRECTORY,
) -> None:
    """Print the units, each after a comment line with its file name."""
    _installation, files = _units(user, config, ems, working_directory)
    for name, text in files.items():
        console.print(f"# ===== {name}\n{text}", markup=False, highlight=False)


@systemd_app.command("install")
def install_command(
    directory: Annotated[Path, typer.Option("--dir", help="Folder of the unit files.")] = Path(
        "/etc/systemd/system"
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite unit files that differ.")
    ] = False,
    user: UserOption = systemd.DEFAULT_USER,
    config: UnitConfigOption = systemd.DEFAULT_CONFIG,
    ems: EmsOption = None,
    working_directory: WorkingDirectoryOption = systemd.DEFAULT_WORKING_DIRECTORY,
) -> None:
    """Write the units (never over changed ones without --force) and print what to run next."""
    installation, files = _units(user, config, ems, working_directory)
    try:
        written = systemd.install(files, directory, force=force)
    except systemd.SystemdError as error:
        raise fail(str(error), 1) from None
    except OSError as error:
        raise fail(f"{directory}: cannot be written ({error.strerror})", 1) from None
    unchanged = len(files) - len(written)
    console.print(
        f"{len(written)} unit files written to {escape(str(directory))}"
        + (f", {unchanged} unchanged" if unchanged else "")
        + "\nNext, as root:",
        highlight=False,
    )
    for command in systemd.next_steps(installation):
        console.print(f"  {command}", markup=False, highlight=False)
