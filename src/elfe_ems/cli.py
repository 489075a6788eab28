"""The ``ems`` command."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from elfe_ems.cli_db import db_app, thermal_app
from elfe_ems.planner import SolveOptions, SolveStats, solve
from elfe_ems.scenario import Plan, ScenarioError, read_scenario, write_model

app = typer.Typer(
    no_args_is_help=True,
    help="ELFE community energy management system: places flexible consumption "
    "to import as little energy as possible.",
)
# soft wrap: lines are never cut at the terminal width (logs and pipes read whole lines)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
app.add_typer(db_app, name="db")
app.add_typer(thermal_app, name="thermal")


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress too.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log errors only.")] = False,
) -> None:
    """Configure logging: one event per line on standard error (journald-friendly)."""
    level = logging.INFO if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (no traceback) and give the exit to raise."""
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@app.command("solve")
def solve_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (elfe-ems.scenario/1 JSON).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Plan file to write [default: SCENARIO.plan.json]."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Solver time limit [s].")
    ] = 60.0,
    gap: Annotated[
        float, typer.Option("--gap", min=0.0, max=1.0, help="Relative MIP gap to stop at.")
    ] = 1e-4,
) -> None:
    """Plan a scenario: write the plan file and print a summary."""
    try:
        parsed = read_scenario(scenario)
    except ScenarioError as error:
        raise fail(str(error)) from None
    plan, stats = solve(parsed, SolveOptions(time_limit_s=time_limit, gap=gap))
    output = output or scenario.with_name(scenario.name.removesuffix(".json") + ".plan.json")
    try:
        write_model(plan, output)
    except OSError as error:
        raise fail(f"{output}: cannot be written ({error.strerror})", 1) from None
    print_summary(plan, stats)
    console.print(f"Plan written to {escape(str(output))}", highlight=False)


def print_summary(plan: Plan, stats: SolveStats) -> None:
    """Devices by type and status, import with and without EMS, solver figures."""
    counts = Counter((d.type, d.status) for d in plan.devices)
    warned = Counter(d.type for d in plan.devices if d.warnings and d.status == "planned")
    table = Table(title="Devices")
    for column in ("type", "planned", "with warnings", "skipped"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for device_type in sorted({t for t, _ in counts}):
        table.add_row(
            device_type,
            str(counts[device_type, "planned"]),
            str(warned[device_type]),
            str(counts[device_type, "skipped"]),
        )
    console.print(table)
    saved = plan.import_wh_asap - plan.import_wh
    share = f" ({saved / plan.import_wh_asap:.1%})" if plan.import_wh_asap > 0 else ""
    gap = "n/a" if plan.solver.gap is None else f"{plan.solver.gap:.2e}"
    console.print(
        f"Import with EMS: {plan.import_wh / 1000:,.2f} kWh; without EMS: "
        f"{plan.import_wh_asap / 1000:,.2f} kWh; saved {saved / 1000:,.2f} kWh{share}\n"
        f"Solver: {plan.solver.status}, gap {gap}, solve {stats.solve_ms:,.0f} ms, "
        f"model build {stats.build_ms:,.0f} ms ({stats.n_vars:,} variables, "
        f"{stats.n_rows:,} rows, {stats.n_nonzeros:,} non-zeros)",
        highlight=False,
    )
