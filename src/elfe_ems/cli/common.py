"""What every ``ems`` command shares: consoles, clear failures, the configuration option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from elfe_ems.config import ConfigError, Settings, load_settings

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

AtOption = Annotated[
    float | None,
    typer.Option(
        "--at", help="Run as if at this Unix time [s] [default: now].", show_default=False
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (no traceback) and give the exit to raise."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def settings_from(config: Path | None) -> Settings:
    """The settings, or exit with code 2 and a message naming the bad key."""
    try:
        return load_settings(config)
    except ConfigError as error:
        raise fail(str(error), 2) from None
