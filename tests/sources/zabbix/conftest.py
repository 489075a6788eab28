"""Fixtures of the Zabbix tests: one real Zabbix 6.0 server and API per test session.

Without the Debian packages (zabbix-server-pgsql, zabbix-frontend-php, php-cli, php-pgsql)
these tests skip, or fail when ``EMS_TEST_REQUIRE_ZABBIX=1`` (as in CI). The server needs the
test PostgreSQL server too (see ``tests/postgres.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from zabbix_server import REQUIRE_ENV, ZabbixTestServer, missing_programs

log = logging.getLogger(__name__)


@pytest.fixture(scope="session")
def zabbix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZabbixTestServer]:
    """A running Zabbix server and frontend on a fresh database, for the whole session."""
    missing = missing_programs()
    if missing:
        reason = f"Zabbix is not installed (missing: {', '.join(missing)})"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires it")
        pytest.skip(reason)
    workdir: Path = tmp_path_factory.mktemp("zabbix")
    with ZabbixTestServer.running(workdir) as server:
        log.info("Zabbix test server up in %.1f s (%s)", server.startup_s, server.api_url)
        yield server
