"""Untidy benchmark: distributions of solve time and gap over seeded, realistic rounds.

Usage::

    python bench/bench_untidy.py [--sizes N ...] [--variants V ...] [--seed N] [--no-plain]
                                 [--jobs N] [--out FILE.jsonl] [--list]
    python bench/bench_untidy.py --summary FILE.jsonl

The cases (:mod:`untidy_cases`: a variant of a seeded community under the weather of Rennes,
a local date and hour) form a matrix drawn from ``--seed`` (:func:`matrix`): ``base`` at 20,
100 and 300 homes on 12 dates (one a month, day, hour and community seed drawn); every other
variant at 20, 100 and 300 homes on 2 dates (a winter and a summer one; two winter ones for
``cold-start``, two July ones for ``summer-heaters``); ``one-type:<type>`` at 300 homes on a
January date; 1,000 homes on 4 dates (January, April, July, October) and ``cold-start`` on a
January one; 10,000 homes in January and July. The same seed gives the same matrix, and the
size and variant filters keep the cases they select as they are.

Each run is a fresh Python process (as ``bench_planner.py``), so that its peak resident set
size is its own: the planner's run generates the case, plans it with
:func:`elfe_ems.planner.core.solve` (the import alone, ``peak_tolerance`` 0, the gap option
of the size's goal: 1e-4 up to 300 homes, 1e-3 above; a time limit of 10 s up to 300 homes,
20 s for 1,000 and 60 s for 10,000), then checks every
device's plan with the independent oracle of ``tests/oracle.py`` (after the peak memory is
read). The plain HiGHS baseline (:func:`plain_milp.solve_plain`: the full MILP, the same
scenario, time limit and gap option) runs in a process of its own. ``--jobs N`` runs N
processes at once: faster, but they share the cores, which distorts the times (the default,
1, is the one to quote).

Every run's figures go to ``--out`` as one JSON line each; ``--summary FILE`` reads such a file
and prints Markdown: one row per size, then per variant and size, with the nearest-rank
percentiles (p50, p95) and the worst of the solve time and the gap, and the runs that miss the
goals (up to 300 homes: 3 s, gap 1e-4; 1,000 homes: 10 s, gap 1e-3; 10,000 homes: 60 s, 4 GiB,
gap 1e-3), the time being the whole ``solve`` call (``total_s``: the models' preparation and
the search, as the goals of ``bench_planner.py``).
"""

from __future__ import annotations

import argparse
import calendar
import importlib
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench_planner import peak_rss_mb, plan_figures
from untidy_cases import DEVICE_TYPES, VARIANT_NAMES, UntidyCase, build

if TYPE_CHECKING:
    from elfe_ems.planner.scenario import Plan, Scenario

Record = dict[str, Any]

YEAR = 2025
HOURS = (6, 8, 13, 18, 23)  # local hours of the round starts
SIZES = (20, 100, 300)
MONTHS = {"winter": (11, 12, 1, 2), "summer": (6, 7, 8), "july": (7,)}
VARIANTS = (
    "cold-start",
    "summer-heaters",
    "tight-ev",
    "long-cycles",
    "huge-surplus",
    "zero-flex",
    "forecast-hole",
)
VARIANT_DATES = {"cold-start": ("winter", "winter"), "summer-heaters": ("july", "july")}
MATRIX_STREAM = 20_260_315  # the matrix's draws, apart from the communities' own
ASAP_TOL_WH = 1e-3  # as tests/planner/test_properties.py: HiGHS's tolerances
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Goal:
    """What a run must reach: the solve call within ``time_s``, a gap within ``gap`` and
    (if set) a peak resident set size within ``mb``."""

    time_s: float
    gap: float
    mb: float | None = None


def time_limit_s(homes: int) -> float:
    """The planner's (and the plain MILP's) time limit for a community size [s]."""
    return 10.0 if homes <= 300 else 20.0 if homes <= 1000 else 60.0


def goal_of(homes: int) -> Goal:
    """The goal of a community size."""
    if homes <= 300:
        return Goal(3.0, 1e-4)
    return Goal(10.0, 1e-3) if homes <= 1000 else Goal(60.0, 1e-3, 4096.0)


