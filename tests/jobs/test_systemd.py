"""``ems systemd print|install``: the units' contents, ``systemd-analyze verify`` and
``systemd-analyze security`` on them, and ``systemd-analyze calendar`` on every
``OnCalendar=``.

What ``systemd-analyze verify`` (systemd 252) checks, found by trying: the syntax of every
key (an unknown key is only a warning on standard error, so the tests want standard error
empty), the timer's service, and that ``ExecStart``'s program exists and is executable
(hence the real ``ems`` of this environment). It does not check that ``User=`` exists nor
that ``WorkingDirectory=`` exists: the units name the user ``ems`` and ``/var/lib/elfe-ems``,
which this machine lacks. Without ``systemd-analyze`` these tests skip, or fail when
``EMS_TEST_REQUIRE_SYSTEMD=1``.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.jobs.registry import JOBS, job_named
from elfe_ems.jobs.systemd import (
    CONFIG_FILE_MODE,
    CONFIG_FOLDER_MODE,
    DATA_FOLDER_MODE,
    default_ems,
    on_calendars,
)

ROUND_TIMES = {"14:30", "29:30", "44:30", "59:30"}
UNIT_COUNT = 2 * len(JOBS) + 1
"""A service and a timer per job, and the web service."""
EXPOSURE_LIMIT = 2.0
"""The highest ``systemd-analyze security`` exposure a job's service may have (0 to 10; up to
4.9 is "OK" for systemd)."""
EXPOSURE = re.compile(r"Overall exposure level for (\S+): (\d+\.\d) (\w+)")
ELAPSE = re.compile(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("EMS_CONFIG", raising=False)
    monkeypatch.delenv("EMS_TIMEZONE", raising=False)
    return CliRunner()


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    """``systemd-analyze ARGS`` (times printed in UTC); skips or fails the test without it."""
    program = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not Path(program).exists():
        if os.environ.get("EMS_TEST_REQUIRE_SYSTEMD") == "1":
            pytest.fail("systemd-analyze is not installed (EMS_TEST_REQUIRE_SYSTEMD=1)")
        pytest.skip("systemd-analyze is not installed")
    return subprocess.run(
        [program, *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "TZ": "UTC", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"},
    )


def absent_config(directory: Path) -> list[str]:
    """A configuration path that does not exist: the tests never read the machine's own
    /etc/elfe-ems/config.toml, the default."""
    return ["--config", str(directory.parent / f"{directory.name}-absent-config.toml")]


def install(runner: CliRunner, directory: Path, *options: str) -> tuple[int, str, str]:
    config = [] if "--config" in options else absent_config(directory)
    result = runner.invoke(app, ["systemd", "install", "--dir", str(directory), *config, *options])
    return result.exit_code, result.stdout, result.stderr


def unit_files(directory: Path) -> list[str]:
    return sorted(str(p) for p in directory.iterdir())


def test_installed_units_verify(runner: CliRunner, tmp_path: Path) -> None:
    code, out, err = install(runner, tmp_path)
    assert code == 0, err
    assert "not here: time zone (Europe/Paris)" in err  # no configuration file here
    assert len(unit_files(tmp_path)) == UNIT_COUNT
    verified = analyze("verify", *unit_files(tmp_path))
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr == ""
    assert verified.stdout == ""
    assert f"{UNIT_COUNT} unit files written to {tmp_path}" in out


def test_units_are_hardened(runner: CliRunner, tmp_path: Path) -> None:
    """``systemd-analyze security`` rates every job's service "OK", at most
    :data:`EXPOSURE_LIMIT`, as installed (``ems`` outside a home: ``ProtectHome=yes``)."""
    code, _out, err = install(runner, tmp_path, "--ems", "/opt/elfe-ems/bin/ems")
    assert code == 0, err
    services = sorted(tmp_path.glob("*.service"))
    assert len(services) == len(JOBS) + 1  # and the web service
    scores = {}
    for service in services:
        rated = analyze("security", "--offline=yes", "--no-pager", str(service))
        assert rated.returncode == 0, rated.stderr
        ((name, score, word),) = EXPOSURE.findall(rated.stdout)
        assert word == "OK", rated.stdout
        scores[name] = float(score)
    assert max(scores.values()) <= EXPOSURE_LIMIT, scores
    print(f"\nsystemd-analyze security: exposure {sorted(set(scores.values()))}")


def test_verify_checks_the_executable(runner: CliRunner, tmp_path: Path) -> None:
    """Why the other test uses the real ``ems``: a missing one fails the verification."""
    code, _out, err = install(runner, tmp_path, "--ems", "/nonexistent/bin/ems")
    assert code == 0, err
    verified = analyze("verify", *unit_files(tmp_path))
    assert verified.returncode != 0
    assert "/nonexistent/bin/ems is not executable" in verified.stderr


def test_every_on_calendar_is_accepted() -> None:
    expressions = sorted({job.schedule.on_calendar("Europe/Paris") for job in JOBS})
    checked = analyze("calendar", *expressions)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.count("Normalized form: ") == len(expressions)


def elapses(expression: str, iterations: int, *options: str) -> list[datetime]:
    checked = analyze("calendar", f"--iterations={iterations}", *options, expression)
    assert checked.returncode == 0, checked.stderr
    return [datetime.fromisoformat(t) for t in ELAPSE.findall(checked.stdout)]


def test_round_timer_elapses_at_the_quarters_less_30_s() -> None:
    (local, utc) = on_calendars(job_named("round").schedule, "Europe/Paris")
    assert local == "*-*-* *:14,29,44,59:30 Europe/Paris"
    assert utc == "*-*-* *:14,29,44,59:30 UTC"
    times = elapses(local, 4)
    assert len(times) == 4
    assert {t.strftime("%M:%S") for t in times} == ROUND_TIMES
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("day", ["2026-03-29", "2026-10-25"])
def test_round_timer_runs_every_quarter_on_clock_changes(day: str) -> None:
    """Spring: 02:00 CET is 03:00 CEST; autumn: 02:00-03:00 is lived twice, and systemd
    skips its second time in the local expression (found by trying): the UTC one runs it."""
    expressions = on_calendars(job_named("round").schedule, "Europe/Paris")
    base = f"--base-time={day} 00:00:00 UTC"
    local = elapses(expressions[0], 12, base)
    union = sorted({t for e in expressions for t in elapses(e, 12, base)})[:12]
    expected = [
        datetime.fromisoformat(f"{day} 00:14:30") + timedelta(minutes=15 * k) for k in range(12)
    ]
    assert union == expected
    if day.endswith("10-25"):
        assert datetime.fromisoformat(f"{day} 01:14:30") not in local


def test_service_and_timer_contents(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "etc" / "config.toml"
    config.parent.mkdir()
    data = tmp_path / "srv" / "data"
    config.write_text(
        f'timezone = "America/New_York"\ndata_dir = "{data}"\n'
        'store_url = "sqlite:////var/cache/ems/store.sqlite"\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "systemd",
            "print",
            "--user",
            "elfe",
            "--config",
            str(config),
            "--ems",
            "/opt/ems/bin/ems",
            "--working-directory",
            "/srv/ems%1",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    files = dict(part.split("\n", 1) for part in result.stdout.split("# ===== ")[1:])
    assert sorted(files) == sorted(
        [f"elfe-ems-{job.name}.{kind}" for job in JOBS for kind in ("service", "timer")]
        + ["elfe-ems-web.service"]
    )
    service = files["elfe-ems-round.service"].splitlines()
    for line in (
        "Type=oneshot",
        "User=elfe",
        "Group=elfe",
        f"ExecStart=/opt/ems/bin/ems job round --config {config}",
        f"Environment=EMS_CONFIG={config}",
        f"EnvironmentFile=-{config.parent}/secrets.env",
        "WorkingDirectory=/srv/ems%%1",
        "TimeoutStartSec=240",
        "ProtectSystem=strict",
        f"ReadWritePaths=/srv/ems%%1 {data} {data}/run-conditions /var/cache/ems",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "UMask=0077",
    ):
        assert line in service
    timer = files["elfe-ems-water-heater-energy.timer"].splitlines()
    for line in (
        "OnCalendar=*-*-* 16:00:30 America/New_York",
        "AccuracySec=1s",
        "WantedBy=timers.target",
    ):
        assert line in timer
    assert [line for line in timer if line.startswith("OnCalendar=")] == [
        "OnCalendar=*-*-* 16:00:30 America/New_York"
    ]
    round_timer = files["elfe-ems-round.timer"]
    assert round_timer.split("[Timer]\n")[1].split("AccuracySec")[0].splitlines() == [
        "# UTC too: systemd skips the local hour repeated when the clocks go back",
        "OnCalendar=*-*-* *:14,29,44,59:30 America/New_York",
        "OnCalendar=*-*-* *:14,29,44,59:30 UTC",
    ]
    assert "TimeoutStartSec=600" in files["elfe-ems-water-heater-energy.service"]
    web = files["elfe-ems-web.service"].splitlines()
    for line in (
        "Type=exec",
        "Restart=on-failure",
        "User=elfe",
        f"ExecStart=/opt/ems/bin/ems web --config {config}",
        f"EnvironmentFile=-{config.parent}/secrets.env",
        f"ReadWritePaths=/srv/ems%%1 {data} {data}/run-conditions /var/cache/ems",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "WantedBy=multi-user.target",
    ):
        assert line in web
    assert not any(line.startswith("TimeoutStartSec=") for line in web)


def test_protect_home_read_only_for_an_ems_in_a_home(runner: CliRunner, tmp_path: Path) -> None:
    """An ems in a home, or whose Python is in one (pyenv, uv under /root): the jobs must
    see it."""
    config = absent_config(tmp_path)
    result = runner.invoke(app, ["systemd", "print", *config, "--ems", "/home/ems/.local/bin/ems"])
    assert result.exit_code == 0, result.stderr
    assert "ProtectHome=read-only" in result.stdout
    assert "ProtectHome=yes" not in result.stdout
    python = (default_ems().parent / "python").resolve()
    in_home = python.is_relative_to("/root") or python.is_relative_to("/home")
    default = runner.invoke(app, ["systemd", "print", *config]).stdout
    assert f"ProtectHome={'read-only' if in_home else 'yes'}" in default


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--user", "Bad User"], "not a valid system user name"),
        (["--ems", "bin/ems"], "must be an absolute path"),
        (["--working-directory", "/var/lib/my ems"], "spaces, quotes"),
        (["--config", "/etc/$HOME/c.toml"], "spaces, quotes"),
    ],
)
def test_bad_options_exit_2(runner: CliRunner, options: list[str], message: str) -> None:
    result = runner.invoke(app, ["systemd", "print", *options])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_install_never_overwrites_a_changed_unit(runner: CliRunner, tmp_path: Path) -> None:
    assert install(runner, tmp_path)[0] == 0
    again = install(runner, tmp_path)
    assert again[0] == 0
    assert f"0 unit files written to {tmp_path}, {UNIT_COUNT} unchanged" in again[1]
    changed = tmp_path / "elfe-ems-round.timer"
    changed.write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "elfe-ems-weather.service").unlink()
    code, out, err = install(runner, tmp_path)
    assert code == 1
    assert "elfe-ems-round.timer differ" in err
    assert "--force" in err
    assert out == ""
    assert changed.read_text() == "# edited by hand\n"
    assert not (tmp_path / "elfe-ems-weather.service").exists()  # nothing written
    code, out, err = install(runner, tmp_path, "--force")
    assert code == 0, err
    assert f"2 unit files written to {tmp_path}, {UNIT_COUNT - 2} unchanged" in out
    assert "OnCalendar=" in changed.read_text()
    assert oct(changed.stat().st_mode & 0o777) == "0o644"


def test_install_prints_the_next_commands(runner: CliRunner, tmp_path: Path) -> None:
    code, out, _err = install(runner, tmp_path, "--user", "elfe")
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    assert (
        "useradd --system --user-group --no-create-home --home-dir /var/lib/elfe-ems "
        "--shell /usr/sbin/nologin elfe"
    ) in lines
    assert f"install -d -o elfe -g elfe -m {DATA_FOLDER_MODE:04o} /var/lib/elfe-ems" in lines
    config = Path(absent_config(tmp_path)[1])
    secrets = config.parent / "secrets.env"
    assert f"chown root:elfe {config.parent} {config} {secrets}" in lines
    assert (
        f"chmod {CONFIG_FOLDER_MODE:04o} {config.parent} && "
        f"chmod {CONFIG_FILE_MODE:04o} {config} {secrets}"
    ) in lines
    assert "systemctl daemon-reload" in lines
    timers = " ".join(f"elfe-ems-{job.name}.timer" for job in JOBS)
    enable = f"systemctl enable --now {timers} elfe-ems-web.service"
    assert enable in lines
    assert lines.index("systemctl daemon-reload") < lines.index(enable)
