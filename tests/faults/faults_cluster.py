"""A PostgreSQL cluster of the fault tests' own, which they may kill.

Built with the Debian binaries (the newest ``/usr/lib/postgresql/N/bin``, or
``$EMS_TEST_PG_BIN``) in a temporary folder, listening on a free port of 127.0.0.1 only (no
Unix socket), trust authentication for the user ``postgres`` (and for every other role but those of
:meth:`OwnCluster.add_password_role`). ``initdb`` refuses root: as
root, the cluster's processes run as the ``postgres`` system user (``subprocess``'s
``user=``), which owns the folder. The postmaster runs in a session of its own, so
:meth:`OwnCluster.kill` sends SIGKILL to it and every backend at once: the crash of the
machine's database, as far as a test can.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql


def _bin() -> Path:
    """``$EMS_TEST_PG_BIN``, else the newest Debian server's folder (15 here)."""
    if "EMS_TEST_PG_BIN" in os.environ:
        return Path(os.environ["EMS_TEST_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return found[-1] if found else Path("/usr/lib/postgresql/15/bin")


BIN = _bin()
READY_TIMEOUT_S = 60.0
USER = "postgres"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnCluster:
    """A throwaway cluster: :meth:`start`, :meth:`kill`, :meth:`stop`, :meth:`remove`."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ems-faults-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:  # initdb and postgres refuse root
            owner = pwd.getpwnam(USER)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        subprocess.run(
            [
                BIN / "initdb",
                "-D",
                self.data,
                "-U",
                USER,
                "--auth=trust",
                "--no-sync",
                "--encoding=UTF8",
                "--no-locale",
            ],
            check=True,
            capture_output=True,
            **self._as,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the postmaster (after a kill: crash recovery) and wait until it answers."""
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                BIN / "postgres",
                "-D",
                self.data,
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **self._as,
        )
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"own PostgreSQL did not start: {self.log_tail()}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend (its session) at once."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._wait_backends_gone()

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create the database ``name``; its URL."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def url_as(self, role: str, password: str, database: str) -> str:
        """The URL of ``database`` for ``role``, with ``password`` in it."""
        return f"postgresql://{role}:{password}@127.0.0.1:{self.port}/{database}"

    def add_password_role(self, role: str, password: str) -> None:
        """A login role that must give ``password`` (scram-sha-256), where every other user
        is trusted: its line goes before initdb's trust lines, and the server reloads them."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute("SET password_encryption = 'scram-sha-256'")
            connection.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(password)
                )
            )
            hba = self.data / "pg_hba.conf"
            rule = f"host all {role} 127.0.0.1/32 scram-sha-256\n"
            hba.write_text(rule + hba.read_text(), encoding="utf-8")
            connection.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:  # the reload is asynchronous: wait until the role is refused without it
            try:
                psycopg.connect(self.url_as(role, "", "postgres"), connect_timeout=2).close()
            except psycopg.OperationalError:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"pg_hba.conf not reloaded: {self.log_tail()}")
            time.sleep(0.01)

    def wait_advisory_locks_gone(self, timeout_s: float = 10) -> None:
        """Wait until no session holds an advisory lock: the server has seen a killed
        client's connection closed (within milliseconds) and ended its session."""
        deadline = time.monotonic() + timeout_s
        with psycopg.connect(self.url(), autocommit=True) as connection:
            query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            while connection.execute(query).fetchone() != (0,):
                if time.monotonic() > deadline:
                    raise RuntimeError("an advisory lock outlived its killed client")
                time.sleep(0.005)

    def log_tail(self, lines: int = 20) -> str:
        path = self.folder / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait_backends_gone(self) -> None:
        """The killed backends are reaped by init: a new postmaster must not find them
        attached to the old shared memory."""
        assert self.process is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)
        raise RuntimeError("the killed cluster's processes are still there")
