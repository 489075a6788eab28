"""No password or token shown, anywhere: distinctive secrets are set the way an installation
sets them (``EMS_…`` variables, as ``secrets.env``), real ``ems`` processes are run on them,
and everything those processes show or keep is searched for every secret, plain, URL-encoded,
base64-encoded (alone and as HTTP basic ``user:password``): what each command printed (its
output and its log, with ``--verbose``), every page and GET endpoint of ``ems web`` (the
OpenAPI document walked), the rows of every table of the store (job runs, run log, …), every
file of the data folder, and the argument list of every process on the machine while the
commands run.

The secrets are used for real: the coordination database is a role of the fault tests' own
cluster that checks passwords (``scram-sha-256``) and refuses the one given; the store and
output are on the same cluster, as a role whose password is accepted; Zabbix and Météo-Concept
are a local server that receives the tokens (the test checks it did) and answers with errors
that echo back the whole request, as a careless proxy would.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import psycopg
import pytest
from faults_cluster import OwnCluster
from faults_env import EMS, TIMEOUT_S
from psycopg import sql
from sqlalchemy import URL

from elfe_ems.db.engine import engine_for
from elfe_ems.jobs.registry import JOBS
from elfe_ems.web.app import PAGES

OWNER, READER = "ems_secret_owner", "ems_secret_reader"
ZABBIX_USER = "ems"


def _secret(kind: str, tail: str = "/+=@:% &?") -> str:
    """A secret no other test uses (``S3cr3t-KIND-RANDOM``), by default with the characters
    that URLs and JSON escape."""
    return f"S3cr3t-{kind}-{secrets.token_hex(6)}{tail}"


def _random_part(secret: str) -> str:
    return secret.rsplit("-", 1)[1][:12]


@dataclass(frozen=True)
class Secrets:
    store_password: str = field(default_factory=lambda: _secret("store"))
    coordination_password: str = field(default_factory=lambda: _secret("coordination"))
    zabbix_token: str = field(default_factory=lambda: _secret("zabbix-token"))
    zabbix_password: str = field(default_factory=lambda: _secret("zabbix-password"))
    meteo_concept_token: str = field(default_factory=lambda: _secret("meteo-concept"))
    web_token: str = field(default_factory=lambda: _secret("web", ""))  # a header's value

    def forms(self) -> dict[str, str]:
        """Every way each secret could be shown, by what it is."""
        users = {
            "store_password": OWNER,
            "coordination_password": READER,
            "zabbix_password": ZABBIX_USER,
        }
        found: dict[str, str] = {}
        for name, value in vars(self).items():
            shown = [value, quote(value), quote(value, safe=""), quote_plus(value)]
            shown.append(json.dumps(value)[1:-1])
            shown += [base64.b64encode(value.encode()).decode()]
            if name in users:
                basic = f"{users[name]}:{value}".encode()
                shown.append(base64.b64encode(basic).decode())
            # the random part alone: any other encoding of the secret still holds it
            shown.append(_random_part(value))
            found |= {form: name for form in shown}
        return found


class _Echo(BaseHTTPRequestHandler):
    """A Zabbix API that knows its version and refuses the rest, and a weather API that
    refuses everything; each refusal quotes the whole request (query, headers, body)."""

    server: _EchoServer

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _answer(self, body: bytes) -> None:
        seen = f"{self.command} {self.path}\n{self.headers}\n{body.decode(errors='replace')}"
        self.server.requests.append(seen)
        if self.command == "GET":
            self._send(403, "text/plain", f"forbidden: {seen}")
            return
        request = json.loads(body or b"{}")
        if request.get("method") == "apiinfo.version":
            answer: dict[str, Any] = {"result": "6.0.25"}
        else:
            answer = {"error": {"code": -32602, "message": "Invalid params.", "data": seen}}
        answer |= {"jsonrpc": "2.0", "id": request.get("id")}
        self._send(200, "application/json", json.dumps(answer))

    def _send(self, status: int, kind: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Not logged."""


class _EchoServer(ThreadingHTTPServer):
    requests: list[str]


