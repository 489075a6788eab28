"""``ems doctor``: is the EMS healthy? One line per check, a verdict each: from the stored
facts (fast, no source contacted), and with ``--live`` from the sources contacted now."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from elfe_ems.cli.common import ConfigOption, JsonOption, console, fail, json_time, print_json
from elfe_ems.cli.logs import hide_secrets
from elfe_ems.config import ConfigError, load_settings

if TYPE_CHECKING:
    from elfe_ems.store.health import Check

STYLES = {"ok": "green", "warning": "yellow", "failed": "bold red"}


def _table(checks: list[Check]) -> Table:
    table = Table(title="EMS health")
    for column in ("check", "verdict", "detail"):
        table.add_column(column, overflow="fold")
    for check in checks:
        table.add_row(check.name, f"[{STYLES[check.verdict]}]{check.verdict}[/]", check.detail)
    return table


def _document(checks: list[Check], now_s: float, config: Path | None, live: bool) -> dict[str, Any]:
    """``ems doctor --json`` (keys: docs/operator-guide.md#json-output)."""
    from elfe_ems.store.health import healthy  # noqa: PLC0415  (as in doctor_command)

    return {
        "healthy": healthy(checks),
        **json_time("checked_at", now_s),
        "live": live,
        "configuration": None if config is None else str(config),
        "checks": [{"name": c.name, "verdict": c.verdict, "detail": c.detail} for c in checks],
        "failed": [c.name for c in checks if c.verdict == "failed"],
        "warnings": [c.name for c in checks if c.verdict == "warning"],
    }


LiveOption = Annotated[
    bool,
    typer.Option(
        "--live",
        help="Also contact the sources now: coordination database, measurement source and "
        "its items, weather provider (spends a request of its quota).",
    ),
]


def doctor_command(
    config: ConfigOption = None, as_json: JsonOption = False, live: LiveOption = False
) -> None:
    """Check that the EMS is healthy; exit 1 when a check failed.

    Checks, from what the EMS stored, the configuration, its databases, the age of every
    input, the last round and the last run of every job; with --live, the sources too.
    """
    # here, not at the top: the checks' databases and sources would slow down every start
    from elfe_ems.jobs.probes import doctor_checks  # noqa: PLC0415
    from elfe_ems.store.health import Check, healthy  # noqa: PLC0415

    now_s = time.time()
    try:
        settings = load_settings(config)
    except ConfigError as error:
        unusable = [Check("configuration", "failed", str(error))]
        if as_json:
            print_json(_document(unusable, now_s, config, live))
        else:
            console.print(_table(unusable))
        raise fail("the configuration cannot be used", 1) from None
    hide_secrets(settings)
    where = str(config) if config else "environment and defaults"
    checks = [
        Check("configuration", "ok", f"valid ({where})"),
        *doctor_checks(settings, now_s, live=live),
    ]
    if as_json:
        print_json(_document(checks, now_s, config, live))
    else:
        console.print(_table(checks))
    failed = [c.name for c in checks if c.verdict == "failed"]
    if not healthy(checks):
        raise fail(f"{len(failed)} check(s) failed: {', '.join(failed)}", 1)
    warnings = sum(c.verdict == "warning" for c in checks)
    if not as_json:
        console.print(f"Healthy{f', with {warnings} warning(s)' if warnings else ''}.")
