"""TLS: the Zabbix client checks the server's certificate unless told not to.

The server is an HTTPS endpoint with a self-signed certificate (made by ``openssl``) that
answers every request like a Zabbix API that knows no method: with verification on, the
client refuses the connection before any request is answered; off, it gets that answer.
"""

from __future__ import annotations

import http.server
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from elfe_ems.config import Settings
from elfe_ems.sources.zabbix import ZabbixClient, ZabbixError


class _Api(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "error": {"code": -32601, "message": "Method not found.", "data": "tls test"},
                "id": 1,
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json-rpc")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def https_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder: Path = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/api_jsonrpc.php"
    server.shutdown()


def _connect(url: str, verify: bool) -> None:
    settings = Settings(
        zabbix_url=url, zabbix_token="t0ken", zabbix_verify_tls=verify, zabbix_retries=0
    )
    ZabbixClient.connect(settings, sleep=lambda _s: None)


def test_a_self_signed_certificate_is_refused_by_default(https_url: str) -> None:
    assert Settings().zabbix_verify_tls
    with pytest.raises(ZabbixError, match="CERTIFICATE_VERIFY_FAILED") as raised:
        _connect(https_url, verify=True)
    assert "t0ken" not in str(raised.value)


def test_without_verification_the_server_is_reached(https_url: str) -> None:
    with pytest.raises(ZabbixError, match="Method not found") as raised:
        _connect(https_url, verify=False)
    assert "CERTIFICATE" not in str(raised.value)
