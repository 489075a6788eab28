"""Planner benchmark: time, peak memory and plan quality per community size.

Usage::

    python bench/bench_planner.py [--sizes NAME ...] [--time-limit S] [--gap G] [--seed N]
                                  [--repeat N] [--no-plain] [--objective import|price]
                                  [--peak-tolerance T] [--objectives] [--json]

Each size runs in a fresh Python process, which generates its community
(:func:`elfe_ems.sim.synthetic.community_scenario`, seeded; or reads a fixed scenario file of
``bench/``, such as the round of ``ems demo``) and plans it with
:func:`elfe_ems.planner.core.solve`. Peak memory is that process's peak resident set size
(``getrusage(RUSAGE_SELF).ru_maxrss`` read at its end): everything the round needs (the
interpreter, the libraries, the scenario, the model and HiGHS's own C++ allocations, which
``tracemalloc`` would not see), and nothing left over from another size. ``total`` is the wall
time of the ``solve`` call (model build, search and plan decoding) and ``CPU`` its processor
time (all threads; less sensitive than wall time to other loads on the machine); scenario
generation is timed apart. With ``--repeat N`` each size runs N times and the run of median
total time is shown. The quality goals (a gap to reach within a time) run with their own time
limit and gap option, and once more with the plain MILP (:mod:`plain_milp`, HiGHS alone on
the full model, same limits) in a fresh process. Prints a Markdown table, the comparison with
the plain MILP, then whether each goal is met (by the slowest run and the largest gap).
Sizes are planned for the import alone (``--peak-tolerance 0``, as the plain MILP) unless
told otherwise; ``--objectives`` plans each size for the import, the import then the peak
(0.1 %) and the price (the configuration's default tariff), and shows the import, the peak
and the cost of each."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from elfe_ems.planner.core import SolveStats
    from elfe_ems.planner.scenario import Plan
    from elfe_ems.round.tariff import Tariff

ROUND_DAY = {"winter": "2025-01-15", "summer": "2025-07-02"}  # two Wednesdays
ROUND_HOUR = "08:00"  # local: the horizon holds a midday, an evening and a night


@dataclass(frozen=True)
class Case:
    """One community to plan, and the goal it must meet (if any).

    A case with ``goal_gap`` is a quality goal: it is planned with the time limit ``goal_s``
    and the gap option ``goal_gap`` (unless the command line sets them), must end within
    ``goal_gap`` of its lower bound before ``goal_s``, and is also solved by the plain MILP.
    ``limit_s`` is its time limit when not ``goal_s``. A case with ``scenario_file`` (in
    ``bench/``) plans that scenario instead of a generated one (``season`` then only names it).
    """

    season: str
    counts: dict[str, int] = field(default_factory=dict)
    homes: int | None = None
    goal_s: float | None = None
    goal_mb: float | None = None
    goal_gap: float | None = None
    limit_s: float | None = None
    scenario_file: str | None = None


MIXED_10K = {"machines": 4000, "water_heaters": 4000, "evs": 2000}
CASES = {
    "20-homes-winter": Case("winter", homes=20),
    "200-homes-summer": Case("summer", homes=200),
    "200-homes-winter": Case("winter", homes=200),
    "3000-machines-summer": Case("summer", {"machines": 3000}, goal_s=2, goal_mb=400),
    "3000-machines-winter": Case("winter", {"machines": 3000}, goal_s=2, goal_mb=400),
    "10000-mixed-summer": Case("summer", MIXED_10K, goal_s=20, goal_mb=1536),
    "10000-mixed-winter": Case("winter", MIXED_10K, goal_s=20, goal_mb=1536),
    "100-thermostatic-winter": Case(
        "winter", {"thermostatic_heaters": 100}, goal_s=10, goal_gap=0.01
    ),
    "500-thermostatic-winter": Case(
        "winter", {"thermostatic_heaters": 500}, goal_s=60, goal_gap=0.02
    ),
    "1000-pilot-wire-winter": Case(
        "winter", {"pilot_wire_heaters": 1000}, goal_s=20, goal_gap=0.01
    ),
    "2000-homes-winter": Case("winter", homes=2000, goal_s=60, goal_gap=0.01),
    # the round of `ems demo` (200 homes, 35 thermostatic heaters), saved by the round (the
    # demo builds it from simulated measurements, the store and the forecasting jobs), at the
    # demo's time limit
    "demo-200-homes": Case(
        "winter",
        goal_s=10,
        goal_gap=1e-4,
        limit_s=20,
        scenario_file="demo-200-homes.scenario.json",
    ),
}
QUALITY_GOALS = [name for name, case in CASES.items() if case.goal_gap is not None]
DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_GAP = 1e-4

COLUMNS = (
    "case",
    "devices",
    "generate s",
    "build s",
    "solve s",
    "total s",
    "CPU s",
    "peak MB",
    "vars",
    "rows",
    "non-zeros",
    "import kWh",
    "bound kWh",
    "no EMS kWh",
    "saved",
    "status",
    "gap",
    "warned",
)


def round_start(season: str) -> int:
    """The benchmark round's start [Unix s]: 08:00 Europe/Paris on a weekday of the season."""
    local = datetime.fromisoformat(f"{ROUND_DAY[season]}T{ROUND_HOUR}")
    return int(local.replace(tzinfo=ZoneInfo("Europe/Paris")).timestamp())


