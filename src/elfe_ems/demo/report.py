"""The demo's HTML report: one self-contained page (inline SVG and CSS, no script, no CDN).

It shows the round's net load (consumption - production) over the 24 h horizon three ways:
without the flexible devices (the forecast), with them as early as their users allow (what
happens without the EMS) and with the plan; then the imported energy of both, and one row per
device of the community with its plan: a strip of the 96 quarter hours where the device
consumes (light) and the decisions the plan gives it (dark: a start for machines and cars,
heating for tanks and thermostatic heaters, comfort for pilot-wire heaters).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from elfe_ems.device_types import TYPE_NAMES
from elfe_ems.notices.collector import noun
from elfe_ems.planner.savings import savings_sentences
from elfe_ems.planner.scenario import DevicePlan, Plan, Savings, Scenario
from elfe_ems.sim.community import Community, Device
from elfe_ems.sources.coordination import MODE_PILOTED

ISSUE_DEVICE = re.compile(r"device (\d+) \(")  # in the round's issues: "TAG device ID (kind): ..."
CHART_W, CHART_H, MARGIN = 960, 320, 48
STRIP_W, STRIP_H = 384, 14
SERIES = (
    ("forecast without flexible devices", "#9aa0a6", "6 4"),
    ("without EMS (every device as early as allowed)", "#e8710a", ""),
    ("with the EMS plan", "#1a73e8", ""),
)
SAVINGS_W = 960
SAVINGS_SERIES = (
    ("shifted in time (the same energy at better hours)", "#1a73e8"),
    ("not used (energy the plan leaves out)", "#188038"),
)
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #202124; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
.figures { display: flex; gap: 1em; flex-wrap: wrap; }
.figure { border: 1px solid #dadce0; border-radius: 8px; padding: .6em 1em; min-width: 12em; }
.figure b { display: block; font-size: 1.4em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; white-space: nowrap; }
td.warn, td.muted { white-space: normal; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: #5f6368; } .warn { color: #b06000; font-size: .9em; }
.legend span { display: inline-block; margin-right: 1.5em; }
.legend i { display: inline-block; width: 24px; height: 4px; margin-right: 4px; }
"""


def _local(time_s: int, tz: ZoneInfo, pattern: str = "%a %d %b %H:%M") -> str:
    return datetime.fromtimestamp(time_s, tz).strftime(pattern)


