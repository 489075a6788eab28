"""The pages in a real headless Chromium (the Debian package), driven by Playwright: they load
without console errors, draw their charts with the right number of series and sign, the type
filter, the search and the pages change the devices shown and survive a refresh, the rounds
page opens a round's plan, a late round or an API away shows a banner, and every page fits a
laptop's and a phone's width.

Without ``/usr/bin/chromium`` these tests are skipped, unless ``EMS_TEST_REQUIRE_BROWSER=1``
(then they fail).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from web_dataset import CURRENT_TYPES, NOW, STEP, Dashboard

from chromium import CHROMIUM, CHROMIUM_ARGS, require_chromium
from elfe_ems.store.health import ROUND_AGE_LIMITS_S
from elfe_ems.store.tables import p_c_without_flexible_consumption, run_log
from elfe_ems.web.app import PAGES, create_app

TIMEOUT_MS = 10_000
WIDTHS = {"laptop": (1366, 768), "phone": (390, 844)}
"""The viewports every page must fit [CSS px]."""

require_chromium(module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread; its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def base_url(dashboard: Dashboard) -> Iterator[str]:
    yield from _serve(create_app(dashboard.settings))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new page; the test fails if it logged a console error or raised."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == []


def _load(page: Page, url: str, state: str = "ready") -> None:
    page.goto(url)
    page.wait_for_selector(f"body[data-state='{state}']")


def _series(page: Page, chart: str) -> int:
    """The data series of a chart (uPlot counts the x values as series 0)."""
    return int(page.evaluate(f"window.emsCharts[{chart!r}].series.length - 1"))


def test_the_plan_page_draws_every_device_and_filters_by_type(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/")
    assert page.text_content("h1") == "Current plan"
    assert _series(page, "balance") == 2
    assert _series(page, "devices") == len(CURRENT_TYPES)
    assert page.locator("#devices-table tbody tr").count() == len(CURRENT_TYPES)
    heaters = sum(t == "pilot_wire_heater" for t in CURRENT_TYPES.values())
    page.uncheck("#type-filter input[value='pilot_wire_heater']")
    assert _series(page, "devices") == len(CURRENT_TYPES) - heaters
    assert page.locator("#devices-table tbody tr").count() == len(CURRENT_TYPES) - heaters
    page.check("#type-filter input[value='pilot_wire_heater']")
    page.check("#warned-only")
    rows = page.locator("#devices-table tbody tr")
    assert rows.count() == 1
    assert "[WARN_CONSTRAINT]" in rows.first.text_content()
    assert _series(page, "devices") == 1  # the lanes are the table's devices


def test_the_plan_page_names_the_machine_types(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/")
    cells = page.locator("#devices-table tbody tr td:nth-child(3)").all_text_contents()
    assert cells == [  # by type, then id
        "electric vehicle (221)",
        "washing machine (111)",
        "washing machine (111)",
        "pilot-wire heater (151)",
        "pilot-wire heater (151)",
    ]
    filters = page.locator("#type-filter label").all_text_contents()
    assert filters == ["Electric vehicles (1)", "Machines (2)", "Pilot-wire heaters (2)"]


def test_the_plan_page_searches_and_pages_the_devices(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/?per_page=2")
    assert _series(page, "devices") == 2
    assert page.text_content("#page-text") == "Devices 1\u20132 of 5 (page 1 of 3)"
    assert page.is_disabled("#page-previous")
    page.click("#page-next")
    page.click("#page-next")
    assert page.text_content("#page-text") == "Devices 5\u20135 of 5 (page 3 of 3)"
    assert page.is_disabled("#page-next")
    assert page.locator("#devices-table tbody tr").count() == 1
    page.fill("#device-search", "washing")  # a machine type's name
    assert page.text_content("#page-text") == "Devices 1\u20132 of 2 (page 1 of 1)"
    page.fill("#device-search", "#20")
    assert page.locator("#devices-table tbody tr td").first.text_content() == "#20"
    page.fill("#device-search", "pilot 41")
    assert page.text_content("#page-text") == "Devices 1\u20131 of 1 (page 1 of 1)"
    page.fill("#device-search", "i")  # in every type's name
    page.click("#page-next")
    assert "q=i&page=2" in page.url
    page.evaluate("window.scrollTo(0, 400)")
    page.evaluate("ems.refresh()")  # what the minute's refresh runs
    assert page.input_value("#device-search") == "i"
    assert page.text_content("#page-text") == "Devices 3\u20134 of 5 (page 2 of 3)"
    assert page.evaluate("window.scrollY") == 400
    page.fill("#device-search", "no such device")
    assert page.text_content("#page-text") == "No device of 5 matches."
    assert _series(page, "devices") == 0


def test_the_net_load_is_positive_when_imported(
    page: Page, base_url: str, dashboard: Dashboard
) -> None:
    _load(page, f"{base_url}/")
    published = {
        r["data_timestamp"]: r["power"]
        for r in dashboard.env.rows(p_c_without_flexible_consumption)
    }
    drawn = page.evaluate("window.emsCharts.balance.data[1]")
    # the output keeps production - consumption: the chart draws its opposite
    assert drawn[:96] == [-published[NOW + STEP * (1 + k)] for k in range(96)]
    labels = page.evaluate("window.emsCharts.balance.axes[1].label")
    assert labels == "kW, above 0 imported"
    assert "above 0 is imported" in (page.text_content("#balance-chart >> xpath=..") or "")


def test_the_plan_page_warns_of_stale_inputs(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/")
    inputs = page.evaluate(
        "fetch('/api/plan/current').then((r) => r.json()).then((p) => p.round.input_freshness)"
    )
    assert [i["name"] for i in inputs] == [
        "balance measurements",
        "forecast",
        "weather",
        "room temperatures",
        "water-heater energies",
    ]
    stale = [i["name"] for i in inputs if i["state"] != "fresh"]
    assert page.is_visible("#stale-banner") == bool(stale)
    if stale:
        text = page.text_content("#stale-banner") or ""
        assert text.startswith("This plan was made on stale inputs")
        assert all(name in text for name in stale)


def test_the_plan_page_accounts_for_every_device(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/")
    assert page.is_visible("#accounting")
    total = page.text_content("#accounting-total") or ""
    assert total.endswith("left out."), total
    counts = [int(c) for c in page.locator("#accounting-table tbody td.num").all_text_contents()]
    assert sum(counts) == int(total.split(" ", 1)[0])
    assert sum(counts) >= len(CURRENT_TYPES)


def test_the_plan_page_says_where_the_savings_come_from(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/")
    assert page.is_visible("#savings")
    plan = page.evaluate("fetch('/api/plan/current').then((r) => r.json())")
    savings = plan["round"]["savings"]
    lines = page.locator("#savings-text li").all_text_contents()
    assert lines == plan["round"]["savings_text"]
    assert lines[0].startswith("The plan imports ")
    rows = page.locator("#savings-table tbody tr")
    assert rows.count() == len(savings["by_type"]) + 1  # one per type, then all
    total = rows.last.locator("td").all_text_contents()
    assert total[0] == "All"
    assert total[4] == f"{savings['import_avoided_wh'] / 1000:,.2f} kWh"


def test_the_rounds_page_shows_the_savings_per_round_and_day(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/rounds")
    assert _series(page, "savings") == 3
    days = page.locator("#savings-days tbody tr")
    assert days.count() == 1  # the dataset's rounds are on one day
    cells = days.first.locator("td").all_text_contents()
    assert cells[1] == "2"  # its two succeeded rounds; the failed one says nothing


def test_the_rounds_page_opens_a_round_plan(
    page: Page, base_url: str, dashboard: Dashboard
) -> None:
    _load(page, f"{base_url}/rounds")
    assert _series(page, "imports") == 2
    assert _series(page, "times") == 2
    assert page.locator("#rounds-table tbody tr").count() == 3
    page.click(f"a[href='/rounds/{dashboard.first_round}']")
    page.wait_for_selector("body[data-state='ready']")
    assert page.url == f"{base_url}/rounds/{dashboard.first_round}"
    assert page.text_content("h1") == f"Plan of round {dashboard.first_round}"
    assert _series(page, "devices") == 6


def test_the_forecast_page_draws_each_horizon(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/forecast?end={NOW}")
    assert _series(page, "forecast") == 5  # measured and 4 horizons
    assert _series(page, "errors") == 4
    assert page.locator("#scores-table tbody tr").count() == 4
    assert "192 measured steps" in page.text_content("#period")


def test_the_health_page_lists_the_checks(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/health")
    assert page.locator("#checks-table tbody tr").count() >= 5
    assert "failed" in page.get_attribute("#verdict", "class")


def test_a_database_down_is_shown_on_the_page(browser: Browser, dashboard: Dashboard) -> None:
    settings = dashboard.settings.model_copy(
        update={"store_url": "postgresql://ems@127.0.0.1:1/ems"}
    )
    for url in _serve(create_app(settings)):
        opened = browser.new_page()
        _load(opened, f"{url}/", state="error")
        assert opened.text_content("#error").startswith("A database cannot be read: store")
        opened.close()


def test_axes_are_sized_to_the_data(page: Page, base_url: str) -> None:
    _load(page, f"{base_url}/rounds")
    spans = page.evaluate(
        """async () => {
          const box = document.createElement("div");
          document.querySelector("main").append(box);
          const span = async (data) => {
            const u = ems.chart("probe", box, { series: [{}, { label: "v" }] }, data);
            await new Promise((done) => requestAnimationFrame(done));  // uPlot scales then
            return [u.scales.x.max - u.scales.x.min, u.scales.y.min, u.scales.y.max];
          };
          const t = 1800000000;
          return { one: await span([[t], [5000]]), none: await span([[], []]),
                   gap: await span([[t, t + 900, t + 1800], [1000, null, 3000]]) };
        }"""
    )
    assert spans["one"][0] == 2 * 3600  # an hour each side, not years
    assert spans["one"][1] < 5000 < spans["one"][2]
    assert spans["none"] == [3600, 0, 1]
    assert spans["gap"][0] == 1800
    assert spans["gap"][1] < 1000
    assert spans["gap"][2] > 3000
    # the dataset's three rounds, a quarter hour apart, are drawn over their own half hour
    x = page.evaluate(
        "[window.emsCharts.imports.scales.x.min, window.emsCharts.imports.scales.x.max]"
    )
    assert x[1] - x[0] == 2 * STEP


@pytest.mark.parametrize(
    ("age_s", "age", "banner"),
    [
        (60, "60 s", None),
        (ROUND_AGE_LIMITS_S[0] + 60, "21 min", "warning"),
        (ROUND_AGE_LIMITS_S[1] + 60, "2.0 h", "failed"),
    ],
)
def test_every_page_shows_the_last_round_and_a_banner_when_it_is_late(
    page: Page, base_url: str, dashboard: Dashboard, age_s: int, age: str, banner: str | None
) -> None:
    last = next(r for r in dashboard.env.rows(run_log) if r["id"] == dashboard.failed_round)
    page.clock.set_fixed_time(last["started_at"] + age_s)
    started = datetime.fromtimestamp(last["started_at"], ZoneInfo("Europe/Paris"))
    expected = f"Last round: {started:%a} {started.day} {started:%b, %H:%M %Z} ({age} ago), failed."
    for path in ("/", "/rounds", f"/forecast?end={NOW}", "/health"):
        _load(page, base_url + path)
        assert page.text_content("#round-status") == expected
        assert page.is_visible("#round-banner") == (banner is not None)
        if banner:
            assert banner in (page.get_attribute("#round-banner", "class") or "")
            assert "plans are not renewed" in (page.text_content("#round-banner") or "")


def test_an_api_away_keeps_the_data_and_says_since_when(
    browser: Browser, dashboard: Dashboard
) -> None:
    server = _serve(create_app(dashboard.settings))
    url = next(server)
    opened = browser.new_page()
    _load(opened, f"{url}/rounds")
    rows = opened.locator("#rounds-table tbody tr").count()
    next(server, None)  # the server stops
    opened.evaluate("ems.refresh()")
    opened.wait_for_selector("body[data-state='error']")
    text = opened.text_content("#round-banner") or ""
    assert text.startswith("The dashboard's API cannot be reached: the data shown are from ")
    assert text.endswith("and may be stale.")
    assert opened.locator("#rounds-table tbody tr").count() == rows  # still shown
    opened.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_width(browser: Browser, base_url: str, width: str) -> None:
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h})
    opened = context.new_page()
    for path in (*(p for p in PAGES if "{" not in p), "/rounds/1"):
        _load(opened, base_url + path)
        sizes = opened.evaluate(
            """() => ({
              page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
              charts: Object.values(window.emsCharts).map((u) => [
                u.root.getBoundingClientRect().right,
                u.root.parentElement.getBoundingClientRect().right,
              ]),
              tables: [...document.querySelectorAll("table.data")].map(
                (t) => t.parentElement.getBoundingClientRect().right),
              nav: [...document.querySelectorAll("header nav a")].map(
                (a) => a.getBoundingClientRect().right),
            })"""
        )
        scroll_width, client_width = sizes["page"]
        assert scroll_width <= client_width, (path, sizes["page"])
        assert all(right <= box + 0.5 for right, box in sizes["charts"]), (path, sizes["charts"])
        assert all(right <= client_width for right in sizes["tables"] + sizes["nav"]), path
    context.close()
