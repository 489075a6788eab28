"""``ems demo`` end to end: a small community through the real jobs and round, on SQLite."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from playwright.sync_api import sync_playwright
from rich.console import Console
from sqlalchemy import Engine, Table, func, select, text
from typer.testing import CliRunner

from chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium
from elfe_ems.cli import app
from elfe_ems.config import Settings, load_settings
from elfe_ems.db.engine import engine_for
from elfe_ems.demo.folder import MARKER, DemoFolderError, prepare_folder
from elfe_ems.demo.run import DemoOptions, demo_time_s, demo_times, run_demo
from elfe_ems.planner.scenario import Plan, Scenario, read_plan, read_scenario
from elfe_ems.sim.community import build_community, coordination_rows
from elfe_ems.sim.synthetic import Weather
from elfe_ems.sources.coordination import read_coordination
from elfe_ems.store.tables import (
    forecast,
    machine_cycle_profile,
    result,
    room_temperature,
    water_heater_energy,
)
from report_pages import read_report

AT = 1_795_000_000  # Wednesday 18 November 2026, 12:06:40 CET
ROUND_START, ROUND_AT, JOBS_AT = demo_times(AT)
ONE_SHOT_TYPES = {131, 221}  # besides the machines (111, 112, 113)
PER_STEP_TYPES = {151, 155}


@dataclass(frozen=True)
class Demo:
    settings: Settings
    output: str


def _demo(
    folder: Path, *options: str, env: dict[str, str] | None = None, at: str = str(AT)
) -> tuple[int, str]:
    when = ["--at", at] if at else []
    run = CliRunner().invoke(
        app,
        ["demo", *when, "--folder", str(folder), *options],
        env={"EMS_TIME_LIMIT_S": "2", **(env or {})},
    )
    return run.exit_code, run.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One small demo, run through the CLI (the round gets its least solver time, 5 s)."""
    folder = tmp_path_factory.mktemp("demo") / "ems-demo"
    code, output = _demo(folder, "--homes", "20", "--days", "1", "--seed", "3")
    assert code == 0, output
    return Demo(load_settings(folder / "config.toml"), output)


def _count(engine: Engine, table: Table, *where: object) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(connection.execute(query).scalar_one())


def test_the_round_plans_every_kind_from_the_coordination_tables(demo: Demo) -> None:
    with engine_for(demo.settings.coordination_url) as engine:
        rows = read_coordination(engine)
    kinds = (rows.machines, rows.water_heaters, rows.evs, rows.thermostatic_heaters)
    assert all(kinds)
    assert rows.pilot_wire_heaters
    with engine_for(demo.settings.output_url) as engine, engine.connect() as connection:
        published = set(
            connection.execute(
                select(result.c.machine_type).where(result.c.first_valid_timestamp == ROUND_START)
            ).scalars()
        )
    assert published >= ONE_SHOT_TYPES | PER_STEP_TYPES
    assert published & {111, 112, 113}
    assert "Import with EMS" in demo.output
    assert "ems web --config" in demo.output


def test_the_jobs_turned_the_recorded_measurements_into_store_rows(demo: Demo) -> None:
    with engine_for(demo.settings.coordination_url) as engine, engine.connect() as connection:
        machines = connection.execute(
            text("SELECT count(*) FROM equipement_pilote_machine_generique")
        ).scalar_one()
    with engine_for(demo.settings.store_url) as store:
        assert _count(store, forecast, forecast.c.issue_time == JOBS_AT) == 192
        # every machine ran at least once in the history, piloted or not
        assert _count(store, machine_cycle_profile) == machines
        assert _count(store, water_heater_energy, water_heater_energy.c.energy_wh > 0) > 0
        assert _count(store, room_temperature) > 0


def _report(demo: Demo) -> str:
    return (demo.settings.data_dir / "report.html").read_text(encoding="utf-8")


def _round_files(demo: Demo) -> tuple[Scenario, Plan]:
    (plan_file,) = demo.settings.run_conditions_dir.glob("*.plan.json")
    (scenario_file,) = demo.settings.run_conditions_dir.glob("*.scenario.json")
    return read_scenario(scenario_file), read_plan(plan_file)