def _chart(scenario: Scenario, plan: Plan, tz: ZoneInfo) -> str:
    """The net load chart [kW], as an inline SVG."""
    if plan.net_load_asap_w is None:
        raise ValueError("the plan has no net_load_asap_w: solve its scenario again")
    base = np.asarray(scenario.net_load_w)
    curves = [base, np.asarray(plan.net_load_asap_w), np.asarray(plan.net_load_with_flexible_w)]
    kw = [c / 1000 for c in curves]
    # typed: numpy's stubs give the extremes of an untyped-dtype array as Any
    low: float = min(0.0, *(c.min() for c in kw))
    high: float = max(0.0, *(c.max() for c in kw))
    span = (high - low) or 1.0
    steps = len(base)
    width, height = CHART_W - 2 * MARGIN, CHART_H - 2 * MARGIN

    def x(step: float) -> float:
        return MARGIN + width * step / steps

    def y(value: float) -> float:
        return MARGIN + height * (high - value) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" '
        f'viewBox="0 0 {CHART_W} {CHART_H}" role="img" id="net-load-chart">',
        f'<line x1="{MARGIN}" x2="{CHART_W - MARGIN}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#5f6368"/>',
    ]
    for tick in np.linspace(low, high, 5):
        parts.append(
            f'<text x="{MARGIN - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{tick:,.0f}</text>"
        )
    for step in range(0, steps + 1, 12):
        label = _local(scenario.round_start + step * scenario.step_s, tz, "%H:%M")
        parts.append(
            f'<line x1="{x(step):.1f}" x2="{x(step):.1f}" y1="{MARGIN}" y2="{CHART_H - MARGIN}" '
            f'stroke="#eee"/><text x="{x(step):.1f}" y="{CHART_H - MARGIN + 16}" '
            f'text-anchor="middle" font-size="11">{label}</text>'
        )
    parts.append(
        f'<text x="{MARGIN}" y="{MARGIN - 12}" font-size="12">kW (consumption - production; '
        "above 0 is imported)</text>"
    )
    for values, (_name, colour, dash) in zip(kw, SERIES, strict=True):
        # a step's mean power holds over the step: a staircase
        points = " ".join(
            f"{x(k + edge):.1f},{y(float(v)):.1f}" for k, v in enumerate(values) for edge in (0, 1)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.8" '
            f'stroke-dasharray="{dash}" points="{points}"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _savings_chart(savings: Savings) -> str:
    """The import avoided by each device type, shifted and not used side by side [kWh], as
    an inline SVG of horizontal bars (left of the axis: more imported than without EMS)."""
    parts_kwh = [(t, t.shifted_wh / 1000, t.not_used_wh / 1000) for t in savings.by_type]
    reach = max((abs(v) for _, *values in parts_kwh for v in values), default=0.0) or 1.0
    label_w, bar_h, row_h = 170, 9, 30
    axis_x = label_w + (SAVINGS_W - label_w) / 2
    scale = (SAVINGS_W - label_w) / 2 / reach * 0.8
    height = row_h * len(parts_kwh) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SAVINGS_W}" height="{height}" '
        f'viewBox="0 0 {SAVINGS_W} {height}" role="img" id="savings-chart">',
        f'<line x1="{axis_x:.1f}" x2="{axis_x:.1f}" y1="0" y2="{height - 24}" stroke="#5f6368"/>',
        f'<text x="{axis_x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11">'
        "0 kWh (left: more imported, right: less imported than without the EMS)</text>",
    ]
    for row, (part, *values_kwh) in enumerate(parts_kwh):
        top = row * row_h + 4
        parts.append(
            f'<text x="0" y="{top + bar_h + 4}" font-size="12">'
            f"{html.escape(noun(part.type))}</text>"
        )
        for k, ((_name, colour), value) in enumerate(zip(SAVINGS_SERIES, values_kwh, strict=True)):
            width = abs(value) * scale
            x = axis_x if value >= 0 else axis_x - width
            y = top + k * (bar_h + 2)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{bar_h}" fill="{colour}"/>'
                f'<text x="{axis_x + (width + 4 if value >= 0 else -width - 4):.1f}" '
                f'y="{y + bar_h - 1}" font-size="10" '
                f'text-anchor="{"start" if value >= 0 else "end"}">{value:,.2f}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts)


def _savings_section(plan: Plan) -> str:
    """Where the savings come from: the plain words and the chart."""
    if plan.savings is None:
        return '<p class="muted">This plan says nothing of where its savings come from.</p>'
    sentences = "".join(
        f"<li>{html.escape(line)}</li>"
        for line in savings_sentences(plan.savings, plan.import_wh_asap)
    )
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{html.escape(name)}</span>'
        for name, colour in SAVINGS_SERIES
    )
    return (
        f'<ul id="savings">{sentences}</ul>\n<p class="legend">{legend}</p>\n'
        f"{_savings_chart(plan.savings)}"
    )


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """The ``(first, length)`` of every run of true flags."""
    runs: list[tuple[int, int]] = []
    for k, flag in enumerate(flags):
        if flag and runs and runs[-1][0] + runs[-1][1] == k:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        elif flag:
            runs.append((k, 1))
    return runs


def _strip(device: DevicePlan) -> str:
    """The device's consumption (light) and decisions (dark) over the steps, as inline SVG."""
    steps = len(device.decisions)
    cell = STRIP_W / steps
    rects = [f'<rect width="{STRIP_W}" height="{STRIP_H}" fill="#f1f3f4"/>']
    layers = (
        ([p > 0 for p in device.power_w], "#aecbfa", 2),
        ([d == 1 for d in device.decisions], "#1967d2", 5),
    )
    for flags, colour, inset in layers:
        rects += [
            f'<rect x="{first * cell:.1f}" y="{inset}" width="{length * cell:.1f}" '
            f'height="{STRIP_H - 2 * inset}" fill="{colour}"/>'
            for first, length in _runs(flags)
        ]
    return f'<svg width="{STRIP_W}" height="{STRIP_H}">{"".join(rects)}</svg>'


