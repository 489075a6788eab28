"""The ``ems demo`` command: the EMS at work on a simulated community, in one command."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.markup import escape

from elfe_ems.cli.common import AT_FORMS, at_time, console, fail, shown_time
from elfe_ems.cli.planning import print_accounting, print_freshness, print_summary
from elfe_ems.config import ConfigError, Settings
from elfe_ems.jobs.registry import JobError
from elfe_ems.notices.hints import ems_command

if TYPE_CHECKING:
    from elfe_ems.demo.run import DemoOutcome


def demo_command(
    homes: Annotated[int, typer.Option("--homes", min=1, help="Homes of the community.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random draw.")] = 1,
    days: Annotated[
        int, typer.Option("--days", min=1, max=30, help="Days of measurement history.")
    ] = 3,
    folder: Annotated[
        Path, typer.Option("--folder", help="Folder of the demo's files (replaced each run).")
    ] = Path("ems-data/demo"),
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help=f"The demo's time: {AT_FORMS} [default: now].",
            show_default=False,
        ),
    ] = None,
    day: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="The demo's local day (YYYY-MM-DD), at the current local time of day; "
            "exclusive with --at [default: today].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """See the EMS at work on a simulated community, in one command.

    Simulates a community and its measurement history, runs the acquisition jobs and one
    planning round on it, and writes an HTML report.
    """
    # here, not at the top: cli imports this module, and the demo's simulation libraries
    # (pandas, pvlib, demandlib) would slow down every other command's start
    from elfe_ems.demo.folder import DemoFolderError  # noqa: PLC0415
    from elfe_ems.demo.run import DemoOptions, run_demo  # noqa: PLC0415
    from elfe_ems.round.job import RoundError  # noqa: PLC0415

    if at is not None and day is not None:
        raise fail("--at and --date both set the demo's time: give one of them")
    options = DemoOptions(
        homes=homes,
        seed=seed,
        days=days,
        folder=folder,
        at_s=None if at is None else at_time(at, _demo_zone()),
        day=None if day is None else day.date(),
    )
    try:
        result = run_demo(options, console)
    except (DemoFolderError, ConfigError) as error:
        raise fail(str(error)) from None
    except (JobError, RoundError) as error:
        raise fail(f"the demo failed: {error}", 1) from None
    _print_inputs(result)
    print_summary(result.outcome.plan, result.outcome.stats)
    print_accounting(result.outcome.accounting)
    print_freshness(result.outcome.freshness)
    _print_next(result)


def _print_inputs(result: DemoOutcome) -> None:
    """What the demo built and what the jobs made of it."""
    settings = result.settings
    devices = result.community.devices()
    manual = sum(d.mode != 30 for d in devices)
    console.print(
        f"Community: {result.community.homes} homes, {len(devices)} devices "
        f"({manual} in manual mode); {result.samples:,} measurements recorded.\n"
        f"Round at {shown_time(result.round_at_s, settings)} ({settings.timezone}); the jobs "
        "ran just before:",
        highlight=False,
    )
    for name, summary in result.job_summaries.items():
        console.print(f"  {name}: {escape(summary)}", highlight=False)


def _print_next(result: DemoOutcome) -> None:
    """Where the files are and what to run next."""
    files = result.files
    config = f"--config {_shown(files.config)}"
    console.print(
        f"Demo done in {result.elapsed_s:.1f} s. Report: {escape(str(_shown(files.report)))} "
        "(open it in a browser).\nNext:",
        highlight=False,
    )
    hints = (
        (f"web {config}", f"the dashboard, then open http://127.0.0.1:{result.settings.web_port}/"),
        (f"run {config}", "another planning round"),
        (f"job cycles {config}", "any acquisition job on the demo's data"),
    )
    width = max(len(ems_command(arguments)) for arguments, _ in hints)
    for arguments, what in hints:
        console.print(
            f"  {ems_command(arguments):<{width}}   # {what}", markup=False, highlight=False
        )


def _demo_zone() -> ZoneInfo:
    """The time zone the demo's ``--at`` is read in: its configuration sets none, so the
    default one, or ``EMS_TIMEZONE``'s (an invalid environment fails later, with its
    message)."""
    try:
        return Settings().zone
    except ValidationError:
        return ZoneInfo(Settings.model_fields["timezone"].default)


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it is inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
