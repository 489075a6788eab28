"""Screenshots of every dashboard page at a laptop's and a phone's width, on the demo's data.

Runs ``ems demo`` in a temporary folder, serves ``ems web`` on it (two real processes) and
has the Debian Chromium (``/usr/bin/chromium``, via Playwright) photograph each page's first
screen: ``docs/screenshots/PAGE-WIDTH.png``, shown in the operator guide's "Dashboard"
section. Run it by hand after changing the pages (about 40 s):

    uv run python bench/dashboard_screenshots.py [--homes 200] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import logging
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

log = logging.getLogger("dashboard_screenshots")

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"laptop": (1366, 768, 0.7), "phone": (390, 844, 0.8)}
"""Viewport of each width [CSS px], and the image's pixels per CSS px (below 1: smaller PNGs,
a few hundred kB in all)."""
PAGES = {"plan": "/", "rounds": "/rounds", "forecast": "/forecast", "health": "/health"}
"""Screenshot name → page path."""
START_TIMEOUT_S = 30.0
EMS = Path(sys.executable).parent / "ems"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def photograph(base_url: str, out: Path) -> list[Path]:
    """Every page at every width, into ``out``; the files written."""
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        for width_name, (width, height, scale) in WIDTHS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=scale
            )
            page = context.new_page()
            for page_name, path in PAGES.items():
                page.goto(base_url + path)
                page.wait_for_selector("body[data-state]")
                target = out / f"{page_name}-{width_name}.png"
                page.screenshot(path=str(target))
                written.append(target)
                log.info("%s: %d bytes", target, target.stat().st_size)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=200, help="Homes of the demo.")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="Folder.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ems-shots-") as folder:
        demo = [str(EMS), "demo", "--folder", folder, "--homes", str(args.homes)]
        subprocess.run(demo, check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        config = str(Path(folder) / "config.toml")
        web = subprocess.Popen([str(EMS), "web", "--config", config, "--port", str(port)])
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_for(f"{base_url}/api/meta", START_TIMEOUT_S)
            written = photograph(base_url, args.out)
        finally:
            web.terminate()
            web.wait(10)
    log.info(
        "%d screenshots, %d bytes in all", len(written), sum(p.stat().st_size for p in written)
    )


if __name__ == "__main__":
    main()
