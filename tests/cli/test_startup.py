"""``ems --help`` starts fast: the command line imports no heavy library (issue 15).

Each command imports what it needs (the solver, the databases, the data and web libraries)
inside its body, so that ``ems`` and the help of every command and group start without them.
The check runs in a fresh interpreter: this one has imported them long ago. Timing is left to
the benchmarks; here only the modules imported are checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

from elfe_ems.cli.planning import DEFAULT_GAP, DEFAULT_TIME_LIMIT_S
from elfe_ems.planner.core import SolveOptions

HEAVY = (
    "alembic",
    "fastapi",
    "highspy",
    "httpx",
    "numpy",
    "pandas",
    "plotext",
    "psycopg",
    "pvlib",
    "scipy",
    "sqlalchemy",
)

# the help of every command and group, then the heavy modules imported by then
HELP_OF_EVERY_COMMAND = f"""
import json
import sys

import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from elfe_ems.cli import app


def paths(command, path):
    yield path
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from paths(sub, [*path, name])


runner = CliRunner()
shown = []
for path in paths(typer.main.get_command(app), []):
    result = runner.invoke(app, [*path, "--help"])
    if result.exit_code != 0 or "Usage:" not in result.output:
        sys.exit(f"ems {{' '.join(path)}} --help: exit {{result.exit_code}}\\n{{result.output}}")
    shown.append(" ".join(path))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {set(HEAVY)!r})
print(json.dumps({{"shown": shown, "heavy": heavy}}))
"""


def fresh_report(code: str) -> dict:
    """The JSON report that ``code`` prints last, run in a fresh interpreter."""
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    report: dict = json.loads(run.stdout.splitlines()[-1])
    return report


def test_help_imports_no_heavy_library() -> None:
    report = fresh_report(HELP_OF_EVERY_COMMAND)
    assert {"", "solve", "db", "db upgrade", "cycles show", "systemd install"} <= set(
        report["shown"]
    )
    assert sorted({module.split(".")[0] for module in report["heavy"]}) == []


VERSION_IMPORTS = f"""
import json, sys
from typer.testing import CliRunner
from elfe_ems.cli import app
result = CliRunner().invoke(app, ["--version"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {set(HEAVY)!r})
print(json.dumps({{"code": result.exit_code, "out": result.stdout, "heavy": heavy}}))
"""


def test_version_loads_no_heavy_library() -> None:
    report = fresh_report(VERSION_IMPORTS)
    assert (report["code"], report["out"]) == (0, f"ems {version('elfe-ems')}\n")
    assert report["heavy"] == []


def test_solve_defaults_are_the_planners() -> None:
    """``ems solve`` shows the configuration's time limit and gap (read without the planner):
    they are the planner's own defaults."""
    planner = SolveOptions()
    assert (planner.time_limit_s, planner.gap) == (DEFAULT_TIME_LIMIT_S, DEFAULT_GAP)