# -------------------------------------------------------------------------------- matrix


def _draw(rng: np.random.Generator, months: tuple[int, ...]) -> tuple[date, int, int]:
    """A date in one of ``months`` of :data:`YEAR`, a local hour and a community seed."""
    month = int(rng.choice(months))
    day = int(rng.integers(1, calendar.monthrange(YEAR, month)[1] + 1))
    return date(YEAR, month, day), int(rng.choice(HOURS)), int(rng.integers(1, 10_000))


def _distinct_draws(
    rng: np.random.Generator, kinds: tuple[str, ...]
) -> list[tuple[date, int, int]]:
    """One draw per kind of date (:data:`MONTHS`), drawn again while it falls on the date and
    hour of an earlier one."""
    draws: list[tuple[date, int, int]] = []
    for kind in kinds:
        draw = _draw(rng, MONTHS[kind])
        while any(draw[:2] == earlier[:2] for earlier in draws):
            draw = _draw(rng, MONTHS[kind])
        draws.append(draw)
    return draws


def matrix(seed: int) -> list[UntidyCase]:
    """Every case of the benchmark (see the module docstring), drawn in a fixed order."""
    rng = np.random.default_rng([seed, MATRIX_STREAM])
    base_dates = [_draw(rng, (month,)) for month in range(1, 13)]
    cases = [UntidyCase("base", homes, *d) for d in base_dates for homes in SIZES]
    for variant in VARIANTS:
        dates = _distinct_draws(rng, VARIANT_DATES.get(variant, ("winter", "summer")))
        cases += [UntidyCase(variant, homes, *d) for d in dates for homes in SIZES]
    january = _draw(rng, (1,))
    cases += [UntidyCase(f"one-type:{kind}", 300, *january) for kind in DEVICE_TYPES]
    cases += [UntidyCase("base", 1000, *_draw(rng, (month,))) for month in (1, 4, 7, 10)]
    cases.append(UntidyCase("cold-start", 1000, *_draw(rng, (1,))))
    cases += [UntidyCase("base", 10_000, *_draw(rng, (month,))) for month in (1, 7)]
    return cases


def selected(
    cases: list[UntidyCase], sizes: list[int] | None, variants: list[str] | None
) -> list[UntidyCase]:
    """The cases of the sizes and variants asked (``one-type`` selects every ``one-type:*``)."""
    return [
        case
        for case in cases
        if (sizes is None or case.homes in sizes)
        and (variants is None or {case.variant, case.variant.partition(":")[0]} & set(variants))
    ]


# ------------------------------------------------------------------- one run (the child)


def _common(case: UntidyCase, method: str, limit_s: float, gap: float) -> Record:
    return {
        "case": case.name,
        **case.to_json(),
        "method": method,
        "round_start": case.round_start,
        "season": case.season,
        "time_limit_s": limit_s,
        "gap_option": gap,
    }


def _generated(case: UntidyCase) -> tuple[Scenario, Record]:
    """The case's scenario, and its size and generation time."""
    began = time.perf_counter()
    scenario = build(case)
    return scenario, {
        "devices": len(scenario.devices),
        "types": dict(Counter(d.type for d in scenario.devices)),
        "generate_s": time.perf_counter() - began,
    }


def run_planner(case: UntidyCase, limit_s: float, gap: float) -> Record:
    """Generate and plan one case in this process, and check its plan with the oracle."""
    from elfe_ems.planner.core import SolveOptions, solve  # noqa: PLC0415 - the child only

    scenario, generated = _generated(case)
    began, cpu = time.perf_counter(), time.process_time()
    plan, stats = solve(scenario, SolveOptions(time_limit_s=limit_s, gap=gap, peak_tolerance=0))
    total_s, cpu_s, peak_mb = time.perf_counter() - began, time.process_time() - cpu, peak_rss_mb()
    return (
        _common(case, "planner", limit_s, gap)
        | generated
        | {"total_s": total_s, "cpu_s": cpu_s, "peak_mb": peak_mb}
        | plan_figures(plan, stats)
        | {"worse_than_asap": plan.import_wh > plan.import_wh_asap * (1 + 1e-9) + ASAP_TOL_WH}
        | oracle_check(scenario, plan)
    )


