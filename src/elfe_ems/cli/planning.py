"""The planner's commands: ``ems solve``, ``ems run`` and ``ems replay``, and the plan summary
they (and ``ems demo``) print."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.markup import escape
from rich.table import Table

from elfe_ems.cli.common import (
    AtOption,
    ConfigOption,
    JsonOption,
    at_time,
    console,
    fail,
    json_time,
    print_json,
    progress,
    settings_from,
    shown_time,
)
from elfe_ems.config import Settings
from elfe_ems.round.objective import Objective
from elfe_ems.store.freshness import Freshness, State, age_text
from elfe_ems.timegrid import Grid

# the planner, the round and their libraries (numpy, HiGHS, SQLAlchemy) are imported by the
# commands that use them, not here: they would slow down the start of every command
if TYPE_CHECKING:
    from elfe_ems.planner.core import SolveOptions, SolveStats
    from elfe_ems.planner.scenario import Plan, Scenario
    from elfe_ems.round.accounting import Accounting
    from elfe_ems.round.job import RoundOutcome
    from elfe_ems.round.tariff import Tariff

# the defaults of the configuration, so that `ems solve` plans as a round does
_SETTINGS = Settings.model_fields
DEFAULT_TIME_LIMIT_S: float = _SETTINGS["time_limit_s"].default
DEFAULT_GAP: float = _SETTINGS["gap"].default
DEFAULT_PEAK_TOLERANCE: float = _SETTINGS["peak_tolerance"].default
DEFAULT_PEAK_PRICE: float = _SETTINGS["tariff_peak_price"].default
DEFAULT_OFF_PEAK_PRICE: float = _SETTINGS["tariff_off_peak_price"].default
DEFAULT_OFF_PEAK: list[str] = _SETTINGS["tariff_off_peak_windows"].default
DEFAULT_TIMEZONE: str = _SETTINGS["timezone"].default


ObjectiveOption = Annotated[
    Objective,
    typer.Option(
        "--objective",
        help="Minimise the import, or its cost at the tariff (--peak-price, --off-peak).",
    ),
]
PeakToleranceOption = Annotated[
    float,
    typer.Option(
        "--peak-tolerance",
        min=0.0,
        help="Then lower the peak import within this share of the objective [-] (0: off).",
    ),
]
PeakPriceOption = Annotated[
    float, typer.Option("--peak-price", help="Price of a kWh outside off-peak windows.")
]
OffPeakPriceOption = Annotated[
    float, typer.Option("--off-peak-price", help="Price of a kWh in an off-peak window.")
]
OffPeakOption = Annotated[
    list[str] | None,
    typer.Option(
        "--off-peak",
        help="Off-peak window HH:MM-HH:MM, local time (repeat for more) "
        f"[default: {', '.join(DEFAULT_OFF_PEAK)}].",
        show_default=False,
    ),
]
TimezoneOption = Annotated[
    str, typer.Option("--timezone", help="IANA time zone of the off-peak windows.")
]


def _tariff(
    peak_price: float, off_peak_price: float, off_peak: list[str] | None, zone: str
) -> Tariff:
    """The tariff of the command's options (``off_peak`` None: the default windows)."""
    from elfe_ems.round.tariff import Tariff  # noqa: PLC0415

    return Tariff(peak_price, off_peak_price, off_peak or DEFAULT_OFF_PEAK, ZoneInfo(zone))


def _options_for(
    scenario: Scenario,
    time_limit_s: float,
    gap: float,
    objective: Objective,
    peak_tolerance: float,
    tariff: Tariff,
) -> SolveOptions:
    """The solver options of the command line (defaults: those of the configuration)."""
    from elfe_ems.round.tariff import solve_options  # noqa: PLC0415

    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    return solve_options(time_limit_s, gap, grid, objective, tariff, peak_tolerance)


