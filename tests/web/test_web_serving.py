"""``ems web`` as a real process on the store of real rounds: without ``--host`` it listens on
127.0.0.1 only, and no request path reaches a file outside the static folder (the same paths
through the app in-process, on a copy of the static folder with symlinks out of it).

Requests to the process are written byte by byte on a socket: an HTTP client would resolve
``..`` or refuse a null byte before sending.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_dataset import METHOD, Dashboard, web_settings

import elfe_ems.web.app as web_app
from elfe_ems.config import Settings

REPOSITORY = Path(__file__).parents[2]
OUTSIDE = [
    Path(web_app.__file__),  # beside the static folder
    REPOSITORY / "pyproject.toml",
    Path("/etc/passwd"),
]
"""Files outside the static folder that a path escaping it could reach."""
ESCAPES = [
    "/static/../app.py",
    "/static/../../../pyproject.toml",
    "/static/vendor/../../app.py",
    "/static/%2e%2e/app.py",
    "/static/%2E%2E/%2E%2E/%2E%2E/pyproject.toml",
    "/static/..%2fapp.py",
    "/static/..%2f..%2f..%2f..%2fpyproject.toml",
    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/static/%252e%252e/app.py",
    "/static/..%5capp.py",
    "/static/%c0%ae%c0%ae/app.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static/%00",
    "/static/common.js%00.png",
    "/static/%00/../app.py",
    "/static/\x00",
    "/static/common.js\x00",
    "/../app.py",
    "/%2e%2e/app.py",
    "//etc/passwd",
]
"""Request targets, as sent: dot segments plain and encoded (also twice, as backslash and as
overlong UTF-8), absolute paths, null bytes plain and encoded."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """The status and body of ``GET target`` sent as it is to 127.0.0.1:``port``; status 0
    when the server closed the connection without an answer."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request.encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65_536):
            answer += chunk
    if not answer:
        return 0, b""
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def leaked(body: bytes) -> list[Path]:
    """The files of :data:`OUTSIDE` of which a line of 16 bytes or more is in ``body``."""
    return [
        path
        for path in OUTSIDE
        if any(len(line) >= 16 and line in body for line in path.read_bytes().splitlines())
    ]


@dataclass(frozen=True)
class Served:
    process: subprocess.Popen[bytes]
    port: int
    log: Path


@pytest.fixture(scope="module")
def served(dashboard: Dashboard, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``ems web --config FILE``, no ``--host``: the config file names no host either."""
    folder = tmp_path_factory.mktemp("ems-web")
    port = _free_port()
    settings = dashboard.settings
    values = {
        "data_dir": str(settings.data_dir),
        "store_url": settings.store_url,
        "output_url": settings.output_url,
        "run_conditions_dir": str(settings.run_conditions_dir),
        "planning_method": METHOD,
        "web_port": port,
    }
    config = folder / "config.toml"
    config.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items()), "utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMS_")}
    log = folder / "web.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "elfe_ems", "web", "--config", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        deadline_s = time.monotonic() + 20
        while "Uvicorn running on" not in log.read_text() and process.poll() is None:
            assert time.monotonic() < deadline_s, log.read_text()
            time.sleep(0.05)
        assert process.poll() is None, log.read_text()
        yield Served(process, port, log)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def listening(port: int) -> set[str]:
    """The local addresses of the sockets listening on TCP ``port`` (/proc/net/tcp, tcp6)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:  # 0A: LISTEN
                if len(address) == 8:  # IPv4, little-endian
                    addresses.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                else:
                    words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, 32, 8)]
                    addresses.add(socket.inet_ntop(socket.AF_INET6, b"".join(words)))
    return addresses


def test_the_default_host_is_the_loopback() -> None:
    assert Settings.model_fields["web_host"].default == "127.0.0.1"


def test_ems_web_listens_on_127_0_0_1_only(served: Served) -> None:
    assert f"Uvicorn running on http://127.0.0.1:{served.port} " in served.log.read_text()
    assert listening(served.port) == {"127.0.0.1"}
    assert raw_get(served.port, "/api/meta")[0] == 200
    # another address of this machine's loopback: refused, as every address but 127.0.0.1
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", served.port), timeout=5).close()


def test_no_path_reaches_a_file_outside_the_static_folder(served: Served) -> None:
    status, body = raw_get(served.port, "/static/common.js")
    assert status == 200
    assert body == (web_app.STATIC / "common.js").read_bytes()
    answers = {target: raw_get(served.port, target) for target in ESCAPES}
    assert {t: s for t, (s, _) in answers.items() if s not in (400, 404)} == {}
    assert {t: leaked(b) for t, (_, b) in answers.items() if leaked(b)} == {}
    assert served.process.poll() is None
    assert "Traceback" not in served.log.read_text()


@pytest.fixture
def static_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the static folder, used by the apps made in the test, with symlinks out of
    it: to a file beside it (``secret.txt``) and to the folder that holds both."""
    copy = tmp_path / "static"
    shutil.copytree(web_app.STATIC, copy)
    (tmp_path / "secret.txt").write_text("secret: outside the static folder\n" * 4, "utf-8")
    (copy / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (copy / "escape-folder").symlink_to(tmp_path, target_is_directory=True)
    monkeypatch.setattr(web_app, "STATIC", copy)
    return copy


def test_in_process_neither_paths_nor_symlinks_leave_the_static_folder(
    dashboard: Dashboard, static_copy: Path
) -> None:
    client = TestClient(web_app.create_app(web_settings(dashboard.env)))
    assert client.get("/static/common.js").content == (static_copy / "common.js").read_bytes()
    secret = (static_copy.parent / "secret.txt").read_bytes()
    targets = [
        "/static/escape.txt",
        "/static/escape-folder/secret.txt",
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        *(t for t in ESCAPES if "\x00" not in t),  # the client refuses a raw null byte
    ]
    answers = {target: client.get(target) for target in targets}
    assert {t: a.status_code for t, a in answers.items() if a.status_code not in (400, 404)} == {}
    assert [t for t, a in answers.items() if secret in a.content or leaked(a.content)] == []
