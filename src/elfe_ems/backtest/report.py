"""The backtest's HTML report: one self-contained page (``report_page``: uPlot and its data
inlined, nothing to load), from ``templates/report.html.j2``.

It gives the figures of each configuration per season and in total, the mean day's net load
of each configuration per season, the forecast error by lead time, the figures of each day and
every broken user constraint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from elfe_ems.backtest.loop import CONFIGS, TaskResult
from elfe_ems.backtest.summary import TOTAL, Figures, captured, skill
from elfe_ems.report_page.charts import Chart, Series, line_chart
from elfe_ems.report_page.render import render_page
from elfe_ems.sim.world import SEASONS, TASK_START_H
from elfe_ems.timegrid import HOUR_S, STEP_S, STEPS

STEP_H = STEP_S / HOUR_S
TICKS_H = range(0, 25, 3)
MISSING = "n/a"
COLOURS = {"none": "#e8710a", "persistence": "#9334e6", "profile": "#1a73e8", "perfect": "#188038"}
LABELS = {
    "none": "without EMS",
    "persistence": "EMS, persistence forecast",
    "profile": "EMS, weather-profile forecast",
    "perfect": "EMS, perfect foresight",
}


@dataclass(frozen=True)
class FiguresRow:
    """A configuration's figures, formatted, around its number of broken constraints."""

    label: str
    before: list[str]
    broken: int
    after: list[str]


@dataclass(frozen=True)
class Group:
    """A season's or the total's section: its figures and, for a season, its mean day."""

    key: str
    name: str
    rows: list[FiguresRow]
    mean_day: Chart | None


def _number(value: float, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value * scale:,.{digits}f}{unit}"


def _hours_chart(
    series: Sequence[Series], y_label: str, x_label: str, tick: Callable[[int], str]
) -> Chart:
    """Per-step values over the 24 h of a day or of a forecast, ``tick(h)`` every 3 h."""
    return line_chart(
        [k * STEP_H for k in range(STEPS)],
        series,
        y_label,
        step=STEP_H,
        x_label=x_label,
        x_ticks=[(h, tick(h)) for h in TICKS_H],
    )


def _figures_rows(by_config: dict[str, Figures]) -> list[FiguresRow]:
    complete = all(c in by_config for c in ("none", "perfect"))
    rows = []
    for config, f in by_config.items():
        energy = f.energy
        share = captured(by_config, config) if complete else float("nan")
        model_skill = skill(f, by_config["persistence"]) if "persistence" in by_config else math.nan
        rounds = f"{np.mean(f.round_s):.2f} / {max(f.round_s):.2f}" if f.round_s else MISSING
        before = [
            _number(energy.import_wh, 1, 1e-3),
            _number(share, 1, 100, " %"),
            _number(energy.self_consumption, 1, 100, " %"),
            _number(energy.self_sufficiency, 1, 100, " %"),
            _number(energy.peak_import_w, 1, 1e-3),
            _number(f.comfort_missed_kh, 2),
            _number(f.hot_water_missing_wh, 1, 1e-3),
        ]
        after = [_number(f.mean_mae_w, 2, 1e-3), _number(model_skill, 1, 100, " %"), rounds]
        rows.append(FiguresRow(LABELS[config], before, f.broken, after))
    return rows


def _mean_day(results: Sequence[TaskResult], season: str) -> Chart | None:
    series = []
    for config in CONFIGS:
        curves = [
            r.net_load_w for r in results if r.task.config == config and r.task.key.season == season
        ]
        if curves:
            series.append(Series(LABELS[config], COLOURS[config], np.mean(curves, axis=0) / 1000))
    if not series:
        return None
    return _hours_chart(
        series,
        "net load kW, above 0 imported",
        f"hours from {TASK_START_H:02d}:00",
        lambda h: f"{(TASK_START_H + h) % 24:02d}:00",
    )


def _mae_chart(total: dict[str, Figures]) -> Chart | None:
    series = [
        Series(LABELS[c], COLOURS[c], mae_w / 1000)
        for c in ("persistence", "profile")
        if c in total and (mae_w := total[c].mae_w) is not None  # named: narrowed to an array
    ]
    if not series:
        return None
    return _hours_chart(series, "MAE kW by lead time", "lead time [h]", lambda h: f"{h} h")


def _days_rows(summary: dict[str, dict[str, Figures]]) -> list[list[str]]:
    """Each day's cells: its name, the import of each configuration, the shares captured and
    the constraints broken."""
    rows = []
    for group, by_config in summary.items():
        if group in (*SEASONS, TOTAL):
            continue
        imports = [
            _number(by_config[c].energy.import_wh, 1, 1e-3) if c in by_config else MISSING
            for c in CONFIGS
        ]
        complete = all(c in by_config for c in CONFIGS)
        shares = (
            f"{_number(captured(by_config, 'persistence'), 1, 100, ' %')} / "
            f"{_number(captured(by_config, 'profile'), 1, 100, ' %')}"
            if complete
            else MISSING
        )
        broken = sum(f.broken for f in by_config.values())
        rows.append([group, *imports, shares, str(broken)])
    return rows


def write_report(
    path: Path,
    results: Sequence[TaskResult],
    summary: dict[str, dict[str, Figures]],
    title: str,
) -> None:
    """The report of a backtest's results (see the module docstring)."""
    groups = [
        Group(
            group,
            group.capitalize(),
            _figures_rows(summary[group]),
            None if group == TOTAL else _mean_day(results, group),
        )
        for group in (*SEASONS, TOTAL)
        if group in summary
    ]
    broken = [
        f"{LABELS[r.task.config]}, {r.task.key.season} day {r.task.key.day + 1} "
        f"seed {r.task.key.seed}: {line}"
        for r in results
        for line in r.broken
    ]
    page = render_page(
        "elfe_ems.backtest",
        "report.html.j2",
        title=title,
        task_start_h=TASK_START_H,
        groups=groups,
        mae_chart=_mae_chart(summary[TOTAL]) if TOTAL in summary else None,
        has_total=TOTAL in summary,
        config_labels=[LABELS[c] for c in CONFIGS],
        days=_days_rows(summary),
        broken=broken,
    )
    path.write_text(page, encoding="utf-8")
