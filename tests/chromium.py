"""The headless Chromium of the browser tests: the Debian package, driven by Playwright.

Without ``/usr/bin/chromium`` the tests that need it are skipped, unless
``EMS_TEST_REQUIRE_BROWSER=1`` (then they fail).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium(module_level: bool = False) -> None:
    """Skip the test (or the module) when Chromium is missing, fail if it is required."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt install chromium)"
    if os.environ.get("EMS_TEST_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"EMS_TEST_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason, allow_module_level=module_level)
