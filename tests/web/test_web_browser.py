"""The pages in a real headless Chromium (the Debian package), driven by Playwright: they load
without console errors, draw their charts with the right number of series, the type filter
changes the devices shown, and the rounds page opens a round's plan.

Without ``/usr/bin/chromium`` these tests are skipped, unless ``EMS_TEST_REQUIRE_BROWSER=1``
(then they fail).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from web_dataset import CURRENT_TYPES, NOW, Dashboard

from elfe_ems.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (apt install chromium)"
    if os.environ.get("EMS_TEST_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"EMS_TEST_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=True)


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
    assert _series(page, "devices") == len(CURRENT_TYPES)  # the table filter only


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
