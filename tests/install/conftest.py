"""Fixtures of the installation tests: a fresh coordination database (the ELFE DDL in its own
schema) and a layout of uniquely named databases and roles on the test server, all dropped
at the end (``tests/postgres.py``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from psycopg import sql

from elfe_ems.jobs.database_layout import DatabaseLayout
from elfe_ems.sim.community import coordination_schema
from postgres import admin, create_database, drop_database, unique_name

COORDINATION_SCHEMA = "elfe"
REPOSITORY = Path(__file__).parents[2]
WHEEL = f"elfe_ems-{version('elfe-ems')}-py3-none-any.whl"
SYSTEM_PYTHON = Path("/usr/bin/python3")
"""The venv's interpreter: outside /root, so that the EMS's user may run it."""


def guide_commands(dist: Path, venv: Path) -> list[list[str]]:
    """The operator guide's commands that make the program: the wheel and the pinned
    dependencies (from uv.lock), a virtual environment, both installed into it."""
    requirements = dist / "requirements.txt"
    return [
        ["uv", "build", "--wheel", "--out-dir", str(dist)],
        ["uv", "export", "--locked", "--no-dev", "--no-emit-project", "--no-hashes",
         "--output-file", str(requirements)],
        ["uv", "venv", "--python", str(SYSTEM_PYTHON), str(venv)],
        ["uv", "pip", "install", "--compile-bytecode", "--python", str(venv / "bin/python"),
         "-r", str(requirements),
         str(dist / WHEEL)],
    ]  # fmt: skip


@pytest.fixture(scope="session")
def program() -> Iterator[Path]:
    """The venv of the guide (``…/opt/elfe-ems``), made as the guide says; its folder."""
    if not SYSTEM_PYTHON.exists():
        pytest.fail(f"{SYSTEM_PYTHON} is needed (Debian package python3)")
    top = Path(tempfile.mkdtemp(prefix="ems-program-"))
    top.chmod(0o755)
    dist, venv = top / "dist", top / "opt/elfe-ems"
    try:
        for command in guide_commands(dist, venv):
            done = subprocess.run(
                command, cwd=REPOSITORY, capture_output=True, text=True, timeout=300, check=False
            )
            assert done.returncode == 0, f"{command}: {done.stderr}"
        yield venv
    finally:
        shutil.rmtree(top)


@pytest.fixture(scope="module")
def layout() -> Iterator[DatabaseLayout]:
    """A module's layout, whose coordination database exists (tables of the DDL, empty); its store
    database and roles do not yet: the installation makes them."""
    coordination = create_database("ems_install_coord")
    with admin(coordination) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(COORDINATION_SCHEMA)))
        connection.execute(
            sql.SQL("SET search_path TO {}").format(sql.Identifier(COORDINATION_SCHEMA))
        )
        connection.execute(coordination_schema().encode())
    tag = unique_name("i")
    chosen = DatabaseLayout(
        store_database=f"ems_install_{tag}",
        output_schema="ems_output",
        coordination_database=coordination,
        coordination_schema=COORDINATION_SCHEMA,
        owner_role=f"{tag}_owner",
        output_role=f"{tag}_output",
        reader_role=f"{tag}_reader",
    )
    try:
        yield chosen
    finally:
        drop_database(chosen.store_database)
        drop_database(coordination)
        with admin() as connection:
            for role in (chosen.owner_role, chosen.output_role, chosen.reader_role):
                connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
