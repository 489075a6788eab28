"""Sources down (issue 17, item 3): a database of the round down, unreachable or unusable,
with a real ``ems run`` process.

Each cell publishes round 0 normally; then try ``k`` (the plan in force: round ``k - 1``'s)
breaks one database, runs ``ems run`` of round ``k``, and checks: exit 1, one error line
naming the database (coordination, store or output) and where it is (``host:port/name``, or
the SQLite file), no traceback, the password of the URLs given nowhere (standard output and
error, the files of the run, the run log), the output tables exactly as before (the plan in
force stays; nothing half-written), no plan file, the run ended in bounded time. Then the
database is repaired and the next normal run of round ``k`` must publish it whole. A round
without its store (the forecast it plans on, the learned cycles and thermal models, the run
log) fails at once: there is no relaxation for a missing store.

"A host that does not answer" is a socket of 127.0.0.1 that listens and never answers (the
tests send nothing off the machine): the server's side of a dropped connection, as the
client sees it. The loops (``TRIES`` each) carry the ``fault_matrix`` marker. Figures:
docs/reliability.md.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from faults_cluster import OwnCluster
from faults_env import TIMEOUT_S, FaultEnv, fill_coordination, judge, new_env, round_start
from sqlalchemy import select

from elfe_ems.db.engine import CONNECT_TIMEOUT_S, make_engine
from elfe_ems.round.job import run_round
from elfe_ems.store.tables import run_log
from postgres import unique_name
from zabbix_server import free_port

PASSWORD = "Pw-7c1e-never-shown"  # in every URL a cell gives (the wrong one, for a role)
ROLE_PASSWORD = "Right-9d2f-pw"
TRIES = 3
SQLITE_BUSY_S = 5  # the sqlite3 driver's default busy timeout, which the EMS keeps
START_S = 20  # more than the start, reading and failing of a run, on a busy machine


@dataclass(frozen=True)
class Fault:
    """A broken database, as ``ems run`` meets it."""

    database: str  # coordination, store or output
    where: str  # what the error must say it is at: host:port/name, or the file
    environment: dict[str, str] = field(default_factory=dict)  # the operator's secrets.env
    repaired: dict[str, str] = field(default_factory=dict)  # settings of the repaired run
    bound_s: float = START_S  # the run ends within this


Breaker = Callable[[], AbstractContextManager[Fault]]
"""Breaks a database on entering, repairs it on leaving."""


@dataclass(frozen=True)
class Place:
    """Where the cells build their communities."""

    own: OwnCluster  # holds what stays up
    other: OwnCluster  # holds the one database a cell stops
    coordination_url: str
    folder: Path


def _with_password(url: str) -> str:
    """``url`` (an own cluster's, trust auth) with :data:`PASSWORD` in it."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@", 1)


# --- the cells: (a community, its breaker) ----------------------------------------------------


def coordination_server_down(place: Place) -> tuple[FaultEnv, Breaker]:
    name = unique_name("coordination")
    url = place.other.create_database(name)
    fill_coordination(url)
    env = new_env(place.own, url, place.folder)

    @contextmanager
    def breaker() -> Iterator[Fault]:
        place.other.stop()
        try:
            yield Fault("coordination", f"127.0.0.1:{place.other.port}/{name}")
        finally:
            place.other.start()

    return env, breaker


def coordination_port_closed(place: Place) -> tuple[FaultEnv, Breaker]:
    """The operator's environment gives a port nobody listens on; the repair: the right URL
    (the config file's) again."""
    env = new_env(place.own, place.coordination_url, place.folder)

    @contextmanager
    def breaker() -> Iterator[Fault]:
        where = f"127.0.0.1:{free_port()}/coordination"
        url = _with_password(f"postgresql://postgres@{where}")
        yield Fault("coordination", where, {"EMS_COORDINATION_URL": url})

    return env, breaker


@contextmanager
def _silent_host() -> Iterator[int]:
    """A port of 127.0.0.1 that accepts connections and never says a word; its number."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def _coordination_silent(place: Place, query: str, timeout_s: float) -> tuple[FaultEnv, Breaker]:
    env = new_env(place.own, place.coordination_url, place.folder)

    @contextmanager
    def breaker() -> Iterator[Fault]:
        with _silent_host() as port:
            where = f"127.0.0.1:{port}/coordination"
            url = _with_password(f"postgresql://postgres@{where}{query}")
            yield Fault(
                "coordination", where, {"EMS_COORDINATION_URL": url}, {}, START_S + timeout_s
            )

    return env, breaker


def coordination_host_silent(place: Place) -> tuple[FaultEnv, Breaker]:
    """With ``connect_timeout=2`` in the URL."""
    return _coordination_silent(place, "?connect_timeout=2", 2)


def coordination_host_silent_default(place: Place) -> tuple[FaultEnv, Breaker]:
    """With the EMS's own connect timeout."""
    return _coordination_silent(place, "", CONNECT_TIMEOUT_S)


def coordination_wrong_password(place: Place) -> tuple[FaultEnv, Breaker]:
    role = unique_name("reader")
    place.own.add_password_role(role, ROLE_PASSWORD)
    database = place.coordination_url.rsplit("/", 1)[1]
    with psycopg.connect(place.coordination_url, autocommit=True) as connection:
        connection.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    env = new_env(place.own, place.coordination_url, place.folder)
    wrong = place.own.url_as(role, PASSWORD, database)

    @contextmanager
    def breaker() -> Iterator[Fault]:
        right = place.own.url_as(role, ROLE_PASSWORD, database)
        where = f"127.0.0.1:{place.own.port}/{database}"
        yield Fault(
            "coordination", where, {"EMS_COORDINATION_URL": wrong}, {"coordination_url": right}
        )

    return env, breaker


def _sqlite_store(place: Place) -> tuple[FaultEnv, Path]:
    path = place.folder / "store.sqlite"
    return new_env(place.own, place.coordination_url, place.folder, f"sqlite:///{path}"), path


def store_sqlite_locked(place: Place) -> tuple[FaultEnv, Breaker]:
    """Another process holds the store's write lock (``BEGIN EXCLUSIVE``) for longer than
    the run's busy timeout: here, until the run has ended."""
    env, path = _sqlite_store(place)

    @contextmanager
    def breaker() -> Iterator[Fault]:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield Fault("store", str(path), bound_s=START_S + SQLITE_BUSY_S)
        finally:
            holder.close()

    return env, breaker


def _store_sqlite_cut(place: Place, keep: float) -> tuple[FaultEnv, Breaker]:
    """The store's file cut to ``keep`` of its size (a full disk, a bad copy); the repair:
    the backup put back."""
    env, path = _sqlite_store(place)

    @contextmanager
    def breaker() -> Iterator[Fault]:
        assert not path.with_name(f"{path.name}-wal").exists()  # all of it is in the file
        backup = path.read_bytes()
        with path.open("r+b") as file:
            file.truncate(int(len(backup) * keep))
        try:
            yield Fault("store", str(path))
        finally:
            path.write_bytes(backup)

    return env, breaker


def store_sqlite_half(place: Place) -> tuple[FaultEnv, Breaker]:
    return _store_sqlite_cut(place, 0.5)


def store_sqlite_empty(place: Place) -> tuple[FaultEnv, Breaker]:
    return _store_sqlite_cut(place, 0)


def _on_other(place: Place, database: str) -> tuple[FaultEnv, Breaker]:
    """The ``database`` (store or output) on the other cluster, which is stopped."""
    name = unique_name(database)
    url = place.other.create_database(name)
    env = new_env(place.own, place.coordination_url, place.folder, **{f"{database}_url": url})

    @contextmanager
    def breaker() -> Iterator[Fault]:
        place.other.stop()
        try:
            yield Fault(database, f"127.0.0.1:{place.other.port}/{name}")
        finally:
            place.other.start()

    return env, breaker


def store_postgres_down(place: Place) -> tuple[FaultEnv, Breaker]:
    return _on_other(place, "store")


def output_down(place: Place) -> tuple[FaultEnv, Breaker]:
    return _on_other(place, "output")


CELLS = {
    cell.__name__.replace("_", "-"): cell
    for cell in (
        coordination_server_down,
        coordination_port_closed,
        coordination_host_silent,
        coordination_wrong_password,
        store_sqlite_locked,
        store_sqlite_half,
        store_sqlite_empty,
        store_postgres_down,
        output_down,
    )
}
MATRIX_ONLY = {"coordination-host-silent-default": coordination_host_silent_default}


# --- a try ------------------------------------------------------------------------------------


def _secret_anywhere(env: FaultEnv, texts: tuple[str, ...]) -> bool:
    """Whether :data:`PASSWORD` is in ``texts`` or any file of the run's folder."""
    files = [p.read_bytes() for p in env.folder.rglob("*") if p.is_file()]
    return any(PASSWORD in t for t in texts) or any(PASSWORD.encode() in f for f in files)


def _run_log_errors(env: FaultEnv, k: int) -> list[str | None]:
    """The errors of round ``k``'s failed rows in the run log."""
    engine = make_engine(env.store_url)
    try:
        with engine.connect() as connection:
            query = select(run_log.c.error).where(
                run_log.c.round_start == round_start(k), run_log.c.status == "failed"
            )
            return list(connection.execute(query).scalars())
    finally:
        engine.dispose()


def fault_tries(place: Place, cell: str, tries: int) -> Counter[str]:
    """``tries`` tries of ``cell`` (see the module docstring); the figures."""
    cells = CELLS | MATRIX_ONLY
    env, breaker = cells[cell](place)
    run_round(env.settings(), round_start(0) - 30)  # the plan in force
    figures: Counter[str] = Counter()
    for k in range(1, tries + 1):
        before = env.output_rows()
        with breaker() as fault:
            started = time.monotonic()
            process = env.start_run(k, fault.environment)
            stdout, stderr = process.communicate(timeout=TIMEOUT_S)
            elapsed_s = time.monotonic() - started
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        clear = (
            process.returncode == 1
            and len(errors) == 1
            and errors[0].startswith(
                f"error: round not run, nothing published: {fault.database} database: "
            )
            and f"(at {fault.where}" in errors[0]
            and "Traceback" not in stderr + stdout
        )
        secret = _secret_anywhere(env, (stdout, stderr))
        after = env.output_rows()
        logged = _run_log_errors(env, k) if fault.database != "store" else []
        secret = secret or any(PASSWORD in (error or "") for error in logged)
        figures["tries"] += 1
        figures["clear error"] += clear
        figures["partial rounds"] += after != before
        figures["plan files"] += env.plan_file(k).exists()
        figures["secrets shown"] += secret
        figures["max seconds of a failed run"] = max(
            figures["max seconds of a failed run"], round(elapsed_s)
        )
        assert clear, (process.returncode, stderr)
        assert after == before  # nothing half-written: the plan in force stays
        assert not env.plan_file(k).exists()
        assert not secret
        assert elapsed_s < fault.bound_s, elapsed_s
        if fault.database != "store":  # the store says the round failed, and why
            assert len(logged) == 1
            assert (logged[0] or "").startswith(f"{fault.database} database: ")
        # the next run, repaired
        repaired = env.settings().model_copy(update=fault.repaired)
        run_round(repaired, round_start(k) - 30)
        verdict = judge(before, env.output_rows(), k)
        figures["rounds lost"] += not verdict.published
        assert verdict.published
        assert verdict.duplicates == 0
    print(f"\nfault matrix, {cell}:", dict(figures), f"\n  {errors[0]}")
    return figures


@pytest.fixture
def place(
    own_cluster: OwnCluster, other_cluster: OwnCluster, own_coordination_url: str, tmp_path: Path
) -> Place:
    return Place(own_cluster, other_cluster, own_coordination_url, tmp_path)


@pytest.mark.parametrize("cell", CELLS)
def test_source_down(place: Place, cell: str) -> None:
    fault_tries(place, cell, 1)


@pytest.mark.fault_matrix
@pytest.mark.parametrize("cell", list(CELLS | MATRIX_ONLY))
def test_source_down_matrix(place: Place, cell: str) -> None:
    figures = fault_tries(place, cell, TRIES)
    assert figures["clear error"] == TRIES
