"""A real Zabbix 6.0 (server and API frontend) for the tests, run from a temporary folder.

It uses the Debian packages zabbix-server-pgsql and zabbix-frontend-php (with php-cli and
php-pgsql), installed by ``.ci/run``. Nothing is written outside the temporary folder and the
test PostgreSQL server (other test runs may share the machine): the schema goes into a uniquely
named database; ``zabbix_server`` gets its own configuration, ports, pid, log and socket files;
the frontend is served by ``php -S`` from a hard-linked copy of ``/usr/share/zabbix`` whose only
changed file names the copy's own ``conf/zabbix.conf.php`` (Debian's frontend reads a fixed
``/etc/zabbix/zabbix.conf.php`` otherwise, and PHP resolves symbolic links, so a symlink farm
would still load the packaged file).
"""

from __future__ import annotations

import gzip
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from zabbix_utils import ItemValue, Sender, ZabbixAPI

from elfe_ems.config import Settings
from postgres import ADMIN_URL, admin, create_database, drop_database

REQUIRE_ENV = "EMS_TEST_REQUIRE_ZABBIX"
"""Set to 1 (as CI does) to fail, rather than skip, when Zabbix is not installed."""

SCHEMA_DIR = Path("/usr/share/zabbix-server-pgsql")
SCHEMA_FILES = ("schema", "images", "data")
FRONTEND_DIR = Path("/usr/share/zabbix")
CONFIG_CLASS = Path("include/classes/core/CConfigFile.php")
PACKAGED_CONFIG = "'/etc/zabbix/zabbix.conf.php'"
ADMIN_USER = "Admin"
PACKAGED_ADMIN_PASSWORD = "zabbix"
# Changed at start: the packaged "zabbix" is a word the EMS's messages spell ("not in zabbix"),
# and every shown text has its secrets masked, so it would mask those words too.
ADMIN_PASSWORD = secrets.token_urlsafe(18)
HOST_GROUP = "EMS tests"
TRAPPER_ITEM = 2
POLLED_ITEM_FIELDS = ["key_", "value_type", "lastvalue", "lastclock", "lastns", "state", "error"]
HISTORY_KEPT = "7d"  # more than the 3 days of past samples the tests send
START_TIMEOUT_S = 60.0
DATA_TIMEOUT_S = 30.0
POLL_S = 0.2
FREE_PORTS = (20_000, 32_768)


def missing_programs() -> list[str]:
    """The programs (or package files) this server needs that are not installed."""
    missing = [p for p in ("zabbix_server", "php") if _program(p) is None]
    missing += [str(p) for p in (SCHEMA_DIR, FRONTEND_DIR / "api_jsonrpc.php") if not p.exists()]
    return missing