def peak_rss_mb() -> float:
    """This process's peak resident set size so far [MiB] (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(name: str, args: argparse.Namespace) -> dict:
    """Generate and plan one case in this process (with the plain MILP if ``args.plain``); its
    figures as a JSON-ready dict."""
    from elfe_ems.planner.core import solve  # noqa: PLC0415 - timed apart
    from elfe_ems.planner.scenario import read_scenario  # noqa: PLC0415
    from elfe_ems.round.tariff import solve_options  # noqa: PLC0415
    from elfe_ems.sim.synthetic import community_scenario  # noqa: PLC0415
    from elfe_ems.timegrid import Grid  # noqa: PLC0415
    from plain_milp import solve_plain  # noqa: PLC0415

    time_limit_s, gap, seed, plain = args.time_limit, args.gap, args.seed, args.plain

    case = CASES[name]
    began = time.perf_counter()
    if case.scenario_file is not None:
        scenario = read_scenario(Path(__file__).with_name(case.scenario_file))
    else:
        scenario = community_scenario(
            case.homes,
            **case.counts,
            season=case.season,
            round_start=round_start(case.season),
            seed=seed,
        )
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    options = solve_options(time_limit_s, gap, grid, args.objective, tariff(), args.peak_tolerance)
    prices = tariff().prices(grid)
    generated = time.perf_counter()  # the scenario and the options
    rss_before_mb = peak_rss_mb()
    cpu_before = time.process_time()
    types = Counter(d.type for d in scenario.devices)
    common = {
        "case": name,
        "method": "plain" if plain else "planner",
        "devices": len(scenario.devices),
        "types": dict(types),
        "time_limit_s": time_limit_s,
        "gap_option": gap,
        "objective": args.objective,
        "peak_tolerance": args.peak_tolerance,
        "generate_s": generated - began,
        "rss_before_solve_mb": rss_before_mb,
    }
    if plain:
        figures = solve_plain(scenario, time_limit_s, gap)
        solved = time.perf_counter()
        return (
            common
            | figures
            | {
                "total_s": solved - generated,
                "cpu_s": time.process_time() - cpu_before,
                "peak_mb": peak_rss_mb(),
            }
        )
    grid = Grid(scenario.round_start, scenario.step_s, scenario.steps)
    options = solve_options(time_limit_s, gap, grid, args.objective, tariff(), args.peak_tolerance)
    plan, stats = solve(scenario, options)
    solved = time.perf_counter()
    import_w = [max(0.0, w) for w in plan.net_load_with_flexible_w]
    return (
        common
        | {
            "peak_import_kw": (plan.peak_import_w or 0.0) / 1000,
            "cost": sum(w * p for w, p in zip(import_w, prices, strict=True)) * grid.step_h / 1000,
            "total_s": solved - generated,
            "cpu_s": time.process_time() - cpu_before,
            "peak_mb": peak_rss_mb(),
        }
        | plan_figures(plan, stats)
    )


def plan_figures(plan: Plan, stats: SolveStats) -> dict:
    """What a plan and its solve statistics say, for a benchmark's record (also
    ``bench_untidy.py``'s)."""
    bound_wh = plan.solver.lower_bound_wh
    return {
        "build_s": stats.build_ms / 1000,
        "solve_s": stats.solve_ms / 1000,
        "vars": stats.n_vars,
        "rows": stats.n_rows,
        "nonzeros": stats.n_nonzeros,
        "import_kwh": plan.import_wh / 1000,
        "asap_kwh": plan.import_wh_asap / 1000,
        "bound_kwh": None if bound_wh is None else bound_wh / 1000,
        "status": plan.solver.status,
        "gap": plan.solver.gap,
        "warned": sum(bool(d.warnings) for d in plan.devices),
        "skipped": sum(d.status == "skipped" for d in plan.devices),
    }