@pytest.fixture
def echo() -> Iterator[_EchoServer]:
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _check_passwords(cluster: OwnCluster, roles: list[str]) -> None:
    """Make the cluster check the passwords of ``roles`` (the others stay trusted)."""
    hba = cluster.data / "pg_hba.conf"
    line = f"host all {','.join(roles)} 127.0.0.1/32 scram-sha-256\n"
    text = hba.read_text(encoding="utf-8")
    if line not in text:
        hba.write_text(line + text, encoding="utf-8")
    with psycopg.connect(cluster.url(), autocommit=True) as connection:
        connection.execute("SELECT pg_reload_conf()")


@dataclass
class Installation:
    """A configuration file without secrets, and the ``EMS_…`` variables holding them."""

    secrets: Secrets
    config: Path
    data_dir: Path
    environment: dict[str, str]
    store_url: str
    echo: _EchoServer


def _role(connection: psycopg.Connection, role: str, password: str) -> None:
    exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    connection.execute(
        sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(
            sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.Literal(password)
        )
    )


@pytest.fixture
def installation(
    own_cluster: OwnCluster, own_coordination_url: str, echo: _EchoServer, tmp_path: Path
) -> Iterator[Installation]:
    """The store and output as a role whose password is accepted, the coordination database
    as a role whose password is refused, Zabbix and the weather at the echo server."""
    chosen = Secrets()
    store = f"secret_store_{secrets.token_hex(4)}"
    with psycopg.connect(own_cluster.url(), autocommit=True) as connection:
        _role(connection, OWNER, chosen.store_password)
        _role(connection, READER, secrets.token_hex(8))  # not the one the EMS is given
        connection.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(store), sql.Identifier(OWNER)
            )
        )
    _check_passwords(own_cluster, [OWNER, READER])
    port = own_cluster.port
    store_url = URL.create("postgresql", OWNER, chosen.store_password, "127.0.0.1", port, store)
    coordination = URL.create(  # the password as a parameter: the other form of URL
        "postgresql",
        READER,
        None,
        "127.0.0.1",
        port,
        own_coordination_url.rsplit("/", 1)[1],
        {"password": chosen.coordination_password},
    )
    echo_url = f"http://127.0.0.1:{echo.server_address[1]}"
    data_dir = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(
        f'data_dir = "{data_dir}"\n'
        f'zabbix_url = "{echo_url}/zabbix/"\n'
        f'zabbix_user = "{ZABBIX_USER}"\n'
        "zabbix_retries = 0\n"
        "zabbix_timeout_s = 5\n"
        f'meteo_concept_url = "{echo_url}/meteo-concept"\n'
        f'open_meteo_url = "{echo_url}/open-meteo"\n'
        "http_timeout_s = 5\n",
        encoding="utf-8",
    )
    environment = {name: value for name, value in os.environ.items() if not name.startswith("EMS_")}
    environment |= {
        "EMS_STORE_URL": store_url.render_as_string(hide_password=False),
        "EMS_OUTPUT_URL": store_url.render_as_string(hide_password=False),
        "EMS_COORDINATION_URL": coordination.render_as_string(hide_password=False),
        "EMS_ZABBIX_TOKEN": chosen.zabbix_token,
        "EMS_ZABBIX_PASSWORD": chosen.zabbix_password,
        "EMS_METEO_CONCEPT_TOKEN": chosen.meteo_concept_token,
        "EMS_WEB_TOKEN": chosen.web_token,
    }
    try:
        yield Installation(
            chosen, config, data_dir, environment, environment["EMS_STORE_URL"], echo
        )
    finally:
        with psycopg.connect(own_cluster.url(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(store))
            )


class ArgumentWatch:
    """Reads the argument list of every process of the machine, over and over, in a thread,
    while the commands run (a secret in one would be seen by any user, in ``ps``)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.scans = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ArgumentWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.is_set():
            for process in Path("/proc").iterdir():
                if process.name.isdigit():
                    try:
                        arguments = (process / "cmdline").read_bytes()
                    except OSError:  # ended meanwhile
                        continue
                    self.seen.add(arguments.replace(b"\0", b" ").decode(errors="replace"))
            self.scans += 1
            time.sleep(0.02)


@dataclass
class Shown:
    """Every text the EMS showed or kept, by where."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, text: str) -> None:
        self.texts[where] = self.texts.get(where, "") + text

    def leaks(self, forms: dict[str, str]) -> list[str]:
        """Where a form of a secret was found, with the text around it."""
        return [
            f"{forms[form]} in {where}: ...{text[max(0, at - 80) : at + 80]}..."
            for where, text in self.texts.items()
            for form in forms
            if (at := text.find(form)) >= 0
        ]


