"""The ``ems backtest`` command: what the EMS is worth, measured by closed-loop simulation."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from elfe_ems.cli.common import ConfigOption, console, fail, settings_from

if TYPE_CHECKING:
    from elfe_ems.backtest.summary import Figures

CSV_NAME = "backtest.csv"
REPORT_NAME = "report.html"


class SeasonChoice(StrEnum):
    """The seasons ``--season`` accepts."""

    SUMMER = "summer"
    WINTER = "winter"


def backtest_command(
    days: Annotated[int, typer.Option("--days", min=1, help="Days simulated per season.")] = 1,
    homes: Annotated[int, typer.Option("--homes", min=1, help="Homes of the community.")] = 200,
    season: Annotated[
        SeasonChoice | None,
        typer.Option(
            "--season", help="One season [default: summer and winter].", show_default=False
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="First seed of the random draws.")] = 1,
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, help="Number of seeds (seed, seed + 1, ...).")
    ] = 1,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes of the local Dask cluster.")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler (tcp://host:8786) instead of a local "
            "cluster; its workers need elfe-ems installed.",
            show_default=False,
        ),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="Solver time of each round [s].")
    ] = 2.5,
    output: Annotated[
        Path, typer.Option("--output", help="Folder of the report and the CSV.")
    ] = Path("ems-data/backtest"),
    config: ConfigOption = None,
) -> None:
    """Simulate the community round after round and measure what the EMS saves.

    Each day is run without EMS, with the EMS and each forecaster, and with perfect foresight;
    writes an HTML report and a CSV, and prints the totals.
    """
    # here, not at the top: dask, pandas and pvlib would slow down every other command's start
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn  # noqa: PLC0415

    from elfe_ems.backtest.report import write_report  # noqa: PLC0415
    from elfe_ems.backtest.runner import BacktestOptions, run_backtest, tasks_of  # noqa: PLC0415
    from elfe_ems.backtest.summary import TOTAL, summarise, write_csv  # noqa: PLC0415
    from elfe_ems.sim.world import SEASONS, Site  # noqa: PLC0415

    settings = settings_from(config)
    options = BacktestOptions(
        days=days,
        homes=homes,
        site=Site(settings.latitude_deg, settings.longitude_deg, settings.timezone),
        seasons=SEASONS if season is None else (season.value,),
        seeds=tuple(range(seed, seed + seeds)),
        workers=workers,
        scheduler=scheduler,
        time_limit_s=time_limit,
    )
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise fail(f"cannot create {output}: {error.strerror}") from None
    total = len(tasks_of(options))
    where = f"scheduler {scheduler}" if scheduler else f"{workers} local workers"
    started = time.monotonic()
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("{task.description}", *columns, console=console) as progress:
        bar = progress.add_task(f"{total} runs on {where}", total=total)
        try:
            results = run_backtest(options, lambda _: progress.advance(bar))
        except OSError as error:  # a scheduler that cannot be reached
            raise fail(f"Dask: {error}", 1) from None
    elapsed = time.monotonic() - started
    summary = summarise(results)
    title = (
        f"Backtest: {homes} homes, {days} day(s) x {', '.join(options.seasons)}, "
        f"{seeds} seed(s) from {seed}"
    )
    write_csv(output / CSV_NAME, summary)
    write_report(output / REPORT_NAME, results, summary, title)
    _print_totals(summary[TOTAL])
    work = sum(r.elapsed_s for r in results)
    console.print(
        f"{total} runs in {elapsed:.1f} s on {where} ({work:.1f} s of runs: "
        f"{work / elapsed:.2f} at a time). Report: {escape(str(output / REPORT_NAME))}, "
        f"figures: {escape(str(output / CSV_NAME))}",
        highlight=False,
    )


def _print_totals(by_config: dict[str, Figures]) -> None:
    """The totals of every configuration (none: without EMS; perfect: perfect foresight)."""
    from elfe_ems.backtest.summary import captured, skill  # noqa: PLC0415

    table = Table(title="All days (none: without EMS; perfect: perfect foresight)")
    for name in ("config", "import kWh", "captured", "peak kW", "comfort K·h", "broken",
                 "MAE kW", "skill"):  # fmt: skip
        table.add_column(name, justify="left" if name == "config" else "right")
    for config, figures in by_config.items():
        table.add_row(
            config,
            f"{figures.energy.import_wh / 1000:,.1f}",
            f"{100 * captured(by_config, config):.1f} %",
            f"{figures.energy.peak_import_w / 1000:.1f}",
            f"{figures.comfort_missed_kh:.2f}",
            str(figures.broken),
            "" if figures.mae_w is None else f"{figures.mean_mae_w / 1000:.2f}",
            ""
            if figures.mae_w is None
            else f"{100 * skill(figures, by_config['persistence']):.1f} %",
        )
    console.print(table)