def _program(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def free_port() -> int:
    """A TCP port of the loopback that nothing uses right now, below the ephemeral range
    (zabbix_server takes only 1024-32767)."""
    while True:
        port = random.randrange(*FREE_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_until(condition: Any, what: str, timeout_s: float) -> None:
    """Poll ``condition()`` until it is true; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(POLL_S)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _link_or_copy(source: str, target: str) -> None:
    """Hard-link a frontend file (instant, no space), copy it across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a process this module started (its own process group, made at start)."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class ZabbixTestServer:
    """A running Zabbix server and API frontend on loopback ports, on a fresh database.

    Start it with :meth:`running`; :attr:`startup_s` says how long that took.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database = ""
        self.trapper_port = free_port()
        self.frontend_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.frontend_port}/api_jsonrpc.php"
        self.startup_s = 0.0
        self._server: subprocess.Popen[bytes] | None = None
        self._frontend: subprocess.Popen[bytes] | None = None
        self._admin: ZabbixAPI | None = None
        self._group_id: str | None = None

    @classmethod
    @contextmanager
    def running(cls, workdir: Path) -> Iterator[ZabbixTestServer]:
        """A started server, stopped and its database dropped on exit."""
        started = time.monotonic()
        server = cls(workdir)
        try:
            server._create_database()
            server._start_server()
            server._write_frontend()
            server._start_frontend()
            server._set_admin_password()
            wait_until(server._trapper_listens, "zabbix_server trapper", START_TIMEOUT_S)
            server.startup_s = time.monotonic() - started
            yield server
        finally:
            _stop(server._frontend)
            _stop(server._server)
            if server.database:
                drop_database(server.database)

    # --- start-up ------------------------------------------------------------------------

    def _create_database(self) -> None:
        self.database = create_database("zabbix_test")
        with admin(self.database) as connection:
            # One simple-protocol query per file: ~5 s, where psql's statement by statement
            # round trips take ~20 s for the 130,000 inserts of data.sql.
            for name in SCHEMA_FILES:
                text = gzip.decompress((SCHEMA_DIR / f"{name}.sql.gz").read_bytes())
                connection.execute(text.decode())  # type: ignore[call-overload]
            # The packaged "Zabbix server" host's agent items would keep the poller failing.
            connection.execute("UPDATE hosts SET status = 1 WHERE host = 'Zabbix server'")

    def _server_config(self) -> str:
        db = make_url(ADMIN_URL)
        lines = {
            "ListenIP": "127.0.0.1",
            "ListenPort": self.trapper_port,
            "PidFile": self.workdir / "zabbix_server.pid",
            "LogFile": self.workdir / "zabbix_server.log",
            "LogFileSize": 0,
            "SocketDir": self.workdir,
            "DBHost": db.host or "127.0.0.1",
            "DBPort": db.port or 5432,
            "DBName": self.database,
            "DBUser": db.username or "postgres",
            "DBPassword": db.password or "",
            "CacheUpdateFrequency": 1,  # new items accept values within a second
            "HousekeepingFrequency": 0,  # keep the samples sent in the past
            # Only what trapper and HTTP agent items need: fewer processes start faster on 2
            # cores. Zabbix 6.0 polls HTTP agent items with the regular pollers (StartHTTPPollers
            # is for web scenarios), and refuses pollers without an unreachable one.
            "StartPollers": 1,
            "StartPollersUnreachable": 1,
            "StartPingers": 0,
            "StartDiscoverers": 0,
            "StartHTTPPollers": 0,
            "StartHistoryPollers": 0,
            "StartTrappers": 2,
            "StartPreprocessors": 1,
            "StartDBSyncers": 1,
            "StartEscalators": 1,
            "StartAlerters": 1,
            "StartTimers": 1,
            "StartLLDProcessors": 1,
            "StartReportWriters": 0,
            "StartODBCPollers": 0,
        }
        if os.geteuid() == 0:
            lines["AllowRoot"] = 1
        return "".join(f"{key}={value}\n" for key, value in lines.items() if value != "")

    def _start_server(self) -> None:
        config = self.workdir / "zabbix_server.conf"
        config.write_text(self._server_config(), encoding="utf-8")
        self._server = subprocess.Popen(
            [str(_program("zabbix_server")), "--foreground", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "zabbix_server.stderr").open("wb"),
            start_new_session=True,
        )

    def _trapper_listens(self) -> bool:
        if self._server is not None and self._server.poll() is not None:
            log = self.workdir / "zabbix_server.stderr"
            raise RuntimeError(f"zabbix_server stopped: {log.read_text(errors='replace')}")
        return _listening(self.trapper_port)

    def _write_frontend(self) -> None:
        root = self.workdir / "frontend"
        shutil.copytree(FRONTEND_DIR, root, symlinks=True, copy_function=_link_or_copy)
        conf = root / "conf" / "zabbix.conf.php"
        db = make_url(ADMIN_URL)
        values = {
            "TYPE": "POSTGRESQL",
            "SERVER": db.host or "127.0.0.1",
            "PORT": str(db.port or 5432),
            "DATABASE": self.database,
            "USER": db.username or "postgres",
            "PASSWORD": db.password or "",
            "SCHEMA": "",
        }
        conf.write_text(
            "<?php\n"
            + "".join(f"$DB['{k}'] = {_php_string(v)};\n" for k, v in values.items())
            + "$DB['DOUBLE_IEEE754'] = true;\n"
            + f"$ZBX_SERVER = '127.0.0.1';\n$ZBX_SERVER_PORT = '{self.trapper_port}';\n"
            + "$ZBX_SERVER_NAME = 'ems-test';\n$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;\n",
            encoding="utf-8",
        )
        config_class = root / CONFIG_CLASS
        source = config_class.read_text(encoding="utf-8")
        if PACKAGED_CONFIG not in source:
            raise RuntimeError(f"{FRONTEND_DIR / CONFIG_CLASS}: no {PACKAGED_CONFIG} to replace")
        config_class.unlink()  # a hard link to the packaged file: never write through it
        config_class.write_text(source.replace(PACKAGED_CONFIG, _php_string(str(conf))))

    def _start_frontend(self) -> None:
        root = self.workdir / "frontend"
        self._frontend = subprocess.Popen(
            [str(_program("php")), "-S", f"127.0.0.1:{self.frontend_port}", "-t", str(root)],
            cwd=root,
            env={**os.environ, "PHP_CLI_SERVER_WORKERS": "2"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.workdir / "frontend.log").open("ab"),
            start_new_session=True,
        )
        wait_until(self._api_answers, "Zabbix API", START_TIMEOUT_S)

    def _set_admin_password(self) -> None:
        api = ZabbixAPI(url=self.api_url, user=ADMIN_USER, password=PACKAGED_ADMIN_PASSWORD)
        user_id = api.user.get(output=["userid"], filter={"username": ADMIN_USER})[0]["userid"]
        api.user.update(userid=user_id, passwd=ADMIN_PASSWORD)

    def _api_answers(self) -> bool:
        try:
            ZabbixAPI(url=self.api_url, timeout=2).api_version()
        except Exception:  # anything but an answer means "not yet"
            return False
        return True

    # --- helpers for the tests -----------------------------------------------------------

    def settings(self, **overrides: Any) -> Settings:
        """Settings that point at this server as Admin (``overrides`` win)."""
        values: dict[str, Any] = {
            "zabbix_url": self.api_url,
            "zabbix_user": ADMIN_USER,
            "zabbix_password": ADMIN_PASSWORD,
            "zabbix_timeout_s": 10.0,
        }
        return Settings(**(values | overrides))

    @property
    def api(self) -> ZabbixAPI:
        """An Admin session of the API, for setting up test data."""
        if self._admin is None:
            self._admin = ZabbixAPI(url=self.api_url, user=ADMIN_USER, password=ADMIN_PASSWORD)
        return self._admin

    def create_host(self, name: str) -> int:
        """A new monitored host named ``name``; its id."""
        if self._group_id is None:
            self._group_id = self.api.hostgroup.create(name=HOST_GROUP)["groupids"][0]
        created = self.api.host.create(host=name, groups=[{"groupid": self._group_id}])
        return int(created["hostids"][0])

    def create_item(
        self, host_id: int, name: str, key: str, value_type: int = 0, units: str = "W"
    ) -> int:
        """A new trapper item of the host (values come from :meth:`send`); its id."""
        created = self.api.item.create(
            hostid=str(host_id),
            name=name,
            key_=key,
            type=TRAPPER_ITEM,
            value_type=value_type,
            units=units,
            history=HISTORY_KEPT,
            trends="0",
        )
        return int(created["itemids"][0])

    def send(
        self,
        host: str,
        key: str,
        samples: Sequence[tuple[int, float]],
        ns: Sequence[int] | None = None,
    ) -> None:
        """Send ``(clock_s, value)`` samples (with these nanoseconds, if given) to a trapper
        item and wait until its history holds them all."""
        sender = Sender(server="127.0.0.1", port=self.trapper_port, chunk_size=1000)
        nanoseconds = ns if ns is not None else [None] * len(samples)
        values = [
            ItemValue(host, key, _value_text(value), clock, nano)
            for (clock, value), nano in zip(samples, nanoseconds, strict=True)
        ]
        # A new item takes up to CacheUpdateFrequency to be known: the first value is sent
        # alone until accepted, so none of the others is refused.
        wait_until(lambda: sender.send(values[:1]).processed == 1, f"item {key} accepted", 30)
        response = sender.send(values[1:]) if len(values) > 1 else None
        if response is not None and response.failed:
            raise RuntimeError(f"Zabbix refused {response.failed} of the values of {key}")
        self._wait_history(host, key, [clock for clock, _ in samples])

    def _wait_history(self, host: str, key: str, clocks: Sequence[int]) -> None:
        item = self.api.item.get(output=["itemid", "value_type"], host=host, filter={"key_": key})[
            0
        ]

        def stored() -> bool:
            count = self.api.history.get(
                itemids=item["itemid"],
                history=item["value_type"],
                time_from=min(clocks),
                time_till=max(clocks),
                countOutput=True,
            )
            return int(count) >= len(clocks)

        wait_until(stored, f"history of {key}", DATA_TIMEOUT_S)

    def values_of_one_poll(
        self, host_id: int, keys: Collection[str], timeout_s: float = DATA_TIMEOUT_S
    ) -> dict[str, dict[str, str]]:
        """The host's items by key (``item.get``: value, clock, state, error) once every one of
        ``keys`` has a value of the same clock: the values of one poll of a master item and its
        dependent items, taken by the server itself. On timeout the error names the items
        without a value, with their state and error, and ends with the server's log."""
        items: dict[str, dict[str, str]] = {}

        def one_poll() -> bool:
            found = self.api.item.get(hostids=str(host_id), output=POLLED_ITEM_FIELDS)
            items.clear()
            items.update({item["key_"]: item for item in found})
            clocks = {(items[k]["lastclock"], items[k]["lastns"]) for k in keys if k in items}
            return set(keys) <= items.keys() and len(clocks) == 1 and ("0", "0") not in clocks

        try:
            wait_until(one_poll, f"values of one poll of host {host_id}", timeout_s)
        except TimeoutError as error:
            waiting = {
                k: (i["state"], i["error"])
                for k, i in items.items()
                if i["lastclock"] == "0" or i["state"] != "0"
            }
            log = (self.workdir / "zabbix_server.log").read_text(errors="replace")
            raise TimeoutError(
                f"{error}; items without a value or not supported (state, error): {waiting}; "
                f"log: {log[-3000:]}"
            ) from error
        return items

    def api_token(self) -> str:
        """A new API token of Admin."""
        user_id = self.api.user.get(output=["userid"], filter={"username": ADMIN_USER})[0]
        created = self.api.token.create(
            name=f"ems-test-{time.monotonic_ns()}", userid=user_id["userid"]
        )
        generated = self.api.token.generate(created["tokenids"])
        token: str = generated[0]["token"]
        return token

    @contextmanager
    def frontend_down(self) -> Iterator[None]:
        """The API unreachable (the frontend stopped) inside the block, back after it."""
        _stop(self._frontend)
        try:
            yield
        finally:
            self._start_frontend()


def _php_string(text: str) -> str:
    """``text`` as a single-quoted PHP string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _value_text(value: float) -> str:
    """A sample as the trapper protocol carries it (integers without a decimal point, so
    unsigned items accept them)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