def solve_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (elfe-ems.scenario/1 JSON).")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Plan file to write [default: SCENARIO.plan.json]."),
    ] = None,
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.01, help="Solver time limit [s].")
    ] = DEFAULT_TIME_LIMIT_S,
    gap: Annotated[
        float, typer.Option("--gap", min=0.0, max=1.0, help="Relative MIP gap to stop at.")
    ] = DEFAULT_GAP,
    objective: ObjectiveOption = Objective.IMPORT,
    peak_tolerance: PeakToleranceOption = DEFAULT_PEAK_TOLERANCE,
    peak_price: PeakPriceOption = DEFAULT_PEAK_PRICE,
    off_peak_price: OffPeakPriceOption = DEFAULT_OFF_PEAK_PRICE,
    off_peak: OffPeakOption = None,
    timezone: TimezoneOption = DEFAULT_TIMEZONE,
) -> None:
    """Plan a scenario: write the plan file and print a summary."""
    from elfe_ems.planner.core import solve  # noqa: PLC0415
    from elfe_ems.planner.scenario import ScenarioError, read_scenario, write_model  # noqa: PLC0415

    output = output or scenario.with_name(scenario.name.removesuffix(".json") + ".plan.json")
    with progress("reading the scenario") as step:
        try:
            parsed = read_scenario(scenario)
            options = _options_for(
                parsed,
                time_limit,
                gap,
                objective,
                peak_tolerance,
                _tariff(peak_price, off_peak_price, off_peak, timezone),
            )
        except (ScenarioError, ValueError, ZoneInfoNotFoundError) as error:
            raise fail(str(error)) from None
        step(f"planning (time limit {options.time_limit_s:g} s)")
        plan, stats = solve(parsed, options)
        step("writing the plan")
        try:
            write_model(plan, output)
        except OSError as error:
            raise fail(f"{output}: cannot be written ({error.strerror})", 1) from None
    print_summary(plan, stats)
    console.print(f"Plan written to {escape(str(output))}", highlight=False)