def oracle_check(scenario: Scenario, plan: Plan) -> Record:
    """The oracle's verdict on a plan: the constraints each device breaks (relaxed for a
    device with warnings, as the property tests), whether it is skipped exactly when it must
    be, and the import it computes from the decisions."""
    sys.path.insert(0, str(ROOT / "tests"))
    oracle = importlib.import_module("oracle")  # tests/oracle.py (tests/ is not a package)

    raw = scenario.model_dump(mode="json")
    invalid, problems = 0, []
    for spec, device in zip(raw["devices"], plan.devices, strict=True):
        found = (
            []
            if device.status == "skipped"
            else oracle.violations(raw, spec, device.decisions, relaxed=bool(device.warnings))
        )
        if (device.status == "skipped") != oracle.must_skip(raw, spec):
            found.append(f"status {device.status}, oracle's skip {oracle.must_skip(raw, spec)}")
        invalid += bool(found)
        problems += [f"device {device.id} ({device.type}): {p}" for p in found]
    decisions = {d.id: None if d.status == "skipped" else d.decisions for d in plan.devices}
    oracle_wh = oracle.plan_import_wh(raw, decisions)
    return {
        "invalid_devices": invalid,
        "violations": len(problems),
        "violation_examples": problems[:5],
        "oracle_import_kwh": oracle_wh / 1000,
        "import_mismatch": abs(oracle_wh - plan.import_wh) > 1e-6 * max(1.0, oracle_wh),
    }


def run_plain(case: UntidyCase, limit_s: float, gap: float) -> Record:
    """Generate one case in this process and solve it with the plain MILP."""
    from plain_milp import solve_plain  # noqa: PLC0415 - the child only

    scenario, generated = _generated(case)
    began = time.perf_counter()
    figures = solve_plain(scenario, limit_s, gap)
    return (
        _common(case, "plain", limit_s, gap)
        | generated
        | figures
        | {"total_s": time.perf_counter() - began, "peak_mb": peak_rss_mb()}
    )


# ------------------------------------------------------------------- the runs (the parent)


def run_in_fresh_process(case: UntidyCase, plain: bool, jobs: int) -> Record:
    """One run in a new interpreter; a failed run is a record with its ``error``."""
    limit_s = time_limit_s(case.homes)
    command = [sys.executable, __file__, "--child", json.dumps(case.to_json())]
    gap = goal_of(case.homes).gap
    command += ["--time-limit", str(limit_s), "--gap", str(gap)] + (["--plain"] if plain else [])
    began = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=4 * limit_s + 600
        )
        lines = done.stdout.splitlines()
        record = json.loads(lines[-1]) if done.returncode == 0 and lines else None
        error = None if record else f"exit {done.returncode}: {done.stderr[-2000:]}"
    except subprocess.TimeoutExpired:
        record, error = None, f"no answer within {4 * limit_s + 600:g} s"
    if record is None:
        method = "plain" if plain else "planner"
        record = _common(case, method, limit_s, gap) | {"error": error}
    return record | {"wall_s": time.perf_counter() - began, "jobs": jobs}