def test_the_report_has_the_chart_and_one_row_per_device(demo: Demo) -> None:
    report = _report(demo)
    page = read_report(report)  # well nested, self-contained, uPlot inlined, no SVG
    scenario, plan = _round_files(demo)
    assert plan.net_load_asap_w is not None
    with engine_for(demo.settings.coordination_url) as engine, engine.connect() as connection:
        devices = connection.execute(
            text("SELECT id FROM equipement_pilote_ou_mesure ORDER BY id")
        ).scalars()
        ids = list(devices)
    # the net load, import positive, at the plan's quarter hours in the demo's zone
    net_load = page.charts["net-load-chart"]
    assert net_load["x"] == [plan.round_start + k * plan.step_s for k in range(plan.steps)]
    assert (net_load["time_zone"], net_load["step"]) == (demo.settings.timezone, plan.step_s)
    assert "above 0 imported" in net_load["y_label"]
    curves_w = (scenario.net_load_w, plan.net_load_asap_w, plan.net_load_with_flexible_w)
    for series, curve_w in zip(net_load["series"], curves_w, strict=True):
        assert series["values"] == pytest.approx([w / 1000 for w in curve_w])
    # where the savings come from: the plain words and one pair of bars per device type
    (savings,) = re.findall(r'<ul id="savings">(.*?)</ul>', report)
    assert savings.startswith("<li>The plan imports ")
    assert "by moving consumption to better hours" in savings
    assert "<li>Comfort given up: " in savings
    assert plan.savings is not None
    bars = page.charts["savings-chart"]
    planned_types = {d.type for d in plan.devices if d.status == "planned"}
    assert len(bars["categories"]) == len(planned_types)
    shifted, not_used = bars["series"]
    assert shifted["values"] == pytest.approx([t.shifted_wh / 1000 for t in plan.savings.by_type])
    assert not_used["values"] == pytest.approx([t.not_used_wh / 1000 for t in plan.savings.by_type])
    assert "Import avoided, explained" in demo.output
    assert [int(i) for i in re.findall(r'<tr class="device" data-id="(\d+)"', report)] == ids
    assert f"{plan.import_wh / 1000:,.1f} kWh" in report


def test_the_report_draws_its_charts_offline_in_chromium(demo: Demo) -> None:
    """The report opened from disk, network off, in another zone than the demo's: both
    charts drawn (the plan's curve in its colour), times in the demo's zone, no error."""
    require_chromium()
    _scenario, plan = _round_files(demo)
    report = demo.settings.data_dir / "report.html"
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(offline=True, timezone_id="America/New_York")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda r: None if r.url == report.as_uri() else problems.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_selector("body[data-state='ready']")
        canvases = page.eval_on_selector_all(
            ".chart canvas", "all => all.map(c => [c.closest('.chart').id, c.width, c.height])"
        )
        plan_pixels = page.evaluate(PLAN_PIXELS)
        first_time = page.evaluate(FIRST_TIME)
        browser.close()
    assert sorted(name for name, *_ in canvases) == ["net-load-chart", "savings-chart"]
    assert all(width > 0 and height > 0 for _, width, height in canvases)
    assert plan_pixels > 500  # the plan's line, #1a73e8
    local = datetime.fromtimestamp(plan.round_start, demo.settings.zone)
    assert first_time == local.strftime("%a %d %b %H:%M")
    assert problems == []


# pixels of the net load chart in the plan's colour
PLAN_PIXELS = """() => {
  const canvas = document.querySelector("#net-load-chart canvas");
  const rgba = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let count = 0;
  for (let i = 0; i < rgba.length; i += 4) {
    if (rgba[i] === 0x1a && rgba[i + 1] === 0x73 && rgba[i + 2] === 0xe8) count += 1;
  }
  return count;
}"""
# the time the legend shows with the cursor on the first step
FIRST_TIME = """() => {
  const u = window.reportCharts["net-load-chart"];
  u.setCursor({ left: u.valToPos(u.data[0][0], "x") + 1, top: 10 });
  return u.root.querySelector(".u-legend .u-series .u-value").textContent;
}"""


