"""Access rules: no token on the loopback, a token required elsewhere, checked on every
request, and never logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner
from web_dataset import Dashboard

from elfe_ems.cli import app as cli
from elfe_ems.config import ConfigError
from elfe_ems.web.access import COOKIE, HideTokens, is_loopback
from elfe_ems.web.app import create_app

TOKEN = "tok-3f9a7c1e5b"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("ems.example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_loopback_needs_no_token(dashboard: Dashboard) -> None:
    client = TestClient(create_app(dashboard.settings))
    assert client.get("/api/rounds").status_code == 200


def test_elsewhere_a_token_is_required_to_start(dashboard: Dashboard) -> None:
    settings = dashboard.settings.model_copy(update={"web_host": "0.0.0.0"})
    with pytest.raises(ConfigError, match="web_token: required"):
        create_app(settings)


@pytest.fixture
def guarded(dashboard: Dashboard) -> TestClient:
    settings = dashboard.settings.model_copy(
        update={"web_host": "0.0.0.0", "web_token": SecretStr(TOKEN)}
    )
    return TestClient(create_app(settings), base_url="http://ems.example.org")


def test_every_request_needs_the_token(guarded: TestClient) -> None:
    for path in ("/api/rounds", "/api/openapi.json", "/", "/static/common.js"):
        answer = guarded.get(path)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert TOKEN not in answer.text
    wrong = {"Authorization": f"Bearer {TOKEN}x"}
    assert guarded.get("/api/rounds", headers=wrong).status_code == 401
    assert guarded.get("/api/rounds", params={"token": "nope"}).status_code == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    assert guarded.get("/api/rounds", headers=right).status_code == 200
    assert guarded.get("/", headers=right).status_code == 200


def test_a_token_in_the_address_sets_a_cookie(guarded: TestClient) -> None:
    answer = guarded.get("/rounds", params={"token": TOKEN, "x": "1"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "http://ems.example.org/rounds?x=1"
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert guarded.cookies.get(COOKIE) == TOKEN
    assert guarded.get("/api/rounds").status_code == 200  # the browser sends the cookie
    guarded.cookies.set(COOKIE, "forged")
    assert guarded.get("/api/rounds").status_code == 401


def test_the_access_log_hides_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s" %d', None, None
    )
    record.args = ("1.2.3.4", "GET", f"/rounds?x=1&token={TOKEN}&y=2", 303)
    assert HideTokens().filter(record)
    assert record.getMessage() == '1.2.3.4 - "GET /rounds?x=1&token=***&y=2" 303'


@pytest.fixture
def _root_logger_restored() -> Iterator[None]:
    """``ems`` reconfigures the root logger: put it back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("_root_logger_restored")
def test_ems_web_refuses_to_start_exposed_without_a_token(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{tmp_path.as_posix()}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["web", "--host", "0.0.0.0", "--config", str(config)])
    assert result.exit_code == 2
    assert "web_token: required when web_host (0.0.0.0) is not the loopback" in result.output
    assert not (tmp_path / "ems.sqlite").exists()  # stopped before opening any database