def run_command(
    at: AtOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one planning round: read, plan, publish (the main job, every quarter hour)."""
    from elfe_ems.round.job import RoundError, run_round  # noqa: PLC0415

    settings = settings_from(config)
    at_s = at_time(at, settings.zone)
    try:
        with progress("starting the round") as step:
            outcome = run_round(settings, at_s, step)
    except RoundError as error:
        if as_json:
            print_json(
                {"published": False, "error": str(error), **json_time("at", at_s)}
                | {"timezone": settings.timezone}
            )
        raise fail(f"round not run, nothing published: {error}", 1) from None
    if as_json:
        print_json(round_document(outcome, at_s, settings))
        return
    print_summary(outcome.plan, outcome.stats)
    print_accounting(outcome.accounting)
    print_freshness(outcome.freshness)
    console.print(
        f"{outcome.rows_published} plan rows published from round start "
        f"{shown_time(outcome.plan.round_start, settings)}; {len(outcome.issues)} device "
        f"issues\nScenario saved to {escape(str(outcome.scenario_path))}",
        highlight=False,
    )


def round_document(outcome: RoundOutcome, at_s: float, settings: Settings) -> dict[str, Any]:
    """``ems run --json``: what the round did (keys: docs/operator-guide.md#json-output)."""
    plan, solver = outcome.plan, outcome.plan.solver
    counts = Counter((d.type, d.status) for d in plan.devices)
    warned = Counter(d.type for d in plan.devices if d.warnings and d.status == "planned")
    return {
        "published": True,
        **json_time("at", at_s),
        **json_time("round_start", plan.round_start),
        "timezone": settings.timezone,
        "rows_published": outcome.rows_published,
        "import_wh": plan.import_wh,
        "import_wh_without_ems": plan.import_wh_asap,
        "saved_wh": plan.import_wh_asap - plan.import_wh,
        "peak_import_w": plan.peak_import_w,
        "solver": {
            "status": solver.status,
            "objective": solver.objective,
            "gap": solver.gap,
            "lower_bound_wh": solver.lower_bound_wh,
            "cost": solver.cost,
            "solve_ms": outcome.stats.solve_ms,
            "build_ms": outcome.stats.build_ms,
        },
        "device_types": [
            {
                "type": device_type,
                "planned": counts[device_type, "planned"],
                "with_warnings": warned[device_type],
                "skipped": counts[device_type, "skipped"],
            }
            for device_type in sorted({t for t, _ in counts})
        ],
        "devices": None if outcome.accounting is None else outcome.accounting.to_json(),
        "device_issues": outcome.issues,
        "inputs": [source.to_json() for source in outcome.freshness],
        "scenario": str(outcome.scenario_path),
    }


def replay_command(
    scenario: Annotated[Path, typer.Argument(help="A scenario saved by a round.")],
    net_load: Annotated[
        Path | None,
        typer.Option("--net-load", help="CSV with a net_load_w column (W, one row per step)."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit", min=0.01, help="Solver time limit [s] [default: the round's]."
        ),
    ] = None,
    gap: Annotated[
        float | None,
        typer.Option("--gap", min=0.0, max=1.0, help="Relative MIP gap [default: the round's]."),
    ] = None,
    objective: Annotated[
        Objective | None,
        typer.Option(
            "--objective",
            help="Minimise the import, or its cost at the tariff options [default: the round's].",
        ),
    ] = None,
    peak_tolerance: Annotated[
        float | None,
        typer.Option(
            "--peak-tolerance", min=0.0, help="Peak stage tolerance [-] [default: the round's]."
        ),
    ] = None,
    peak_price: PeakPriceOption = DEFAULT_PEAK_PRICE,
    off_peak_price: OffPeakPriceOption = DEFAULT_OFF_PEAK_PRICE,
    off_peak: OffPeakOption = None,
    timezone: TimezoneOption = DEFAULT_TIMEZONE,
) -> None:
    """Solve a saved round again and show how the plan and the import differ.

    The round's own solver options (saved beside its scenario) are used unless an option
    says otherwise; the tariff options apply with --objective.
    """
    from elfe_ems.planner.scenario import ScenarioError, read_scenario  # noqa: PLC0415
    from elfe_ems.round.replay import read_options, replay  # noqa: PLC0415

    try:
        parsed = read_scenario(scenario)
        saved = read_options(scenario)
        tariff = _tariff(peak_price, off_peak_price, off_peak, timezone)
        defaults = _options_for(
            parsed,
            DEFAULT_TIME_LIMIT_S,
            DEFAULT_GAP,
            objective or Objective.IMPORT,
            DEFAULT_PEAK_TOLERANCE,
            tariff,
        )
        given = (("time_limit_s", time_limit), ("gap", gap), ("peak_tolerance", peak_tolerance))
        changes: dict[str, Any] = {name: value for name, value in given if value is not None}
        if objective is not None:
            changes["price_per_kwh"] = defaults.price_per_kwh
        options = replace(saved or defaults, **changes)
        with progress(f"replaying (time limit {options.time_limit_s:g} s)"):
            result = replay(scenario, net_load, options)
    except (ScenarioError, ValueError, ZoneInfoNotFoundError) as error:
        raise fail(str(error)) from None
    origin = "the round's options" if saved else "the default options (the round saved none)"
    console.print(
        f"Replayed with {origin}, unless given: time limit {options.time_limit_s:g} s, "
        f"gap {options.gap:g}, objective {'import' if options.price_per_kwh is None else 'price'}, "
        f"peak tolerance {options.peak_tolerance:g}",
        highlight=False,
    )
    print_summary(result.plan, result.stats)
    if result.saved is None:
        console.print("No saved plan beside the scenario to compare with.")
        return
    console.print(
        f"Saved plan: import {result.saved.import_wh / 1000:,.2f} kWh; replay: "
        f"{result.plan.import_wh / 1000:,.2f} kWh "
        f"({(result.plan.import_wh - result.saved.import_wh) / 1000:+,.2f} kWh); "
        f"{len(result.changed_ids)} of {len(result.plan.devices)} devices with other decisions"
        + (f": {', '.join(map(str, sorted(result.changed_ids)))}" if result.changed_ids else ""),
        highlight=False,
    )


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
    solver = plan.solver
    gap = "n/a" if solver.gap is None else f"{solver.gap:.2e}"
    if solver.objective == "price":
        bound_text = f"cost {solver.cost:,.2f}, lower bound {solver.lower_bound_cost:,.2f}"
    elif solver.lower_bound_wh is None:
        bound_text = "lower bound n/a"
    else:
        bound_text = f"lower bound {solver.lower_bound_wh / 1000:,.2f} kWh"
    peak = "" if plan.peak_import_w is None else f"; peak {plan.peak_import_w / 1000:,.2f} kW"
    console.print(
        f"Import with EMS: {plan.import_wh / 1000:,.2f} kWh; without EMS: "
        f"{plan.import_wh_asap / 1000:,.2f} kWh; saved {saved / 1000:,.2f} kWh{share}{peak}\n"
        f"Solver: {solver.status}, {bound_text}, gap {gap}, "
        f"solve {stats.solve_ms:,.0f} ms, "
        f"model build {stats.build_ms:,.0f} ms ({stats.n_vars:,} variables, "
        f"{stats.n_rows:,} rows, {stats.n_nonzeros:,} non-zeros)",
        highlight=False,
    )
    print_savings(plan)


def print_savings(plan: Plan) -> None:
    """Where the import avoided comes from, by device type, then in plain words."""
    savings = plan.savings
    if savings is None:
        return
    from elfe_ems.planner.savings import savings_sentences, two_decimals  # noqa: PLC0415

    table = Table(title="Import avoided, explained")
    for column in ("type", "shifted kWh", "not used kWh", "avoided kWh", "band missed K·h"):
        table.add_column(column, justify="left" if column == "type" else "right")
    for part in savings.by_type:
        miss = "" if part.band_miss_kh is None else two_decimals(part.band_miss_kh)
        table.add_row(
            part.type,
            *(two_decimals(wh / 1000) for wh in (part.shifted_wh, part.not_used_wh,
              part.import_avoided_wh)),
            miss,
        )  # fmt: skip
    table.add_section()
    table.add_row(
        "all",
        *(two_decimals(wh / 1000) for wh in (savings.shifted_wh, savings.not_used_wh,
          savings.import_avoided_wh)),
        "",
        style="bold",
    )  # fmt: skip
    console.print(table)
    for line in savings_sentences(savings, plan.import_wh_asap):
        console.print(f"  {line}", highlight=False)


def print_accounting(accounting: Accounting | None) -> None:
    """Every device of the coordination database: planned, relaxed or left out, by reason."""
    if accounting is None:
        return
    from elfe_ems.round.accounting import Outcome  # noqa: PLC0415

    problems = {d.device_id for d in accounting.problems}
    table = Table(title=f"Every device of the coordination database ({len(accounting.devices)})")
    for column in ("outcome", "reason", "devices", "ids"):
        table.add_column(column, justify="right" if column == "devices" else "left")
    table.add_row("planned as asked", "", str(len(accounting.of(Outcome.PLANNED))), "")
    for outcome in (Outcome.RELAXED, Outcome.LEFT_OUT):
        for reason, ids in accounting.by_reason(outcome).items():
            shown = ", ".join(map(str, ids[:8])) + (", …" if len(ids) > 8 else "")
            style = "yellow" if problems.intersection(ids) else ""
            table.add_row(str(outcome), escape(reason), str(len(ids)), shown, style=style)
    console.print(table)


def print_freshness(freshness: list[Freshness]) -> None:
    """How fresh each input of the round was: fresh, stale or missing, with its age."""
    if not freshness:
        return
    styles = {State.FRESH: "green", State.STALE: "yellow", State.MISSING: "bold red"}
    table = Table(title="Inputs of the round")
    for column in ("input", "state", "age", "stale after", "horizon covered"):
        table.add_column(column, justify="left" if column in ("input", "state") else "right")
    for source in freshness:
        covered = "" if source.coverage is None else f"{source.coverage:.0%}"
        age = "—" if source.age_s is None else age_text(max(source.age_s, 0))
        state = f"[{styles[source.state]}]{source.state}[/]"
        table.add_row(source.name, state, age, age_text(source.limit_s), covered)
    console.print(table)