def run_all(cases: list[UntidyCase], plain: bool, jobs: int) -> Iterator[Record]:
    """Every run of ``cases`` (the planner's, then the plain MILP's), as they end."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures: list[Future[Record]] = []
        for case in cases:
            futures.append(pool.submit(run_in_fresh_process, case, False, jobs))
            if plain:
                futures.append(pool.submit(run_in_fresh_process, case, True, jobs))
        for future in as_completed(futures):
            yield future.result()


def progress_line(record: Record, done: int, total: int) -> str:
    """One line per run on stderr, to follow a long run."""
    head = f"[{done}/{total}] {record['method']:7s} {record['case']}"
    if "error" in record:
        return f"{head}: ERROR {record['error'].splitlines()[-1] if record['error'] else ''}"
    text = f"{head}: {record['total_s']:.2f} s, gap {_gap_text(record['gap'])}, {record['status']}"
    if record["method"] == "planner":
        text += f", {record['peak_mb']:.0f} MB, {record['violations']} violations"
    return text


# ---------------------------------------------------------------------------- the summary


def nearest_rank(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of the values
    at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _gap_text(gap: float | None) -> str:
    return "n/a" if gap is None else f"{gap:.1e}"


def _spread(values: list[float], text: Callable[[float], str]) -> str:
    """p50 / p95 / worst (the largest) of ``values``, each shown by ``text``."""
    if not values:
        return "n/a"
    points = (nearest_rank(values, 0.5), nearest_rank(values, 0.95), max(values))
    return " / ".join(text(v) for v in points)


def _seconds(value: float) -> str:
    return f"{value:.2f}"


def _gaps(records: list[Record]) -> list[float]:
    """The gaps of the runs, a run without one counting as 1 (no bound: nothing proven)."""
    return [1.0 if r["gap"] is None else r["gap"] for r in records]


def worse_than_plain(run: Record, plain: Record | None) -> bool:
    return plain is not None and run["import_kwh"] > plain["import_kwh"] * (1 + 1e-6) + 1e-6


SUMMARY_COLUMNS = (
    "group",
    "runs",
    "solve s p50 / p95 / worst",
    "total s p50 / p95 / worst",
    "gap p50 / p95 / worst",
    "optimal",
    "plain gap p50 / p95 / worst",
    "plain optimal",
    "max peak MB",
    "invalid plans",
    "worse than no EMS",
    "worse than plain",
    "errors",
)


def summary_row(group: str, runs: list[Record], plain: dict[str, Record]) -> list[str]:
    """One row of the summary: the planner's runs of a group and their plain MILP runs."""
    ok = [r for r in runs if "error" not in r]
    baselines = [plain[r["case"]] for r in runs if r["case"] in plain]
    plain_ok = [p for p in baselines if "error" not in p]
    return [
        group,
        str(len(runs)),
        _spread([r["solve_s"] for r in ok], _seconds),
        _spread([r["total_s"] for r in ok], _seconds),
        _spread(_gaps(ok), _gap_text),
        str(sum(r["status"] == "optimal" for r in ok)),
        _spread(_gaps(plain_ok), _gap_text) if baselines else "not run",
        str(sum(p["status"] == "optimal" for p in plain_ok)) if baselines else "-",
        f"{max((r['peak_mb'] for r in ok), default=0):.0f}",
        str(sum(bool(r["invalid_devices"] or r["import_mismatch"]) for r in ok)),
        str(sum(r["worse_than_asap"] for r in ok)),
        str(sum(worse_than_plain(r, plain.get(r["case"])) for r in ok)),
        str(len(runs) - len(ok) + len(baselines) - len(plain_ok)),
    ]


def _table(groups: dict[str, list[Record]], plain: dict[str, Record]) -> list[str]:
    lines = ["| " + " | ".join(SUMMARY_COLUMNS) + " |", "|" + "---|" * len(SUMMARY_COLUMNS)]
    for group, runs in groups.items():
        lines.append("| " + " | ".join(summary_row(group, runs, plain)) + " |")
    return lines


def misses(run: Record) -> list[str]:
    """How a planner run misses its size's goal, or breaks a rule (empty: it meets them)."""
    if "error" in run:
        return [f"error: {run['error'].splitlines()[-1] if run['error'] else '?'}"]
    goal, found = goal_of(run["homes"]), []
    if run["total_s"] > goal.time_s:
        found.append(f"{run['total_s']:.2f} s > {goal.time_s:g} s")
    if run["gap"] is None or run["gap"] > goal.gap:
        found.append(f"gap {_gap_text(run['gap'])} > {goal.gap:g} ({run['status']})")
    if goal.mb is not None and run["peak_mb"] > goal.mb:
        found.append(f"{run['peak_mb']:.0f} MB > {goal.mb:g} MB")
    if run["invalid_devices"] or run["import_mismatch"]:
        found.append(
            f"{run['invalid_devices']} invalid device plans ({run['violations']} violations)"
        )
    if run["worse_than_asap"]:
        found.append(f"imports {run['import_kwh']:.3f} kWh > {run['asap_kwh']:.3f} without EMS")
    return found


