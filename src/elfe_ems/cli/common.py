"""What every ``ems`` command shares: consoles, clear failures, the configuration and time
options, times shown, JSON output and the progress of long steps."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape

from elfe_ems.cli.logs import hide_secrets
from elfe_ems.config import ConfigError, Settings, load_settings
from elfe_ems.timegrid.local import TIME_FORMS, TimeTextError, local_text, parse_time, utc_iso

# soft wrap: lines are never cut at the terminal width (logs and pipes read whole lines)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML configuration file [default: the file named by $EMS_CONFIG, if any].",
        show_default=False,
    ),
]

AT_FORMS = TIME_FORMS.format(zone="the configured time zone")
"""What ``--at`` accepts, for the help texts."""

AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        metavar="TIME",
        help=f"Run as if at this time: {AT_FORMS} [default: now].",
        show_default=False,
    ),
]

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on standard output instead (times as ISO 8601 UTC and "
        "Unix seconds; keys in docs/operator-guide.md#json-output).",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (no traceback) and give the exit to raise."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def settings_from(config: Path | None) -> Settings:
    """The settings, or exit with code 2 and a message naming the bad key; from now on no
    log line shows one of their secrets."""
    try:
        settings = load_settings(config)
    except ConfigError as error:
        raise fail(str(error), 2) from None
    hide_secrets(settings)
    return settings


def at_time(at: str | None, zone: ZoneInfo) -> float:
    """The Unix time [s] of an ``--at`` option, read in ``zone`` (None: now); exit 2 with
    what to give instead when it names no single instant."""
    if at is None:
        return time.time()
    try:
        return parse_time(at, zone)
    except TimeTextError as error:
        raise fail(f"--at: {error}", 2) from None


def shown_time(time_s: float, settings: Settings) -> str:
    """A Unix time as people read it: local time of the territory, with the zone."""
    return local_text(time_s, settings.zone)


def json_time(name: str, time_s: float | None) -> dict[str, Any]:
    """A time of a JSON document, twice: ``NAME`` (ISO 8601 UTC) and ``NAME_s`` (Unix s)."""
    return {name: None if time_s is None else utc_iso(time_s), f"{name}_s": time_s}


def print_json(document: dict[str, Any]) -> None:
    """``document`` on standard output: one JSON document, no markup."""
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        return False


@contextmanager
def progress(step: str) -> Iterator[Callable[[str], None]]:
    """A spinner on standard error naming the current step, ``step`` first, when standard
    error is a terminal (nothing otherwise: logs and pipes stay clean). Gives the function
    that names the next step."""
    if not (_stderr_is_terminal() and errors.is_terminal):
        yield lambda _step: None
        return
    from rich.live import Live  # noqa: PLC0415
    from rich.spinner import Spinner  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    spinner = Spinner("dots", text=Text(step), style="status.spinner")

    with Live(spinner, console=errors, transient=True, refresh_per_second=12.5) as live:

        def show(next_step: str) -> None:
            spinner.update(text=Text(next_step))
            live.refresh()  # now: a step may be over before the next tick

        yield show