def tariff() -> Tariff:
    """The configuration's default tariff (peak / off-peak 22:00-06:00 in Paris)."""
    from elfe_ems.config import Settings  # noqa: PLC0415 - imported in the child only
    from elfe_ems.round.tariff import Tariff  # noqa: PLC0415

    defaults = {
        key: field.default
        for key, field in Settings.model_fields.items()
        if key.startswith("tariff_")
    }
    return Tariff(
        defaults["tariff_peak_price"],
        defaults["tariff_off_peak_price"],
        defaults["tariff_off_peak_windows"],
        ZoneInfo("Europe/Paris"),
    )


def options_of(name: str, args: argparse.Namespace) -> tuple[float, float]:
    """Time limit [s] and gap option of a case: the command line's, else the case's own limit
    or goal, else the planner's defaults."""
    case = CASES[name]
    quality = case.goal_gap is not None
    time_limit_s = args.time_limit or case.limit_s or (case.goal_s if quality else None)
    time_limit_s = time_limit_s or DEFAULT_TIME_LIMIT_S
    gap = args.gap if args.gap is not None else (case.goal_gap if quality else DEFAULT_GAP)
    return float(time_limit_s), float(gap)


def run_in_fresh_process(
    name: str,
    args: argparse.Namespace,
    plain: bool = False,
    objective: str | None = None,
    peak_tolerance: float | None = None,
) -> dict:
    """Run one case in a new interpreter, so that its peak memory is its own (objective and
    peak tolerance: the command line's unless given)."""
    time_limit_s, gap = options_of(name, args)
    command = [sys.executable, __file__, "--child", name, "--time-limit", str(time_limit_s)]
    command += ["--gap", str(gap), "--seed", str(args.seed)] + (["--plain"] if plain else [])
    command += ["--objective", objective or args.objective]
    command += [
        "--peak-tolerance",
        str(args.peak_tolerance if peak_tolerance is None else peak_tolerance),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def run_repeated(name: str, args: argparse.Namespace, plain: bool = False) -> dict:
    """The run of median total time among ``args.repeat`` fresh runs, with the slowest
    total, the largest gap and the highest peak memory of all of them."""
    runs = sorted((run_in_fresh_process(name, args, plain) for _ in range(args.repeat)), key=_total)
    return runs[len(runs) // 2] | {
        "runs": len(runs),
        "fastest_total_s": runs[0]["total_s"],
        "slowest_total_s": runs[-1]["total_s"],
        "largest_gap": max((run["gap"] for run in runs if run["gap"] is not None), default=None),
        "highest_peak_mb": max(run["peak_mb"] for run in runs),
    }


def _total(result: dict) -> float:
    return result["total_s"]


def _gap_text(gap: float | None) -> str:
    return "n/a" if gap is None else f"{gap:.1e}"


def table_row(result: dict) -> list[str]:
    """One Markdown table row of a case's figures."""
    saved = 1 - result["import_kwh"] / result["asap_kwh"] if result["asap_kwh"] else 0.0
    bound = "n/a" if result["bound_kwh"] is None else f"{result['bound_kwh']:,.1f}"
    return [
        result["case"],
        f"{result['devices']:,}",
        f"{result['generate_s']:.2f}",
        f"{result['build_s']:.2f}",
        f"{result['solve_s']:.2f}",
        f"{result['total_s']:.2f}",
        f"{result['cpu_s']:.2f}",
        f"{result['peak_mb']:.0f}",
        f"{result['vars']:,}",
        f"{result['rows']:,}",
        f"{result['nonzeros']:,}",
        f"{result['import_kwh']:,.1f}",
        bound,
        f"{result['asap_kwh']:,.1f}",
        f"{saved:.1%}",
        result["status"],
        _gap_text(result["gap"]),
        f"{result['warned']}",
    ]


COMPARISON_COLUMNS = (
    "case",
    "limit s, gap option",
    "planner s (runs)",
    "planner import kWh",
    "planner bound kWh",
    "planner gap",
    "plain s",
    "plain import kWh",
    "plain bound kWh",
    "plain gap",
    "import ratio",
    "gap ratio",
)


def comparison_row(planner: dict, plain: dict) -> list[str]:
    """The planner against the plain MILP on one case: the ratios are plain / planner."""
    gap_ratio = (
        "n/a"
        if not planner["gap"] or plain["gap"] is None
        else f"{plain['gap'] / planner['gap']:,.0f}"
    )
    return [
        planner["case"],
        f"{planner['time_limit_s']:g}, {planner['gap_option']:g}",
        f"{planner['total_s']:.2f} ({planner['fastest_total_s']:.2f}-"
        f"{planner['slowest_total_s']:.2f}, {planner['runs']})",
        f"{planner['import_kwh']:,.1f}",
        f"{planner['bound_kwh']:,.1f}",
        _gap_text(planner["gap"]),
        f"{plain['total_s']:.2f}",
        f"{plain['import_kwh']:,.1f}",
        f"{plain['bound_kwh']:,.1f}",
        _gap_text(plain["gap"]),
        f"{plain['import_kwh'] / planner['import_kwh']:.4f}",
        gap_ratio,
    ]


OBJECTIVES = (("import", 0.0), ("import", 0.001), ("price", 0.0))
OBJECTIVE_COLUMNS = (
    "case",
    "objective",
    "peak tolerance",
    "total s",
    "import kWh",
    "peak import kW",
    "cost",
    "gap",
)


def compare_objectives(args: argparse.Namespace) -> None:
    """Each size with each of :data:`OBJECTIVES`: what each does to import, peak and cost
    (the cost at the default tariff, whatever the objective)."""
    print("| " + " | ".join(OBJECTIVE_COLUMNS) + " |")
    print("|" + "---|" * len(OBJECTIVE_COLUMNS))
    for name in args.sizes:
        for objective, tolerance in OBJECTIVES:
            result = run_in_fresh_process(name, args, False, objective, tolerance)
            row = [
                name,
                objective,
                f"{tolerance:g}",
                f"{result['total_s']:.2f}",
                f"{result['import_kwh']:,.1f}",
                f"{result['peak_import_kw']:,.1f}",
                f"{result['cost']:,.2f}",
                _gap_text(result["gap"]),
            ]
            print("| " + " | ".join(row) + " |", flush=True)


def goal_line(result: dict) -> str | None:
    """Whether the case meets its goals (time, and memory or gap), or None without goals."""
    case = CASES[result["case"]]
    if case.goal_s is None:
        return None
    slowest_s = result["slowest_total_s"]
    checks = [slowest_s < case.goal_s]
    text = f"{result['case']}: {result['total_s']:.2f} s median, {slowest_s:.2f} s slowest of "
    text += f"{result['runs']} (goal < {case.goal_s:g} s)"
    if case.goal_mb is not None:
        checks.append(result["highest_peak_mb"] < case.goal_mb)
        text += f"; {result['highest_peak_mb']:.0f} MB peak (goal < {case.goal_mb:g} MB)"
    if case.goal_gap is not None:
        largest = result["largest_gap"]
        checks.append(largest is not None and largest <= case.goal_gap)
        text += f"; largest gap {_gap_text(largest)} (goal <= {case.goal_gap:g})"
    return text + (": met" if all(checks) else ": NOT met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--time-limit", type=float, help="[s] (default: the goal's time, else 60)")
    parser.add_argument("--gap", type=float, help="relative gap (default: the goal's, else 1e-4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (median shown)")
    parser.add_argument(
        "--no-plain", action="store_true", help="skip the plain MILP of the quality goals"
    )
    parser.add_argument(
        "--objective", choices=["import", "price"], default="import", help="(default import)"
    )
    parser.add_argument(
        "--peak-tolerance",
        type=float,
        default=0.0,
        help="peak stage tolerance (default 0: the import alone, as the plain MILP)",
    )
    parser.add_argument(
        "--objectives",
        action="store_true",
        help="instead: each size with the import, import then peak (0.1 %%), and the price",
    )
    parser.add_argument("--json", action="store_true", help="also print each result as JSON")
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child, args)))
        return
    if args.objectives:
        compare_objectives(args)
        return

    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    results, comparisons = [], []
    for name in args.sizes:
        result = run_repeated(name, args)
        results.append(result)
        print("| " + " | ".join(table_row(result)) + " |", flush=True)
        if name in QUALITY_GOALS and not args.no_plain:
            comparisons.append((result, run_in_fresh_process(name, args, plain=True)))
    if comparisons:
        print("\n| " + " | ".join(COMPARISON_COLUMNS) + " |")
        print("|" + "---|" * len(COMPARISON_COLUMNS))
        for planner, plain in comparisons:
            print("| " + " | ".join(comparison_row(planner, plain)) + " |")
    print()
    for line in filter(None, map(goal_line, results)):
        print(line)
    if args.json:
        for result in results + [plain for _, plain in comparisons]:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