def _ems(installation: Installation, shown: Shown, *arguments: str) -> int:
    """Run ``ems -v ARGUMENTS --config …`` to its end; its output and log into ``shown``."""
    done = subprocess.run(
        [EMS, "--verbose", *arguments, "--config", str(installation.config)],
        env=installation.environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    shown.add(f"`ems {' '.join(arguments)}`", done.stdout + done.stderr)
    return done.returncode


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _web(installation: Installation, shown: Shown, log: Path) -> int:
    """Start ``ems web``, GET every page and every GET endpoint of its OpenAPI document
    (each round's id in the paths), stop it; the number of addresses read."""
    port = _free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [EMS, "--verbose", "web", "--port", str(port), "--config", str(installation.config)],
            env=installation.environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    token = installation.secrets.web_token
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            deadline = time.monotonic() + TIMEOUT_S
            while True:
                try:
                    schema = client.get("/api/openapi.json")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, "ems web did not start"
                    time.sleep(0.1)
            rounds = client.get("/api/rounds")
            assert rounds.status_code == 200, rounds.text  # the token let in
            run_ids = [str(r["id"]) for r in rounds.json()] + ["999999"]
            assert len(run_ids) > 1  # the round that failed
            paths = (
                [path for path, item in schema.json()["paths"].items() if "get" in item]
                + [path.replace(":int", "") for path in PAGES]
                + ["/api/openapi.json"]
            )
            addresses = {path.replace("{run_id}", run_id) for path in paths for run_id in run_ids}
            for address in sorted(addresses):
                shown.add(f"ems web {address}", client.get(address).text)
            # the token in the address (opening a page once): the access log must hide it
            httpx.get(f"{base}/health?token={quote_plus(token)}", follow_redirects=False)
    finally:
        process.terminate()
        process.wait(TIMEOUT_S)
    shown.add("`ems web`'s log", log.read_text(encoding="utf-8"))
    return len(addresses)


def _stored(installation: Installation, shown: Shown) -> int:
    """Every row of every table of the store, and every file of the data folder, into
    ``shown``; the number of rows."""
    rows = 0
    with engine_for(installation.store_url) as engine, engine.connect() as connection:
        tables = connection.exec_driver_sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            name = f'"{schema}"."{table}"'  # the catalogue's own names
            found = connection.exec_driver_sql(f"SELECT t::text FROM {name} AS t").scalars().all()
            rows += len(found)
            shown.add(f"table {schema}.{table}", "\n".join(found))
    for path in installation.data_dir.rglob("*"):
        if path.is_file():
            shown.add(f"file {path}", path.read_bytes().decode(errors="replace"))
    return rows


def test_no_secret_is_shown(installation: Installation) -> None:
    shown = Shown()
    chosen = installation.secrets
    with ArgumentWatch() as arguments:
        assert _ems(installation, shown, "db", "upgrade") == 0, shown.texts
        assert _ems(installation, shown, "run") == 1  # the coordination database refuses
        for job in JOBS:  # those that need a source fail
            _ems(installation, shown, "job", job.name)
        for options in ([], ["--live"], ["--json"]):
            assert _ems(installation, shown, "doctor", *options) == 1
        assert _ems(installation, shown, "jobs") == 0
        addresses = _web(installation, shown, installation.config.with_name("web.log"))
    rows = _stored(installation, shown)

    # the secrets were used: refused by the database, sent to Zabbix and Météo-Concept
    everything = "\n".join(shown.texts.values())
    assert f'password authentication failed for user "{READER}"' in everything
    received = "\n".join(installation.echo.requests)
    assert json.dumps(chosen.zabbix_token) in received
    assert quote_plus(chosen.meteo_concept_token) in received
    assert "/open-meteo/" in received
    assert arguments.scans > 10
    assert rows > 0
    assert addresses > 10

    forms = chosen.forms()
    shown.add("the arguments of every process", "\n".join(arguments.seen))
    leaks = shown.leaks(forms)
    assert not leaks, "\n".join(leaks)
    print(
        f"\nsecrets: {len(vars(chosen))} secrets in {len(forms)} forms, searched in "
        f"{len(shown.texts)} texts ({len(everything)} characters: {addresses} web addresses, "
        f"{rows} stored rows), {len(arguments.seen)} process argument lists "
        f"({arguments.scans} scans); 0 secrets shown"
    )
