"""Planner benchmark: time, peak memory and plan quality per community size.

Usage::

    python bench/bench_planner.py [--sizes NAME ...] [--time-limit S] [--gap G] [--seed N]
                                  [--repeat N] [--json]

Each size runs in a fresh Python process, which generates its community
(:func:`elfe_ems.synthetic.community_scenario`, seeded) and plans it with
:func:`elfe_ems.planner.solve`. Peak memory is that process's peak resident set size
(``getrusage(RUSAGE_SELF).ru_maxrss`` read at its end): everything the round needs (the
interpreter, the libraries, the scenario, the model and HiGHS's own C++ allocations, which
``tracemalloc`` would not see), and nothing left over from another size. ``total`` is the wall
time of the ``solve`` call (model build, search and plan decoding) and ``CPU`` its processor
time (all threads; less sensitive than wall time to other loads on the machine); scenario
generation is timed apart. With ``--repeat N`` each size runs N times and the run of median
total time is shown. Prints a Markdown table, then whether each goal is met (by the slowest
run)."""

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
from zoneinfo import ZoneInfo

ROUND_DAY = {"winter": "2025-01-15", "summer": "2025-07-02"}  # two Wednesdays
ROUND_HOUR = "08:00"  # local: the horizon holds a midday, an evening and a night


@dataclass(frozen=True)
class Case:
    """One community to plan, and the goal it must meet (if any)."""

    season: str
    counts: dict[str, int] = field(default_factory=dict)
    homes: int | None = None
    goal_s: float | None = None
    goal_mb: float | None = None


MIXED_10K = {"machines": 4000, "water_heaters": 4000, "evs": 2000}
CASES = {
    "20-homes-winter": Case("winter", homes=20),
    "200-homes-summer": Case("summer", homes=200),
    "200-homes-winter": Case("winter", homes=200),
    "3000-machines-summer": Case("summer", {"machines": 3000}, goal_s=2, goal_mb=400),
    "3000-machines-winter": Case("winter", {"machines": 3000}, goal_s=2, goal_mb=400),
    "10000-mixed-summer": Case("summer", MIXED_10K, goal_s=20, goal_mb=1536),
    "10000-mixed-winter": Case("winter", MIXED_10K, goal_s=20, goal_mb=1536),
    "100-thermostatic-winter": Case("winter", {"thermostatic_heaters": 100}),
    "1000-pilot-wire-winter": Case("winter", {"pilot_wire_heaters": 1000}),
}

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


def run_case(name: str, time_limit_s: float, gap: float, seed: int) -> dict:
    """Generate and plan one case in this process; its figures as a JSON-ready dict."""
    from elfe_ems.planner import SolveOptions, solve  # noqa: PLC0415 - timed apart
    from elfe_ems.synthetic import community_scenario  # noqa: PLC0415

    case = CASES[name]
    began = time.perf_counter()
    scenario = community_scenario(
        case.homes,
        **case.counts,
        season=case.season,
        round_start=round_start(case.season),
        seed=seed,
    )
    generated = time.perf_counter()
    rss_before_mb = peak_rss_mb()
    cpu_before = time.process_time()
    plan, stats = solve(scenario, SolveOptions(time_limit_s=time_limit_s, gap=gap))
    solved = time.perf_counter()
    cpu_s = time.process_time() - cpu_before
    types = Counter(d.type for d in scenario.devices)
    return {
        "case": name,
        "devices": len(scenario.devices),
        "types": dict(types),
        "generate_s": generated - began,
        "build_s": stats.build_ms / 1000,
        "solve_s": stats.solve_ms / 1000,
        "total_s": solved - generated,
        "cpu_s": cpu_s,
        "rss_before_solve_mb": rss_before_mb,
        "peak_mb": peak_rss_mb(),
        "vars": stats.n_vars,
        "rows": stats.n_rows,
        "nonzeros": stats.n_nonzeros,
        "import_kwh": plan.import_wh / 1000,
        "asap_kwh": plan.import_wh_asap / 1000,
        "status": plan.solver.status,
        "gap": plan.solver.gap,
        "warned": sum(bool(d.warnings) for d in plan.devices),
        "skipped": sum(d.status == "skipped" for d in plan.devices),
    }


def run_in_fresh_process(name: str, args: argparse.Namespace) -> dict:
    """Run one case in a new interpreter, so that its peak memory is its own."""
    command = [sys.executable, __file__, "--child", name, "--time-limit", str(args.time_limit)]
    command += ["--gap", str(args.gap), "--seed", str(args.seed)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def run_repeated(name: str, args: argparse.Namespace) -> dict:
    """The run of median total time among ``args.repeat`` fresh runs, with the slowest
    total and the highest peak memory of all of them."""
    runs = sorted((run_in_fresh_process(name, args) for _ in range(args.repeat)), key=_total)
    return runs[len(runs) // 2] | {
        "runs": len(runs),
        "slowest_total_s": runs[-1]["total_s"],
        "highest_peak_mb": max(run["peak_mb"] for run in runs),
    }


def _total(result: dict) -> float:
    return result["total_s"]


def table_row(result: dict) -> list[str]:
    """One Markdown table row of a case's figures."""
    saved = 1 - result["import_kwh"] / result["asap_kwh"] if result["asap_kwh"] else 0.0
    gap = "n/a" if result["gap"] is None else f"{result['gap']:.1e}"
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
        f"{result['asap_kwh']:,.1f}",
        f"{saved:.1%}",
        result["status"],
        gap,
        f"{result['warned']}",
    ]


def goal_line(result: dict) -> str | None:
    """Whether the case meets its time and memory goals, or None when it has none."""
    case = CASES[result["case"]]
    if case.goal_s is None or case.goal_mb is None:
        return None
    slowest_s, highest_mb = result["slowest_total_s"], result["highest_peak_mb"]
    met = slowest_s < case.goal_s and highest_mb < case.goal_mb
    return (
        f"{result['case']}: {result['total_s']:.2f} s median, {slowest_s:.2f} s slowest of "
        f"{result['runs']} (goal < {case.goal_s:g} s); {highest_mb:.0f} MB peak "
        f"(goal < {case.goal_mb:g} MB): " + ("met" if met else "NOT met")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--time-limit", type=float, default=60.0, help="[s] (default 60)")
    parser.add_argument("--gap", type=float, default=1e-4, help="relative MIP gap (1e-4)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (median shown)")
    parser.add_argument("--json", action="store_true", help="also print each result as JSON")
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child, args.time_limit, args.gap, args.seed)))
        return

    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    results = []
    for name in args.sizes:
        result = run_repeated(name, args)
        results.append(result)
        print("| " + " | ".join(table_row(result)) + " |", flush=True)
    print()
    for line in filter(None, map(goal_line, results)):
        print(line)
    if args.json:
        for result in results:
            print(json.dumps(result))


if __name__ == "__main__":
    main()
