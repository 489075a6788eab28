"""The backtest's HTML report: one self-contained page (inline SVG and CSS, no script, no CDN).

It gives the figures of each configuration per season and in total, the mean day's net load
of each configuration per season, the forecast error by lead time, the figures of each day and
every broken user constraint.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from elfe_ems.backtest.loop import CONFIGS, TaskResult
from elfe_ems.backtest.summary import TOTAL, Figures, captured, skill
from elfe_ems.sim.world import SEASONS, TASK_START_H

CHART_W, CHART_H, MARGIN = 960, 300, 52
MISSING = "n/a"
COLOURS = {"none": "#e8710a", "persistence": "#9334e6", "profile": "#1a73e8", "perfect": "#188038"}
LABELS = {
    "none": "without EMS",
    "persistence": "EMS, persistence forecast",
    "profile": "EMS, weather-profile forecast",
    "perfect": "EMS, perfect foresight",
}
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #202124; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0 1em; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #5f6368; } .bad { color: #c5221f; font-weight: bold; }
.legend span { display: inline-block; margin-right: 1.5em; }
.legend i { display: inline-block; width: 24px; height: 4px; margin-right: 4px; }
"""


def _number(value: float, digits: int = 1, scale: float = 1.0, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return f"{value * scale:,.{digits}f}{unit}"


def line_chart(
    series: Sequence[tuple[str, str, np.ndarray]], x_labels: Sequence[str], y_unit: str
) -> str:
    """Lines of equal length as an inline SVG, ``x_labels`` spread under them."""
    values = [np.asarray(v, dtype=float) for _, _, v in series]
    low = min(0.0, *(float(v.min()) for v in values))
    high = max(0.0, *(float(v.max()) for v in values))
    span = (high - low) or 1.0
    n = max(len(v) for v in values)
    width, height = CHART_W - 2 * MARGIN, CHART_H - 2 * MARGIN

    def x(i: float) -> float:
        return MARGIN + width * i / max(n - 1, 1)

    def y(v: float) -> float:
        return MARGIN + height * (high - v) / span

    parts = [
        f'<svg width="{CHART_W}" height="{CHART_H}" role="img" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in np.linspace(low, high, 5):
        parts.append(
            f'<line x1="{MARGIN}" x2="{CHART_W - MARGIN}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#eee"/><text x="{MARGIN - 6}" y="{y(tick) + 4:.1f}" font-size="11" '
            f'text-anchor="end">{tick:,.0f}</text>'
        )
    parts.append(
        f'<line x1="{MARGIN}" x2="{CHART_W - MARGIN}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#5f6368"/>'
    )
    for i, label in enumerate(x_labels):
        position = x(i * (n - 1) / max(len(x_labels) - 1, 1))
        parts.append(
            f'<text x="{position:.1f}" y="{CHART_H - MARGIN + 16}" font-size="11" '
            f'text-anchor="middle">{html.escape(label)}</text>'
        )
    parts.append(
        f'<text x="{MARGIN}" y="{MARGIN - 12}" font-size="11">{html.escape(y_unit)}</text>'
    )
    for (_, colour, _), v in zip(series, values, strict=True):
        points = " ".join(f"{x(i):.1f},{y(float(p)):.1f}" for i, p in enumerate(v))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{html.escape(label)}</span>'
        for label, colour, _ in series
    )
    return f'<div class="legend">{legend}</div>' + "".join(parts)


def _figures_table(by_config: dict[str, Figures]) -> str:
    complete = all(c in by_config for c in ("none", "perfect"))
    head = (
        "<tr><th>configuration</th><th class=n>import kWh</th><th class=n>captured</th>"
        "<th class=n>self-consumption</th><th class=n>self-sufficiency</th>"
        "<th class=n>peak import kW</th><th class=n>comfort missed K·h</th>"
        "<th class=n>hot water missing kWh</th><th class=n>constraints broken</th>"
        "<th class=n>forecast MAE kW</th><th class=n>skill vs persistence</th>"
        "<th class=n>round mean / max s</th></tr>"
    )
    rows = []
    for config, f in by_config.items():
        energy = f.energy
        share = captured(by_config, config) if complete else float("nan")
        model_skill = skill(f, by_config["persistence"]) if "persistence" in by_config else math.nan
        rounds = f"{np.mean(f.round_s):.2f} / {max(f.round_s):.2f}" if f.round_s else MISSING
        broken_class = "n bad" if f.broken else "n"
        rows.append(
            f"<tr><td>{LABELS[config]}</td><td class=n>{_number(energy.import_wh, 1, 1e-3)}</td>"
            f"<td class=n>{_number(share, 1, 100, ' %')}</td>"
            f"<td class=n>{_number(energy.self_consumption, 1, 100, ' %')}</td>"
            f"<td class=n>{_number(energy.self_sufficiency, 1, 100, ' %')}</td>"
            f"<td class=n>{_number(energy.peak_import_w, 1, 1e-3)}</td>"
            f"<td class=n>{_number(f.comfort_missed_kh, 2)}</td>"
            f"<td class=n>{_number(f.hot_water_missing_wh, 1, 1e-3)}</td>"
            f"<td class={broken_class}>{f.broken}</td>"
            f"<td class=n>{_number(f.mean_mae_w, 2, 1e-3)}</td>"
            f"<td class=n>{_number(model_skill, 1, 100, ' %')}</td>"
            f"<td class=n>{rounds}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _mean_day(results: Sequence[TaskResult], season: str) -> str:
    series = []
    for config in CONFIGS:
        curves = [
            r.net_load_w for r in results if r.task.config == config and r.task.key.season == season
        ]
        if curves:
            series.append((LABELS[config], COLOURS[config], np.mean(curves, axis=0) / 1000))
    hours = [f"{(TASK_START_H + h) % 24:02d}:00" for h in range(0, 25, 3)]
    return line_chart(series, hours, "net load kW (import > 0)")


def _mae_chart(total: dict[str, Figures]) -> str:
    series = [
        (LABELS[c], COLOURS[c], mae_w / 1000)
        for c in ("persistence", "profile")
        if c in total and (mae_w := total[c].mae_w) is not None  # named: narrowed to an array
    ]
    if not series:
        return ""
    return line_chart(series, [f"{h} h" for h in range(0, 25, 3)], "MAE kW by lead time")


def _days_table(summary: dict[str, dict[str, Figures]]) -> str:
    head = "<tr><th>day</th>" + "".join(f"<th class=n>{LABELS[c]} kWh</th>" for c in CONFIGS)
    head += "<th class=n>captured (persistence / profile)</th><th class=n>broken</th></tr>"
    rows = []
    for group, by_config in summary.items():
        if group in (*SEASONS, TOTAL):
            continue
        imports = "".join(
            f"<td class=n>{_number(by_config[c].energy.import_wh, 1, 1e-3)}</td>"
            if c in by_config
            else f"<td class=n>{MISSING}</td>"
            for c in CONFIGS
        )
        complete = all(c in by_config for c in CONFIGS)
        shares = (
            f"{_number(captured(by_config, 'persistence'), 1, 100, ' %')} / "
            f"{_number(captured(by_config, 'profile'), 1, 100, ' %')}"
            if complete
            else MISSING
        )
        broken = sum(f.broken for f in by_config.values())
        rows.append(
            f"<tr><td>{group}</td>{imports}<td class=n>{shares}</td><td class=n>{broken}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def write_report(
    path: Path,
    results: Sequence[TaskResult],
    summary: dict[str, dict[str, Figures]],
    title: str,
) -> None:
    """The report of a backtest's results (see the module docstring)."""
    sections = [f"<h1>{html.escape(title)}</h1>"]
    sections.append(
        "<p class=muted>Imports are summed over the days; <i>captured</i> is the share of perfect "
        "foresight's import reduction (over without EMS) each configuration achieves. Each day "
        f"runs from {TASK_START_H}:00 to {TASK_START_H}:00, one planning round per quarter "
        "hour.</p>"
    )
    for group in (*SEASONS, TOTAL):
        if group in summary:
            sections.append(f"<h2>{group.capitalize()}</h2>{_figures_table(summary[group])}")
            if group != TOTAL:
                sections.append(_mean_day(results, group))
    if TOTAL in summary:
        sections.append(f"<h2>Forecast error by lead time</h2>{_mae_chart(summary[TOTAL])}")
    sections.append(f"<h2>Days</h2>{_days_table(summary)}")
    broken = [
        f"<li>{html.escape(LABELS[r.task.config])}, {r.task.key.season} day "
        f"{r.task.key.day + 1} seed {r.task.key.seed}: {html.escape(line)}</li>"
        for r in results
        for line in r.broken
    ]
    sections.append(
        "<h2>Broken user constraints</h2>"
        + (f"<ul>{''.join(broken)}</ul>" if broken else "<p>None.</p>")
    )
    page = (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body>{''.join(sections)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