def _plain_text(plain: Record | None) -> str:
    if plain is None:
        return "plain HiGHS not run"
    if "error" in plain:
        return "plain HiGHS failed"
    return (
        f"plain HiGHS gap {_gap_text(plain['gap'])} ({plain['status']}, {plain['total_s']:.1f} s)"
    )


def summary(records: list[Record]) -> str:
    """The Markdown summary of a benchmark's records."""
    runs = sorted(
        (r for r in records if r["method"] == "planner"), key=lambda r: (r["homes"], r["case"])
    )
    plain = {r["case"]: r for r in records if r["method"] == "plain"}
    by_size: dict[str, list[Record]] = defaultdict(list)
    by_variant: dict[str, list[Record]] = defaultdict(list)
    for run in runs:
        by_size[f"{run['homes']:,} homes"].append(run)
        by_variant[f"{run['variant']}, {run['homes']:,} homes"].append(run)
    jobs = sorted({r.get("jobs", 1) for r in records})
    lines = [
        "Percentiles are nearest-rank; gap: the planner's proven relative gap (none: 1); "
        "total s: the whole solve call (the goals' time); solve s: its search.",
    ]
    if jobs != [1]:
        lines.append(f"Runs were made up to {max(jobs)} at a time (--jobs): times are distorted.")
    lines += ["", "## By size", "", *_table(by_size, plain)]
    lines += ["", "## By variant and size", "", *_table(dict(sorted(by_variant.items())), plain)]
    missed = [(run, found) for run in runs if (found := misses(run))]
    lines += ["", f"## Runs missing the goals ({len(missed)} of {len(runs)})", ""]
    lines += [
        f"- `{run['case']}`: {'; '.join(found)}; {_plain_text(plain.get(run['case']))}"
        for run, found in missed
    ] or ["None."]
    return "\n".join(lines)


def read_records(path: Path) -> list[Record]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ------------------------------------------------------------------------------------ CLI


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        choices=(*SIZES, 1000, 10_000),
        help="homes (default: every size)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=(*VARIANT_NAMES, "one-type"),
        help="variants (default: all; one-type: every one-type:*)",
    )
    parser.add_argument("--seed", type=int, default=1, help="of the matrix (default 1)")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain HiGHS baseline")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at once (default 1; more share the cores and distort the times)",
    )
    parser.add_argument("--out", type=Path, help="write every run as a JSON line to this file")
    parser.add_argument("--summary", type=Path, help="print the Markdown summary of a JSONL file")
    parser.add_argument("--list", action="store_true", help="list the cases selected and stop")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--time-limit", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--gap", type=float, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.child:
        case = UntidyCase.from_json(json.loads(args.child))
        run = run_plain if args.plain else run_planner
        gap = goal_of(case.homes).gap if args.gap is None else args.gap
        print(json.dumps(run(case, args.time_limit or time_limit_s(case.homes), gap)))
        return
    if args.summary:
        print(summary(read_records(args.summary)))
        return
    cases = selected(matrix(args.seed), args.sizes, args.variants)
    if args.list:
        print("\n".join(f"{c.name} (limit {time_limit_s(c.homes):g} s)" for c in cases))
        return
    total = len(cases) * (1 if args.no_plain else 2)
    print(f"{len(cases)} cases, {total} runs, {args.jobs} at a time", file=sys.stderr)
    records = []
    with open(args.out or os.devnull, "w", encoding="utf-8") as out:
        for done, record in enumerate(run_all(cases, not args.no_plain, args.jobs), 1):
            records.append(record)
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(progress_line(record, done, total), file=sys.stderr, flush=True)
    print(summary(records))


if __name__ == "__main__":
    main()
