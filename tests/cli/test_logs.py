"""The command's log lines: grouped warnings (per-device lines at ``--verbose``), no repeats,
and journald's priorities when standard error is the journal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.cli.logs import RepeatFilter, SecretFilter, priority
from elfe_ems.config import Settings

EMS = Path(sys.executable).with_name("ems")  # the console script of this environment
LATE = "[WARN_IGNORED] 3 machines: not planned this round: earliest start is after the horizon"


@pytest.fixture
def late_machines(ems: Any, tmp_path: Path) -> Path:
    """A 4-step scenario with three machines that may start only after it: all skipped."""
    machines = [
        {
            "id": device_id,
            "type": "machine",
            "profile_w": [1000.0],
            "earliest_start": ems.at(4),
            "latest_end": ems.at(6),
        }
        for device_id in (2, 3, 4)
    ]
    return ems.write(tmp_path / "round.json", ems.scenario([1000.0] * 4, machines))


def test_one_line_per_kind_and_each_device_at_verbose(late_machines: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["solve", str(late_machines)])
    assert result.exit_code == 0, result.output
    tagged = [line for line in result.stderr.splitlines() if "[WARN_" in line]
    assert len(tagged) == 1
    assert tagged[0].startswith(f"WARNING elfe_ems.planner.core: {LATE}")
    assert "(devices 2, 3, 4); " in tagged[0]
    assert "docs/operator-guide.md#not-planned-this-round" in tagged[0]
    verbose = runner.invoke(app, ["--verbose", "solve", str(late_machines)])
    assert verbose.exit_code == 0, verbose.output
    own = [line for line in verbose.stderr.splitlines() if "[WARN_IGNORED] device " in line]
    assert [line.split(":")[0] for line in own] == ["INFO elfe_ems.planner.core"] * 3


def test_a_repeated_warning_line_is_dropped() -> None:
    repeats = RepeatFilter()

    def record(level: int, message: str, name: str = "x") -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, message, None, None)

    assert repeats.filter(record(logging.WARNING, "stale"))
    assert not repeats.filter(record(logging.WARNING, "stale"))
    assert repeats.filter(record(logging.WARNING, "stale", name="y"))  # another logger
    assert repeats.filter(record(logging.INFO, "progress"))
    assert repeats.filter(record(logging.INFO, "progress"))  # only warnings are deduplicated


def test_the_settings_secrets_are_masked_in_messages_and_tracebacks() -> None:
    settings = Settings(store_url="postgresql://ems:Pw%2F7y@db/ems", zabbix_token="Tk&9x")
    hidden = SecretFilter(settings)
    try:
        raise RuntimeError('answer: {"token": "Tk&9x"}, password Pw/7y')
    except RuntimeError:
        trace = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sent %s", ("Tk%269x",), trace)
    assert hidden.filter(record)
    line = logging.Formatter().format(record)
    assert line.startswith("sent ***\nTraceback")
    assert line.endswith('RuntimeError: answer: {"token": "***"}, password ***')
    for secret in ("Tk", "Pw"):
        assert secret not in line


def test_priorities() -> None:
    levels = (logging.CRITICAL, logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG)
    assert [priority(level) for level in levels] == [3, 3, 4, 6, 7]


def _ems_with_stderr_in(log: Path, journal: Path | None, *args: str) -> list[str]:
    """The lines ``ems ARGS`` writes on its standard error, the file ``log``, with
    ``JOURNAL_STREAM`` naming the file ``journal`` (None: ``log`` itself, as systemd does)."""
    env = dict(os.environ)
    with log.open("w") as stderr:
        stat = os.fstat(stderr.fileno()) if journal is None else journal.stat()
        env["JOURNAL_STREAM"] = f"{stat.st_dev}:{stat.st_ino}"
        done = subprocess.run(
            [str(EMS), *args],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, log.read_text(encoding="utf-8")
    return log.read_text(encoding="utf-8").splitlines()


def test_journald_priorities_when_stderr_is_the_journal(late_machines: Path) -> None:
    lines = _ems_with_stderr_in(
        late_machines.with_name("journal.log"), None, "--verbose", "solve", str(late_machines)
    )
    assert all(line[:3] in {"<3>", "<4>", "<6>", "<7>"} for line in lines), lines
    (warning,) = [line for line in lines if line.startswith("<4>")]
    assert warning.startswith(f"<4>elfe_ems.planner.core: {LATE}")
    assert any(
        line.startswith("<6>elfe_ems.planner.core: [WARN_IGNORED] device 2 ") for line in lines
    )
    assert not [line for line in lines if "WARNING" in line or "INFO" in line]
    # the variable names another file: standard error is not the journal, the plain format
    plain = _ems_with_stderr_in(
        late_machines.with_name("plain.log"), late_machines, "solve", str(late_machines)
    )
    assert plain[0].startswith(f"WARNING elfe_ems.planner.core: {LATE}")
