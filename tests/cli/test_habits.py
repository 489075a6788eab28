"""The command line's habits (issue 16, item 2): ``--version``, times in and out in the
territory's local time, hints as the user runs commands, ``--json`` for scripts, progress of
the long commands on a terminal.

The demo's databases (one small community, 2027-01-12 18:05 CET) are the configuration of
the commands that need one; ``ems job`` runs a job of this file's own (``--target``) that
prints the time it is given.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console
from typer.testing import CliRunner

from elfe_ems.cli import app
from elfe_ems.demo.run import DemoOptions, run_demo
from elfe_ems.notices.hints import ems_command
from elfe_ems.timegrid.local import TimeTextError, local_text, parse_time, utc_iso

EMS = Path(sys.executable).with_name("ems")  # the console script of this environment
PARIS = ZoneInfo("Europe/Paris")
AT = 1_799_773_500  # 2027-01-12 18:05:00 CET = 17:05:00Z
GUIDE = (Path(__file__).parents[2] / "docs" / "operator-guide.md").read_text(encoding="utf-8")
CLOCK_JOB = "def echo(settings, now_s):\n    return repr(now_s)\n"

# every test in an empty working directory (where default databases would go), without
# EMS_… variables
pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The configuration file of a 2-home demo at :data:`AT` (no ``EMS_…`` variable)."""
    folder = tmp_path_factory.mktemp("habits") / "demo"
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.upper().startswith("EMS_") or n == "UV"]:
            patch.delenv(name)
        result = run_demo(
            DemoOptions(homes=2, days=1, folder=folder, at_s=AT), Console(file=io.StringIO())
        )
        yield result.files.config


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def clock_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration in Europe/Paris; the job ``clock_job:echo`` prints its time."""
    (tmp_path / "clock_job.py").write_text(CLOCK_JOB, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    config = tmp_path / "config.toml"
    config.write_text(f'data_dir = "{(tmp_path / "data").as_posix()}"\n', encoding="utf-8")
    return config


def _clock(runner: CliRunner, config: Path, *at: str) -> tuple[int, str, str]:
    """``ems job echo --at …``: exit code, the time the job got, standard error."""
    result = runner.invoke(
        app, ["job", "echo", "--target", "clock_job:echo", "--config", str(config), *at]
    )
    return result.exit_code, result.stdout.strip(), result.stderr


def _utc_s(*fields: int) -> float:
    """Unix time of a UTC date and time."""
    return datetime(*fields, tzinfo=UTC).timestamp()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- ems --version ---------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--version", "-V"])
def test_version_from_the_package_metadata(option: str) -> None:
    done = subprocess.run(
        [str(EMS), option], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"ems {version('elfe-ems')}\n"
    assert done.stderr == ""


# --- times in ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-12T18:05", AT),
        ("2027-01-12 18:05", AT),
        ("2027-01-12T18:05:30", AT + 30),
        ("2027-01-12 18:05:30", AT + 30),
        ("2027-01-12T17:05Z", AT),  # an offset is honoured: not read as local
        ("2027-01-12T18:05+01:00", AT),
        ("2027-01-12T12:05-05:00", AT),
        ("1799773500", AT),
        ("1799773500.5", AT + 0.5),
        ("2027-07-12T18:05", _utc_s(2027, 7, 12, 16, 5)),  # summer: CEST, +02:00
        ("2027-03-28T01:59", _utc_s(2027, 3, 28, 0, 59)),  # just before the gap: CET
        ("2027-03-28T03:00", _utc_s(2027, 3, 28, 1, 0)),  # the clocks jumped to 03:00 CEST
        ("2027-10-31T02:30+02:00", _utc_s(2027, 10, 31, 0, 30)),  # the first 02:30, CEST
        ("2027-10-31T02:30+01:00", _utc_s(2027, 10, 31, 1, 30)),  # the second, CET
    ],
)
def test_times_in(text: str, expected: float) -> None:
    assert parse_time(text, PARIS) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2027-03-28T02:30",
            "2027-03-28T02:30 does not exist in Europe/Paris: the clocks go from 02:00 CET to "
            "03:00 CEST; give a time before 02:00 or from 03:00 (e.g. 2027-03-28T03:30), or add "
            "the offset meant",
        ),
        (
            "2027-10-31 02:30",
            "2027-10-31T02:30 happens twice in Europe/Paris (the clocks go back): add the offset, "
            "2027-10-31T02:30+02:00 (CEST, the first) or 2027-10-31T02:30+01:00 (CET, the second)",
        ),
        ("tomorrow", "'tomorrow' is not a time: give a local time in ISO 8601, 2027-01-12T18:05"),
        ("2027-01-12", "'2027-01-12' is not a time"),  # a day is no time
        ("2027-13-12T18:05", "'2027-13-12T18:05' is not a time"),
        ("18:05", "'18:05' is not a time"),
    ],
)
def test_a_time_that_names_no_single_instant_is_refused(text: str, message: str) -> None:
    with pytest.raises(TimeTextError) as refused:
        parse_time(text, PARIS)
    assert str(refused.value).startswith(message)


def test_at_of_a_command_in_local_time(runner: CliRunner, clock_config: Path) -> None:
    for given in ("2027-01-12T18:05", "2027-01-12 18:05:00", "2027-01-12T17:05Z", str(AT)):
        code, got, err = _clock(runner, clock_config, "--at", given)
        assert (code, float(got)) == (0, AT), (given, err)
    # the configured zone is the local one
    clock_config.write_text(
        clock_config.read_text(encoding="utf-8") + 'timezone = "America/New_York"\n',
        encoding="utf-8",
    )
    code, got, _ = _clock(runner, clock_config, "--at", "2027-01-12T12:05")
    assert (code, float(got)) == (0, AT)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("2027-03-28T02:30", "2027-03-28T02:30 does not exist in Europe/Paris"),
        ("2027-10-31T02:30", "happens twice in Europe/Paris (the clocks go back): add the offset"),
        ("next week", "is not a time: give a local time in ISO 8601"),
    ],
)
def test_a_bad_at_is_a_usage_error(
    runner: CliRunner, clock_config: Path, given: str, said: str
) -> None:
    code, got, err = _clock(runner, clock_config, "--at", given)
    assert code == 2
    assert got == ""  # the job did not run
    assert err.startswith("error: --at: ")
    assert said in _one_line(err)
    if given == "next week":  # both forms are named
        assert "2027-01-12T18:05" in err
        assert "Unix seconds, 1799773500" in _one_line(err)
    assert "Traceback" not in err


@pytest.mark.parametrize("command", [["run"], ["job", "round"], ["demo"]])
def test_the_help_says_the_forms(runner: CliRunner, command: list[str]) -> None:
    shown = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    text = _one_line(shown.stdout)
    assert "--at TIME" in text
    assert "ISO 8601, 2027-01-12T18:05 or 2027-01-12 18:05:30" in text
    assert "Unix seconds, 1799773500" in text


def test_a_bad_demo_time_touches_nothing(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo", "--at", "2027-03-28T02:15", "--folder", str(tmp_path / "d")]
    )
    assert result.exit_code == 2
    assert "2027-03-28T02:15 does not exist in Europe/Paris" in _one_line(result.stderr)
    assert not (tmp_path / "d").exists()


# --- times out ---------------------------------------------------------------------------------


def test_times_out() -> None:
    assert local_text(AT, PARIS) == "2027-01-12 18:05 CET"
    assert local_text(AT + 30, PARIS) == "2027-01-12 18:05:30 CET"
    assert local_text(_utc_s(2027, 7, 12, 16, 5), PARIS) == "2027-07-12 18:05 CEST"
    assert utc_iso(AT) == "2027-01-12T17:05:00Z"


def test_ems_run_prints_local_times_and_no_python_text(runner: CliRunner, demo: Path) -> None:
    result = runner.invoke(app, ["run", "--config", str(demo), "--at", "2027-01-12T18:14:30"])
    assert result.exit_code == 0, result.output
    assert "plan rows published from round start 2027-01-12 18:15 CET;" in result.stdout
    assert "1799774100" not in result.stdout.replace("1799774100-elfe-ems", "")  # file name
    assert not re.search(r"[{\[]'|': ", result.stdout)  # no dict or list repr


def test_ems_jobs_prints_the_next_runs_in_local_time(runner: CliRunner, demo: Path) -> None:
    result = runner.invoke(app, ["jobs", "--config", str(demo)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    nexts = re.findall(r"next: (\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)? CES?T)", result.stdout)
    assert len(nexts) == 7


def test_a_job_summary_shows_local_times(runner: CliRunner, demo: Path) -> None:
    result = runner.invoke(
        app, ["job", "power-prediction", "--config", str(demo), "--at", "2027-01-12T18:29"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "balance forecast issued at 2027-01-12 18:29 CET: 192 steps from 2027-01-12 18:15 CET"
    )


# --- hints ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("uv", "prefix"), [(None, "ems"), ("/usr/local/bin/uv", "uv run ems")])
def test_hints_name_the_command_as_it_is_run(
    runner: CliRunner, tmp_path: Path, uv: str | None, prefix: str
) -> None:
    env = {"UV": uv, "EMS_TIME_LIMIT_S": "2"}
    folder = tmp_path / "demo"
    result = runner.invoke(
        app,
        ["demo", "--homes", "1", "--days", "1", "--folder", str(folder), "--at", str(AT)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    (_, after) = result.stdout.split("Next:\n")
    commands = [line.split("#")[0].strip() for line in after.splitlines()]
    assert commands == [  # the working directory is tmp_path
        f"{prefix} web --config demo/config.toml",
        f"{prefix} run --config demo/config.toml",
        f"{prefix} job cycles --config demo/config.toml",
    ]
    # a database's hint, too
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    status = runner.invoke(app, ["db", "status"], env=env | {"EMS_STORE_URL": empty})
    assert f"behind: run `{prefix} db upgrade`" in status.stdout


def test_the_hint_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ems_command("db upgrade") == "ems db upgrade"
    monkeypatch.setenv("UV", "/usr/bin/uv")
    assert ems_command("db upgrade") == "uv run ems db upgrade"
    monkeypatch.setenv("UV", "")
    assert ems_command("web") == "ems web"


# --- --json ------------------------------------------------------------------------------------


def _documented(command: str) -> str:
    """The operator guide's row of keys of ``command --json``."""
    (row,) = [line for line in GUIDE.splitlines() if line.startswith(f"| `{command} --json` |")]
    return row


