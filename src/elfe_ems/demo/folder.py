"""The demo's folder: its files, the guard that keeps the demo out of other folders, and the
configuration file that points every EMS command at it.

A demo folder holds :data:`MARKER`. A new demo replaces the files of the previous one (and
only those: anything else the user put there stays); a folder that is not empty and has no
marker is refused, so a mistyped ``--folder`` never deletes anybody's data.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from elfe_ems.config import Settings, load_settings

MARKER = ".ems-demo"
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class DemoFolderError(ValueError):
    """The folder cannot be used for the demo; the message says why."""


@dataclass(frozen=True)
class DemoFiles:
    """The paths of a demo folder (absolute)."""

    folder: Path

    @property
    def coordination(self) -> Path:
        """The coordination database (SQLite)."""
        return self.folder / "coordination.sqlite"

    @property
    def ems(self) -> Path:
        """The store and output databases (one SQLite file)."""
        return self.folder / "ems.sqlite"

    @property
    def measurements(self) -> Path:
        """The recorded measurements (SQLite)."""
        return self.folder / "measurements.sqlite"

    @property
    def run_conditions(self) -> Path:
        """The rounds' scenario and plan files."""
        return self.folder / "run-conditions"

    @property
    def config(self) -> Path:
        """The configuration file of the demo."""
        return self.folder / "config.toml"

    @property
    def report(self) -> Path:
        """The HTML report."""
        return self.folder / "report.html"

    def config_values(self, time_limit_s: float) -> dict[str, str | float]:
        """The configuration keys that point the EMS at this folder."""
        return {
            "data_dir": self.folder.as_posix(),
            "coordination_url": f"sqlite:///{self.coordination.as_posix()}",
            "store_url": f"sqlite:///{self.ems.as_posix()}",
            "output_url": f"sqlite:///{self.ems.as_posix()}",
            "measurements_url": f"sqlite:///{self.measurements.as_posix()}",
            "run_conditions_dir": self.run_conditions.as_posix(),
            "time_limit_s": time_limit_s,
        }


def prepare_folder(folder: Path) -> DemoFiles:
    """The demo's files in ``folder``, emptied of a previous demo's (see the module docstring);
    :class:`DemoFolderError` when the folder is not a demo folder."""
    files = DemoFiles(folder.resolve())
    if files.folder.exists() and not files.folder.is_dir():
        raise DemoFolderError(f"{folder} is a file, not a folder")
    marked = (files.folder / MARKER).is_file()
    if files.folder.is_dir() and not marked and any(files.folder.iterdir()):
        raise DemoFolderError(
            f"{folder} is not empty and is not a demo folder (it has no {MARKER} file): "
            "choose another --folder"
        )
    for database in (files.coordination, files.ems, files.measurements):
        for suffix in SQLITE_SUFFIXES:
            database.with_name(database.name + suffix).unlink(missing_ok=True)
    for path in (files.config, files.report):
        path.unlink(missing_ok=True)
    shutil.rmtree(files.run_conditions, ignore_errors=True)
    files.folder.mkdir(parents=True, exist_ok=True)
    (files.folder / MARKER).write_text("A folder written by `ems demo`.\n", encoding="utf-8")
    return files


def write_config(files: DemoFiles, time_limit_s: float) -> Settings:
    """Write the demo's configuration file and read it back as every command will; a
    :class:`DemoFolderError` when an ``EMS_…`` environment variable would send the demo to
    other databases or folders."""
    values = files.config_values(time_limit_s)
    lines = [
        "# Written by `ems demo`: every database of the EMS in this folder.",
        "# Use it with any command, e.g. `ems run --config THIS_FILE`.",
        *(f"{key} = {json.dumps(value)}" for key, value in values.items()),
    ]
    files.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = load_settings(files.config)
    # the time limit may be overridden (e.g. EMS_TIME_LIMIT_S for a quicker round), not a place
    overridden = [
        f"EMS_{key.upper()}"
        for key, value in values.items()
        if key != "time_limit_s" and not _same(getattr(settings, key), str(value))
    ]
    if overridden:
        raise DemoFolderError(
            f"{', '.join(overridden)} set in the environment would send the demo elsewhere: "
            "unset it to run the demo"
        )
    return settings


def _same(actual: object, expected: str) -> bool:
    """Whether a setting is the value written (paths compared as paths)."""
    return Path(expected) == actual if isinstance(actual, Path) else actual == expected
