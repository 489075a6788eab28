"""The wheel the operator guide installs: built with ``uv build``, installed with its pinned
dependencies into a fresh venv (the ``program`` fixture), it runs and carries the files read
at run time."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

from elfe_ems.store.migrate import DATABASES, head_revision

RUN_TIME_FILES = (
    "elfe_ems/sim/coordination_schema.sql",
    "elfe_ems/web/static/layout.html",
    "elfe_ems/web/static/vendor/uPlot.iife.min.js",
    "elfe_ems/store/migrations/store/env.py",
    "elfe_ems/store/migrations/output/env.py",
)


def run(program: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program / "bin/ems"), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_installed_wheel_runs(program: Path) -> None:
    version = run(program, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("ems ")
    doctor = run(program, "doctor", "--help")
    assert doctor.returncode == 0, doctor.stderr
    assert "Usage: ems doctor" in doctor.stdout
    install = run(program, "install", "--help")
    assert install.returncode == 0, install.stderr


def test_wheel_carries_the_run_time_files(program: Path) -> None:
    (wheel,) = (program.parents[1] / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in RUN_TIME_FILES:
        assert name in names
    for database in DATABASES:
        head = head_revision(database)
        versions = f"elfe_ems/store/migrations/{database}/versions/"
        assert any(n.startswith(versions) and head in n for n in names), head
