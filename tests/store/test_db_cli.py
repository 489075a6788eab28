"""``ems db upgrade`` and ``ems db status``: embedded default, PostgreSQL schema, errors.

A database that cannot be reached ends the command with exit code 1 and one clear line that
shows its URL with the password masked, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from elfe_ems.store import migrate

EMS = Path(sys.executable).with_name("ems")  # the console script of this environment
EMBEDDED = "sqlite:///ems-data/ems.sqlite"
UNREACHABLE = "postgresql://ems:s3cret-pw@127.0.0.1:1/ems"  # nothing listens on port 1
HEADS = {d: migrate.head_revision(d) for d in migrate.DATABASES}


def test_embedded_status_upgrade_status(ems_cli: Any, tmp_path: Path) -> None:
    before = ems_cli("db", "status")
    assert before.exit_code == 0, before.output
    for database, head in HEADS.items():
        expected = f"{database}: {EMBEDDED}: at none (empty), latest {head}: behind"
        assert expected in before.output
    first = ems_cli("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert (tmp_path / "ems-data" / "ems.sqlite").is_file()
    for database, head in HEADS.items():
        assert f"{database}: {EMBEDDED}: at {head}, upgraded from empty" in first.output
    again = ems_cli("db", "upgrade")
    assert again.exit_code == 0, again.output
    for database, head in HEADS.items():
        assert f"{database}: {EMBEDDED}: at {head}, already up to date" in again.output
    after = ems_cli("db", "status")
    for database, head in HEADS.items():
        assert f"{database}: {EMBEDDED}: at {head}, latest {head}: up to date" in after.output


def test_postgresql_schema(ems_cli: Any, pg_url: str) -> None:
    env = {"EMS_STORE_URL": pg_url, "EMS_OUTPUT_URL": pg_url}
    first = ems_cli("db", "upgrade", **env)
    assert first.exit_code == 0, first.output
    assert "(schema s_" in first.output
    assert first.output.count("upgraded from empty") == 2
    again = ems_cli("db", "upgrade", **env)
    assert again.output.count("already up to date") == 2


def test_config_option(ems_cli: Any, tmp_path: Path) -> None:
    config = tmp_path / "ems.toml"
    config.write_text(
        f'store_url = "sqlite:///{tmp_path}/a/store.sqlite"\n'
        f'output_url = "sqlite:///{tmp_path}/b/output.sqlite"\n',
        encoding="utf-8",
    )
    result = ems_cli("db", "upgrade", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "a" / "store.sqlite").is_file()
    assert (tmp_path / "b" / "output.sqlite").is_file()
    assert not (tmp_path / "ems-data").exists()


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        ("db upgrade", "EMS_STORE_URL"),
        ("db upgrade", "EMS_OUTPUT_URL"),
        ("db status", "EMS_STORE_URL"),
        ("db status", "EMS_OUTPUT_URL"),
        ("thermal list", "EMS_STORE_URL"),
    ],
)
def test_unreachable_database(ems_cli: Any, command: str, variable: str, tmp_path: Path) -> None:
    result = ems_cli(*command.split(), **{variable: UNREACHABLE, "EMS_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, no traceback
    assert "s3cret-pw" not in result.output
    assert "postgresql://ems:***@127.0.0.1:1/ems" in result.output
    assert "Connection refused" in result.output
    assert "Traceback" not in result.output


def test_unreachable_database_real_command(tmp_path: Path) -> None:
    """The installed command, with progress logs on: no password anywhere, no traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMS_")}
    env |= {"EMS_OUTPUT_URL": UNREACHABLE, "EMS_DATA_DIR": str(tmp_path / "data")}
    completed = subprocess.run(
        [EMS, "-v", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "store: sqlite:///" in completed.stdout  # the store was upgraded first
    assert completed.stderr.count("error:") == 1
    assert "output database postgresql://ems:***@127.0.0.1:1/ems" in completed.stderr
    for text in (completed.stdout, completed.stderr):
        assert "s3cret-pw" not in text
        assert "Traceback" not in text


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMS_GAP": "5"}, "gap: Input should be less than or equal to 1"),
        ({"EMS_STORE_URL": "mysql://ems:s3cret-pw@db/ems"}, "only PostgreSQL and SQLite"),
        ({"EMS_CONFIG": "nowhere.toml"}, "nowhere.toml: cannot be read"),
    ],
)
def test_unusable_configuration_exits_2(ems_cli: Any, env: dict[str, str], message: str) -> None:
    result = ems_cli("db", "upgrade", **env)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "s3cret-pw" not in result.output
    assert "Traceback" not in result.output