def _device_row(device: Device, planned: DevicePlan | None, step_h: float, issue: str) -> str:
    kind = html.escape(TYPE_NAMES[device.type_id])
    if planned is None:
        why = "manual mode: left to its user" if device.mode != MODE_PILOTED else issue
        cells = (
            '<td>not planned</td><td></td><td class="n"></td>'
            f'<td class="muted">{html.escape(why)}</td>'
        )
    else:
        energy_kwh = sum(planned.power_w) * step_h / 1000
        warnings = "<br>".join(html.escape(w) for w in planned.warnings)
        cells = (
            f"<td>{planned.status}</td><td>{_strip(planned)}</td>"
            f'<td class="n">{energy_kwh:,.1f}</td><td class="warn">{warnings}</td>'
        )
    return (
        f'<tr class="device" data-id="{device.id}"><td class="n">{device.id}</td>'
        f"<td>home {device.home + 1}</td><td>{kind}</td>{cells}</tr>"
    )


def _figure(label: str, value: str) -> str:
    return f'<div class="figure">{html.escape(label)}<b>{html.escape(value)}</b></div>'


def render_report(
    community: Community,
    scenario: Scenario,
    plan: Plan,
    tz: ZoneInfo,
    issues: Sequence[str] = (),
) -> str:
    """The report's HTML (see the module docstring); ``issues`` are the round's device issues."""
    saved_wh = plan.import_wh_asap - plan.import_wh
    share = f" ({saved_wh / plan.import_wh_asap:.1%})" if plan.import_wh_asap > 0 else ""
    gap = "n/a" if plan.solver.gap is None else f"{plan.solver.gap:.1e}"
    by_id = {d.id: d for d in plan.devices}
    issue_of = {int(m[1]): text for text in issues if (m := ISSUE_DEVICE.search(text))}
    step_h = plan.step_s / 3600
    rows = "\n".join(
        _device_row(d, by_id.get(d.id), step_h, issue_of.get(d.id, "not in the round"))
        for d in community.devices()
    )
    legend = "".join(
        f'<span><i style="background:{colour}"></i>{html.escape(name)}</span>'
        for name, colour, _ in SERIES
    )
    start = _local(plan.round_start, tz)
    end = _local(plan.round_start + plan.steps * plan.step_s, tz)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>ELFE EMS demo: round of {html.escape(start)}</title>
<style>{STYLE}</style></head>
<body>
<h1>ELFE EMS demo: the round of {html.escape(start)}</h1>
<p class="muted">A simulated community of {community.homes} homes and
{len(community.devices())} flexible devices; the plan covers {html.escape(start)} to
{html.escape(end)} ({html.escape(str(tz))}), {plan.steps} quarter hours.</p>
<div class="figures">
{_figure("Imported with the EMS", f"{plan.import_wh / 1000:,.1f} kWh")}
{_figure("Imported without the EMS", f"{plan.import_wh_asap / 1000:,.1f} kWh")}
{_figure("Saved", f"{saved_wh / 1000:,.1f} kWh{share}")}
{_figure("Solver", f"{plan.solver.status}, gap {gap}")}
</div>
<h2>Where the savings come from</h2>
{_savings_section(plan)}
<h2>Net load of the territory</h2>
<p class="legend">{legend}</p>
{_chart(scenario, plan, tz)}
<h2>Devices</h2>
<p class="muted">Each strip is the 24 h of the plan: light where the device consumes, dark
where the plan decides (a start for machines and cars; heating for tanks and thermostatic
heaters; comfort for pilot-wire heaters).</p>
<table id="devices">
<thead><tr><th>id</th><th>home</th><th>type</th><th>status</th><th>plan (24 h)</th>
<th>energy [kWh]</th><th>notes</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def write_report(
    path: Path,
    community: Community,
    scenario: Scenario,
    plan: Plan,
    tz: ZoneInfo,
    issues: Sequence[str] = (),
) -> None:
    """Write :func:`render_report`'s page to ``path``."""
    path.write_text(render_report(community, scenario, plan, tz, issues), encoding="utf-8")
