"""The operator guide's install path, end to end, as root: ``ems install`` under a temporary
``--root`` with a new system user and fresh PostgreSQL databases, then ``ems doctor`` as that
user; a first plan must be published, with no step done by hand.

The measurements are recorded ones (``measurements_url``: a SQLite file of a balance item, as
``ems demo`` writes them); the weather provider, which cannot be reached here, is a local HTTP
server answering the recorded Open-Meteo answer (``tests/sources/weather/recorded``) with its
hours moved to today. Skipped when not root, unless ``EMS_TEST_REQUIRE_INSTALL=1`` (CI)."""

from __future__ import annotations

import grp
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from coordination_rows import device
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs.database_layout import DatabaseLayout
from elfe_ems.jobs.install import InstallPlan, as_user
from elfe_ems.jobs.registry import JOBS
from elfe_ems.sources import coordination, recorded
from elfe_ems.sources.coordination import EV
from postgres import ADMIN_URL, admin, create_database, drop_database, unique_name, url_of

RECORDED_WEATHER = Path(__file__).parents[1] / "sources/weather/recorded/open_meteo_forecast.json"
BALANCE_ITEM = 90_001
DAY_S = 86_400


@pytest.fixture(scope="module", autouse=True)
def _as_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("EMS_TEST_REQUIRE_INSTALL") == "1":
            pytest.fail("the install path runs as root (EMS_TEST_REQUIRE_INSTALL=1)")
        pytest.skip("the install path runs as root")
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is required (Debian package systemd)")


