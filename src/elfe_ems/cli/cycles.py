"""``ems cycles``: see and tune how a machine's cycles are detected."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Annotated, TypedDict

import typer
from rich.table import Table
from rich.text import Text

from elfe_ems.cli.common import ConfigOption, console, fail, settings_from, shown_time
from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JobError
from elfe_ems.timegrid import STEP_S

# the detection, the sources, the store and plotext are imported by the commands, not here:
# numpy, SQLAlchemy and httpx would slow down the start of every command
if TYPE_CHECKING:
    from elfe_ems.jobs.cycles import Detection
    from elfe_ems.learning.cycles import CycleSettings

cycles_app = typer.Typer(
    no_args_is_help=True, help="Machine cycles: what is detected, and the detection settings."
)

ItemArgument = Annotated[int, typer.Argument(help="Zabbix item id of the machine's power [W].")]
StartOption = Annotated[
    float | None,
    typer.Option("--threshold-start", min=0, help="A cycle starts above this power [W]."),
]
EndOption = Annotated[
    float | None,
    typer.Option("--threshold-end", min=0, help="A quiet period has a mean below this [W]."),
]
PeriodsOption = Annotated[
    int | None,
    typer.Option("--periods", min=0, help="Consecutive quiet periods that end a cycle."),
]
PeriodOption = Annotated[
    int | None, typer.Option("--period", min=1, help="Averaging period of detection [s].")
]


class _SettingsChanges(TypedDict, total=False):
    """The fields of :class:`CycleSettings` that options may change."""

    threshold_start_w: float
    threshold_end_w: float
    quiet_periods: int
    period_s: int


def _with_options(
    base: CycleSettings,
    threshold_start: float | None,
    threshold_end: float | None,
    periods: int | None,
    period: int | None,
) -> CycleSettings:
    given: _SettingsChanges = {}  # the options given, typed per field for replace()
    if threshold_start is not None:
        given["threshold_start_w"] = threshold_start
    if threshold_end is not None:
        given["threshold_end_w"] = threshold_end
    if periods is not None:
        given["quiet_periods"] = periods
    if period is not None:
        given["period_s"] = period
    return dataclasses.replace(base, **given)


def _described(detection: CycleSettings) -> str:
    """The detection settings in a sentence."""
    quiet = max(detection.quiet_periods, 1)  # 0 is read as 1
    return (
        f"a cycle starts above {detection.threshold_start_w:g} W and ends after {quiet} "
        f"period{'s' if quiet > 1 else ''} of {detection.period_s} s with a mean power below "
        f"{detection.threshold_end_w:g} W"
    )


def _table(settings: Settings, detection: Detection, learned_start_s: int | None) -> Table:
    from elfe_ems.jobs.cycles import WINDOW_S  # noqa: PLC0415

    table = Table(
        title=f"Cycles of item {detection.item.item_id} ({detection.item.name}) "
        f"over the last {WINDOW_S // 86_400} days"
    )
    for column in ("#", "start", "duration", "energy [Wh]", "peak [W]", "steps of 15 min"):
        table.add_column(column, justify="left" if column == "start" else "right")
    for number, cycle in enumerate(detection.cycles, 1):
        energy_wh = sum(cycle.profile_w) * detection.settings.period_s / 3600
        mark = " (stored)" if cycle.start_s == learned_start_s else ""
        table.add_row(
            str(number),
            shown_time(cycle.start_s, settings) + mark,
            f"{(cycle.end_s - cycle.start_s) / 60:.0f} min",
            f"{energy_wh:,.0f}",
            f"{max(cycle.profile_w, default=0):,.0f}",
            str(-(-(cycle.end_s - cycle.start_s) // STEP_S)),
        )
    return table


def _plot(settings: Settings, detection: Detection) -> str:
    import plotext  # noqa: PLC0415

    times_s, power_w = detection.times_s, detection.power_w
    plotext.clear_figure()
    plotext.plot_size(100, 20)
    plotext.theme("clear")
    hours = (times_s - times_s[-1]) / 3600 if times_s.size else times_s
    plotext.plot(hours.tolist(), power_w.tolist(), label="power [W]", marker="braille")
    end_s = times_s[-1] if times_s.size else 0
    for cycle in detection.cycles:
        plotext.vline((cycle.start_s - end_s) / 3600, "green")
        plotext.vline((cycle.end_s - end_s) / 3600, "red")
    plotext.hline(detection.settings.threshold_start_w, "blue")
    plotext.xlabel(f"hours before {shown_time(end_s, settings)} (green: start, red: end)")
    return str(plotext.build())


@cycles_app.command("show")
def show_command(
    item: ItemArgument,
    threshold_start: StartOption = None,
    threshold_end: EndOption = None,
    periods: PeriodsOption = None,
    period: PeriodOption = None,
    plot: Annotated[bool, typer.Option(help="Draw the power and the cycles.")] = True,
    config: ConfigOption = None,
) -> None:
    """The cycles detected over the last 3 days, with these settings or the stored ones."""
    from elfe_ems.jobs.common import database  # noqa: PLC0415
    from elfe_ems.jobs.cycles import detect  # noqa: PLC0415
    from elfe_ems.jobs.measurement_access import measurements, source_name  # noqa: PLC0415
    from elfe_ems.learning.cycles import CycleSettings  # noqa: PLC0415
    from elfe_ems.store.cycles import current_profile, stored_settings  # noqa: PLC0415

    settings = settings_from(config)
    now_s = int(time.time())
    try:
        with database(settings, "store") as store, store.connect() as connection:
            base = stored_settings(connection, item) or CycleSettings()
            stored = current_profile(connection, item)
        detection_settings = _with_options(base, threshold_start, threshold_end, periods, period)
        with measurements(settings) as client:
            found = client.items([item])
            if item not in found:
                raise JobError(f"{source_name(settings)}: no item with id {item}")
            detection = detect(client, found[item], detection_settings, now_s)
    except JobError as error:
        raise fail(str(error), 1) from None
    console.print(f"Detection: {_described(detection_settings)}.", highlight=False)
    console.print(_table(settings, detection, stored.cycle_start_s if stored else None))
    if plot:
        console.print(Text.from_ansi(_plot(settings, detection)))
    if not detection.cycles:
        console.print("No complete cycle: the round keeps the stored or the default cycle.")


@cycles_app.command("set")
def set_command(
    item: ItemArgument,
    threshold_start: StartOption = None,
    threshold_end: EndOption = None,
    periods: PeriodsOption = None,
    period: PeriodOption = None,
    config: ConfigOption = None,
) -> None:
    """Store the detection settings of a machine (options not given keep their value)."""
    from elfe_ems.jobs.common import database  # noqa: PLC0415
    from elfe_ems.learning.cycles import CycleSettings  # noqa: PLC0415
    from elfe_ems.store.cycles import save_settings, stored_settings  # noqa: PLC0415

    settings = settings_from(config)
    try:
        with database(settings, "store") as store, store.begin() as connection:
            base = stored_settings(connection, item) or CycleSettings()
            new = _with_options(base, threshold_start, threshold_end, periods, period)
            save_settings(connection, item, new)
    except JobError as error:
        raise fail(str(error), 1) from None
    console.print(
        f"Item {item}: {_described(new)}; the next `cycles` job uses these settings.",
        highlight=False,
    )