def _weather() -> Weather:
    steps = np.arange(96)
    return Weather(5 + 4 * np.sin(steps / 96 * 2 * np.pi), np.zeros(96))


def test_the_same_seed_gives_the_same_community() -> None:
    def rows(seed: int) -> dict[str, list[dict[str, object]]]:
        community = build_community(30, seed, ROUND_START, _weather(), ZoneInfo("Europe/Paris"))
        return coordination_rows(community)

    assert rows(7) == rows(7)
    assert rows(7) != rows(8)


def test_a_folder_that_is_not_a_demo_folder_is_refused(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me", encoding="utf-8")
    code, output = _demo(tmp_path, "--homes", "1")
    assert code == 2
    assert "not a demo folder" in output
    assert precious.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_demo_folder_loses_only_the_previous_demo_files(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    files = prepare_folder(folder)
    files.report.write_text("old report", encoding="utf-8")
    files.run_conditions.mkdir()
    (files.run_conditions / "old.scenario.json").write_text("{}", encoding="utf-8")
    (folder / "mine.txt").write_text("mine", encoding="utf-8")
    prepare_folder(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([MARKER, "mine.txt"])
    with pytest.raises(DemoFolderError, match="is a file"):
        prepare_folder(folder / "mine.txt")


def test_an_environment_variable_cannot_send_the_demo_elsewhere(tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'production.sqlite'}"
    code, output = _demo(tmp_path / "demo", "--homes", "1", env={"EMS_STORE_URL": other})
    assert code == 2
    assert "EMS_STORE_URL" in output
    assert not (tmp_path / "production.sqlite").exists()


PARIS = ZoneInfo("Europe/Paris")
OUT_OF_REACH_MAX = 5  # of the 200-home demo's thermostatic heaters, on a winter day


def test_a_december_demo_holds_nearly_every_room_in_its_band(tmp_path: Path) -> None:
    """A Breton December: the heaters are sized for it, so a few bands at most are out of
    reach (the round's plan says which: its warnings, not the log)."""
    options = DemoOptions(folder=tmp_path / "demo", day=date(2026, 12, 7))
    result = run_demo(options, Console(file=io.StringIO()))
    heaters = {h.id for h in result.community.thermostatic_heaters}
    missed = [
        d.id
        for d in result.outcome.plan.devices
        if d.id in heaters and any("comfort band" in w for w in d.warnings)
    ]
    assert len(heaters) > 20
    assert len(missed) < OUT_OF_REACH_MAX, missed


def test_the_date_and_the_time_cannot_both_be_given(tmp_path: Path) -> None:
    code, output = _demo(tmp_path / "demo", "--date", "2027-01-15")
    assert code == 2
    assert "--at and --date" in output
    assert not (tmp_path / "demo").exists()


def test_the_date_picks_the_demo_day(tmp_path: Path) -> None:
    code, output = _demo(
        tmp_path / "demo", "--date", "2027-07-15", "--homes", "1", "--days", "1", at=""
    )
    assert code == 0, output
    # the round is the next quarter hour: the next day only just before midnight
    assert re.search(r"Round at (2027-07-15 \d\d|2027-07-16 00):\d\d:\d\d CEST", output), output


def test_the_date_keeps_the_local_time_of_day() -> None:
    now_s = datetime(2026, 12, 7, 10, 20, 30, tzinfo=PARIS).timestamp()  # CET
    at_s = demo_time_s(DemoOptions(day=date(2027, 7, 15)), PARIS, now_s)
    assert datetime.fromtimestamp(at_s, PARIS) == datetime(2027, 7, 15, 10, 20, 30, tzinfo=PARIS)
    assert demo_time_s(DemoOptions(), PARIS, now_s) == now_s
    assert demo_time_s(DemoOptions(at_s=AT), PARIS, now_s) == AT


def test_the_help_shows_the_date_option() -> None:
    run = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})
    assert run.exit_code == 0
    assert "--date" in run.output