@pytest.fixture
def root() -> Iterator[Path]:
    """The installation's root, outside any folder private to root (the user walks it)."""
    folder = Path(tempfile.mkdtemp(prefix="ems-install-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def user() -> Iterator[str]:
    """A new system user's name; the user (and its group) deleted at the end."""
    name = unique_name("ems").replace("_", "-")
    yield name
    subprocess.run(["userdel", name], check=False, capture_output=True)
    subprocess.run(["groupdel", name], check=False, capture_output=True)


@pytest.fixture
def weather_url() -> Iterator[str]:
    """A local Open-Meteo: the recorded answer, its 336 hours from the current hour."""
    answer = json.loads(RECORDED_WEATHER.read_text(encoding="utf-8"))
    first = int(time.time()) // 3600 * 3600
    answer["hourly"]["time"] = [first + 3600 * i for i in range(len(answer["hourly"]["time"]))]
    body = json.dumps(answer).encode()

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def coordination_rows(layout: DatabaseLayout, now_s: int) -> None:
    """One electric car to charge before tomorrow morning."""
    url = (
        f"{ADMIN_URL.rsplit('/', 1)[0]}/{layout.coordination_database}"
        f"?options=-c%20search_path%3D{layout.coordination_schema}"
    )
    car = {
        "id": 1,
        "equipement_pilote_ou_mesure_id": 1,
        "pourcentage_charge_restant": 20.0,
        "pourcentage_charge_finale_minimale_souhaitee": 100,
        "duree_de_charge_estime": 14_400,
        "timestamp_dispo_souhaitee": now_s + 12 * 3600,
        "puissance_de_charge": 7000,
        "capacite_de_batterie": 35_000,
    }
    with engine_for(url) as engine, engine.begin() as connection:
        connection.execute(insert(coordination.equipement), [device(1, EV)])
        connection.execute(insert(coordination.vehicule), [car])


@pytest.fixture
def measurements() -> Iterator[str]:
    """Two days of the territory balance [W] every 5 min, recorded in a database of their own
    (as the simulations record them); its URL (no password: the test server trusts)."""
    name = create_database("ems_install_measured")
    url = url_of(name)
    now_s = int(time.time())
    clocks_s = np.arange(now_s - 2 * DAY_S, now_s, 300)
    balance_w = 3000.0 * np.sin(2 * np.pi * clocks_s / DAY_S) - 1000.0
    item = {
        "item_id": BALANCE_ITEM,
        "host_id": 1,
        "name": "Equilibre General P=C bis",
        "key": "balance",
        "units": "W",
        "value_type": 0,
    }
    try:
        with engine_for(url) as engine:
            recorded.create_tables(engine)
            recorded.record_items(engine, [item])
            recorded.record_samples(engine, BALANCE_ITEM, clocks_s, balance_w)
        yield url
    finally:
        drop_database(name)


def install_command(
    program: Path, layout: DatabaseLayout, user: str, root: Path, measured: str
) -> list[str]:
    """The guide's ``ems install``, with this test's names and measurements."""
    return [
        str(program / "bin/ems"), "install",
        "--admin-url", ADMIN_URL, "--user", user, "--root", str(root),
        "--store-database", layout.store_database, "--output-schema", layout.output_schema,
        "--coordination-database", layout.coordination_database,
        "--coordination-schema", layout.coordination_schema,
        "--owner-role", layout.owner_role, "--output-role", layout.output_role,
        "--reader-role", layout.reader_role,
        "--timezone", "Europe/Paris", "--measurements-url", measured,
    ]  # fmt: skip


def run(command: list[str], weather_url: str) -> subprocess.CompletedProcess[str]:
    environment = {n: v for n, v in os.environ.items() if not n.startswith("EMS_")}
    environment["EMS_OPEN_METEO_URL"] = weather_url  # the jobs inherit it through runuser
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=240, check=False
    )


def owner_group_mode(path: Path) -> tuple[str, str, int]:
    status = path.stat()
    owner, group = pwd.getpwuid(status.st_uid).pw_name, grp.getgrgid(status.st_gid).gr_name
    return owner, group, stat.S_IMODE(status.st_mode)


def test_install_path_publishes_a_first_plan(
    program: Path,
    layout: DatabaseLayout,
    user: str,
    root: Path,
    weather_url: str,
    measurements: str,
) -> None:
    now_s = int(time.time())
    coordination_rows(layout, now_s)
    command = install_command(program, layout, user, root, measurements)

    first = run(command, weather_url)
    assert first.returncode == 0, first.stdout + first.stderr
    lines = first.stdout
    for job in JOBS:
        if job.name != "housekeeping":
            assert f"first run: job {job.name}: ok" in lines, lines
    assert "units: systemd-analyze verify passed" in lines
    assert "units: not enabled" in lines  # no systemd as PID 1 in a container
    assert f"database {layout.store_database} created" in lines

    plan = InstallPlan(ADMIN_URL, layout=layout, user=user, root=root, ems=program / "bin/ems")
    etc, data = plan.config_dir, plan.data_dir
    assert owner_group_mode(etc) == ("root", user, 0o750)
    for name in ("config.toml", "secrets.env"):
        assert owner_group_mode(etc / name) == ("root", user, 0o640)
    assert owner_group_mode(data) == (user, user, 0o700)
    assert owner_group_mode(data / "run-conditions") == (user, user, 0o700)
    assert pwd.getpwnam(user).pw_shell == "/usr/sbin/nologin"
    secrets = (etc / "secrets.env").read_text(encoding="utf-8")
    for line in secrets.splitlines():
        password = line.split("@")[0].rsplit(":", 1)[-1]
        assert password not in first.stdout + first.stderr
    assert "secrets.env" not in (etc / "config.toml").read_text(encoding="utf-8").split("\n", 1)[1]
    units = sorted(p.name for p in plan.unit_dir.iterdir())
    assert len(units) == 2 * len(JOBS) + 1  # and the web service

    with admin(layout.store_database) as connection:
        results = connection.execute(
            f"SELECT count(*) FROM {layout.output_schema}.result"
        ).fetchone()
        runs = connection.execute(f"SELECT count(*) FROM {layout.output_schema}.ems_run_info")
        owners = connection.execute(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = ANY(%s)",
            (["public", layout.output_schema],),
        ).fetchall()
    assert results == (1,)
    assert runs.fetchone() == (1,)
    assert owners == [(layout.owner_role,)]
    written = list((data / "run-conditions").iterdir())
    assert [p for p in written if p.name.endswith(".scenario.json")]
    for path in written:  # by the round, run as the user: its alone (its umask)
        assert owner_group_mode(path) == (user, user, 0o600), path

    # the guide's check, as the user, reading its own secrets
    doctor = run(as_user(plan, "doctor"), weather_url)
    assert "last round" in doctor.stdout, doctor.stdout + doctor.stderr
    stranger = subprocess.run(
        ["runuser", "-u", "nobody", "--", "cat", str(etc / "secrets.env")],
        capture_output=True,
        check=False,
    )
    assert stranger.returncode != 0

    (etc / "secrets.env").chmod(0o644)  # opened by hand: the next install closes it
    again = run([*command, "--no-start"], weather_url)
    assert again.returncode == 0, again.stdout + again.stderr
    assert owner_group_mode(etc / "secrets.env") == ("root", user, 0o640)
    assert f"user {user}: exists" in again.stdout
    assert "secrets.env: kept (unchanged)" in again.stdout
    assert "config.toml: kept (unchanged)" in again.stdout
    assert f"units: 0 written, {2 * len(JOBS) + 1} unchanged" in again.stdout
    assert "migrations: store at" in again.stdout
    assert "up to date" in again.stdout
    assert shlex.join(as_user(plan, "job", "round")) in again.stdout  # printed, not run
