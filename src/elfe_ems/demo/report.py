"""The demo's HTML report: one self-contained page (``report_page``: uPlot and its data inlined,
nothing to load), from ``templates/report.html.j2``.

It shows the round's net load (consumption - production) over the 24 h horizon three ways:
without the flexible devices (the forecast), with them as early as their users allow (what
happens without the EMS) and with the plan; then the imported energy of both, and one row per
device of the community with its plan: a strip of the 96 quarter hours where the device
consumes (light) and the decisions the plan gives it (dark: a start for machines and cars,
heating for tanks and thermostatic heaters, comfort for pilot-wire heaters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from elfe_ems.device_types import TYPE_NAMES
from elfe_ems.notices.collector import noun
from elfe_ems.planner.savings import savings_sentences
from elfe_ems.planner.scenario import DevicePlan, Plan, Savings, Scenario
from elfe_ems.report_page.charts import Chart, Series, bar_chart, line_chart
from elfe_ems.report_page.render import render_page
from elfe_ems.sim.community import Community, Device
from elfe_ems.sources.coordination import MODE_PILOTED

ISSUE_DEVICE = re.compile(r"device (\d+) \(")  # in the round's issues: "TAG device ID (kind): ..."
SERIES = (
    ("forecast without flexible devices", "#9aa0a6", (6, 4)),
    ("without EMS (every device as early as allowed)", "#e8710a", ()),
    ("with the EMS plan", "#1a73e8", ()),
)
SAVINGS_SERIES = (
    ("shifted in time (the same energy at better hours)", "#1a73e8"),
    ("not used (energy the plan leaves out)", "#188038"),
)


@dataclass(frozen=True)
class Strip:
    """Where a device consumes and where the plan decides, as runs of steps in percent of the
    horizon: ``(left, width)``."""

    consumes: list[tuple[float, float]]
    decides: list[tuple[float, float]]


@dataclass(frozen=True)
class PlannedRow:
    """A planned device's cells: its status, strip, energy [kWh] and warnings."""

    status: str
    strip: Strip
    energy_kwh: float
    warnings: list[str]


@dataclass(frozen=True)
class DeviceRow:
    """A row of the devices' table: ``planned`` is None for a device the plan leaves out,
    ``why`` then."""

    id: int
    home: int
    kind: str
    planned: PlannedRow | None
    why: str


def _local(time_s: int, tz: ZoneInfo, pattern: str = "%a %d %b %H:%M") -> str:
    return datetime.fromtimestamp(time_s, tz).strftime(pattern)


def _net_load_chart(scenario: Scenario, plan: Plan, tz: ZoneInfo) -> Chart:
    """The net load [kW] with the plan, without EMS and without the flexible devices."""
    if plan.net_load_asap_w is None:
        raise ValueError("the plan has no net_load_asap_w: solve its scenario again")
    curves_w = (scenario.net_load_w, plan.net_load_asap_w, plan.net_load_with_flexible_w)
    series = [
        Series(name, colour, [w / 1000 for w in curve_w], dash)
        for curve_w, (name, colour, dash) in zip(curves_w, SERIES, strict=True)
    ]
    times = [scenario.round_start + k * scenario.step_s for k in range(scenario.steps)]
    return line_chart(
        times,
        series,
        "kW, above 0 imported",
        time_zone=str(tz),
        step=scenario.step_s,
    )


def _savings_chart(savings: Savings) -> Chart:
    """The import avoided by each device type, shifted and not used side by side [kWh]."""
    values_kwh = (
        [t.shifted_wh / 1000 for t in savings.by_type],
        [t.not_used_wh / 1000 for t in savings.by_type],
    )
    return bar_chart(
        [noun(t.type) for t in savings.by_type],
        [
            Series(name, colour, values)
            for (name, colour), values in zip(SAVINGS_SERIES, values_kwh, strict=True)
        ],
        "kWh (left: more imported, right: less imported than without the EMS)",
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


def _strip(device: DevicePlan) -> Strip:
    """The device's consumption and decisions over the steps."""
    share = 100 / len(device.decisions)

    def percent(flags: Sequence[bool]) -> list[tuple[float, float]]:
        return [(first * share, length * share) for first, length in _runs(flags)]

    return Strip(
        percent([p > 0 for p in device.power_w]), percent([d == 1 for d in device.decisions])
    )


def _device_row(device: Device, planned: DevicePlan | None, step_h: float, issue: str) -> DeviceRow:
    kind = TYPE_NAMES[device.type_id]
    if planned is None:
        why = "manual mode: left to its user" if device.mode != MODE_PILOTED else issue
        return DeviceRow(device.id, device.home + 1, kind, None, why)
    energy_kwh = sum(planned.power_w) * step_h / 1000
    row = PlannedRow(planned.status, _strip(planned), energy_kwh, list(planned.warnings))
    return DeviceRow(device.id, device.home + 1, kind, row, "")


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
    savings = plan.savings
    return render_page(
        "elfe_ems.demo",
        "report.html.j2",
        start=_local(plan.round_start, tz),
        end=_local(plan.round_start + plan.steps * plan.step_s, tz),
        zone=str(tz),
        homes=community.homes,
        devices=len(community.devices()),
        steps=plan.steps,
        figures=[
            ("Imported with the EMS", f"{plan.import_wh / 1000:,.1f} kWh"),
            ("Imported without the EMS", f"{plan.import_wh_asap / 1000:,.1f} kWh"),
            ("Saved", f"{saved_wh / 1000:,.1f} kWh{share}"),
            ("Solver", f"{plan.solver.status}, gap {gap}"),
        ],
        savings=None if savings is None else savings_sentences(savings, plan.import_wh_asap),
        savings_chart=None if savings is None or not savings.by_type else _savings_chart(savings),
        net_load_chart=_net_load_chart(scenario, plan, tz),
        rows=[
            _device_row(d, by_id.get(d.id), step_h, issue_of.get(d.id, "not in the round"))
            for d in community.devices()
        ],
    )


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