def _utc(text: str, seconds: float) -> None:
    """An ISO 8601 UTC time and its Unix seconds agree."""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
    assert utc_iso(seconds) == text


def test_run_json(runner: CliRunner, demo: Path) -> None:
    result = runner.invoke(
        app, ["run", "--json", "--config", str(demo), "--at", "2027-01-12T18:29:30"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # one document, nothing else on stdout
    assert set(document) == {
        "published", "at", "at_s", "round_start", "round_start_s", "timezone", "rows_published",
        "import_wh", "import_wh_without_ems", "saved_wh", "peak_import_w", "solver",
        "device_types", "devices", "device_issues", "inputs", "scenario",
    }  # fmt: skip
    row = _documented("ems run")
    assert all(f"`{key}`" in row for key in document)
    assert all(f"`{key}`" in row for key in document["solver"])
    assert all(f"`{key}`" in row for key in document["device_types"][0])
    assert all(f"`{key}`" in row for key in document["inputs"][0])
    assert document["published"] is True
    assert (document["at"], document["at_s"]) == ("2027-01-12T17:29:30Z", AT + 24 * 60 + 30)
    assert (document["round_start"], document["round_start_s"]) == (
        "2027-01-12T17:30:00Z",
        AT + 1500,
    )
    assert document["timezone"] == "Europe/Paris"
    assert document["rows_published"] > 0
    assert document["saved_wh"] == pytest.approx(
        document["import_wh_without_ems"] - document["import_wh"]
    )
    assert document["solver"]["status"] in {"optimal", "feasible", "heuristic"}
    assert document["devices"]["total"] == sum(
        document["devices"][k] for k in ("planned", "relaxed", "left_out")
    )
    assert {i["name"] for i in document["inputs"]} >= {"forecast", "weather"}
    assert Path(document["scenario"]).is_file()
    assert "\x1b" not in result.stdout


def test_run_json_of_a_round_not_run(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    env = {name: url for name in ("EMS_COORDINATION_URL", "EMS_STORE_URL", "EMS_OUTPUT_URL")}
    result = runner.invoke(app, ["run", "--json", "--at", str(AT)], env=env)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert set(document) == {"published", "error", "at", "at_s", "timezone"}
    assert document["published"] is False
    assert "no such table" in document["error"]
    _utc(document["at"], document["at_s"])
    assert "round not run" in result.stderr


def test_jobs_json(runner: CliRunner, demo: Path) -> None:
    result = runner.invoke(app, ["jobs", "--json", "--config", str(demo)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"listed_at", "listed_at_s", "timezone", "jobs"}
    row = _documented("ems jobs")
    assert all(f"`{key}`" in row for key in document)
    assert all(f"`{key}`" in row for key in document["jobs"][0])
    _utc(document["listed_at"], document["listed_at_s"])
    jobs = {job["name"]: job for job in document["jobs"]}
    assert set(jobs) >= {"round", "power-prediction", "weather", "housekeeping"}
    round_job = jobs["round"]
    assert round_job["on_calendar"] == "*-*-* *:14,29,44,59:30 Europe/Paris"
    assert round_job["timeout_s"] == 240
    _utc(round_job["next_run"], round_job["next_run_s"])
    assert 0 < round_job["next_run_s"] - document["listed_at_s"] <= 15 * 60
    # 30 s past a quarter hour less one minute, in the territory's zone
    assert local_text(round_job["next_run_s"], PARIS)[-9:-4] in {
        "14:30",
        "29:30",
        "44:30",
        "59:30",
    }


# --- progress -----------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    """This process's environment without ``EMS_…`` variables (the demo's settings apply)
    nor ``FORCE_COLOR``."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("EMS_") and k != "FORCE_COLOR"
    }


def _on_terminal(*args: str) -> tuple[int, str, str]:
    """``ems ARGS`` with standard error on a pseudo-terminal: exit code, stdout, stderr."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in _environment().items() if k not in {"NO_COLOR", "TTY_COMPATIBLE"}}
    process = subprocess.Popen(
        [str(EMS), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env | {"TERM": "xterm", "COLUMNS": "120"},
    )
    os.close(terminal)
    shown: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed the terminal
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    out, _ = process.communicate(timeout=120)
    reader.join(timeout=10)
    os.close(controller)
    return process.returncode, out.decode(), b"".join(shown).decode(errors="replace")


def _piped(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EMS), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=_environment() | {"FORCE_COLOR": "1"},  # colours forced: still not a terminal
        timeout=120,
        check=False,
    )


@pytest.fixture
def scenario(ems: Any, tmp_path: Path) -> Path:
    raw = ems.scenario(
        [1000.0, -2000.0, 1000.0, 1000.0],
        [{"id": 1, "type": "machine", "profile_w": [1000.0], "earliest_start": ems.at(0),
          "latest_end": ems.at(4)}],
    )  # fmt: skip
    return ems.write(tmp_path / "round.json", raw)


def test_solve_and_replay_show_their_steps_on_a_terminal_only(scenario: Path) -> None:
    code, out, err = _on_terminal("solve", str(scenario), "--time-limit", "7")
    assert code == 0, err
    assert "planning (time limit 7 s)" in err
    assert "Import with EMS: 0.75 kWh" in out  # stdout untouched
    code, _, err = _on_terminal("replay", str(scenario), "--time-limit", "6")
    assert code == 0, err
    assert "replaying (time limit 6 s)" in err
    piped = _piped("solve", str(scenario), "--time-limit", "7")
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""  # no spinner, no escape sequence
    assert "Import with EMS: 0.75 kWh" in piped.stdout


def test_run_shows_its_steps_on_a_terminal_only(demo: Path) -> None:
    args = ("-q", "run", "--config", str(demo), "--at", "2027-01-12T18:44:30")
    code, out, err = _on_terminal(*args)
    assert code == 0, err
    for step in ("reading inputs", "planning (time limit 20 s)", "publishing"):
        assert step in err
    assert "plan rows published from round start 2027-01-12 18:45 CET" in out
    piped = _piped(*args)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
