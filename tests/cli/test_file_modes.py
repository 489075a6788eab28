"""What the EMS writes is its user's alone: real ``ems`` processes, started with the usual
umask 022, make their folders 0700 and their files 0600 (the SQLite store and its ``-wal`` and
``-shm`` files while they exist, the run conditions, the demo's configuration and report).
The modes are read while the processes run, so that files that live only during a run are
seen too; ``ems install``'s files are checked in ``tests/install``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

EMS = Path(sys.executable).with_name("ems")
TIMEOUT_S = 120
STARTED_WITH = 0o022


class ModeWatch:
    """Every path under ``folder`` and each mode it had, read over and over in a thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.modes: dict[Path, set[int]] = {}
        self.looks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ModeWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._look()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self._look()
            time.sleep(0.002)

    def _look(self) -> None:
        self.looks += 1
        for path in [self.folder, *self.folder.rglob("*")]:
            try:
                mode = path.lstat().st_mode
            except OSError:  # gone meanwhile
                continue
            self.modes.setdefault(path, set()).add(mode)

    def wrong(self) -> list[str]:
        """The paths that were ever not 0700 (a folder) or 0600 (a file)."""
        return [
            f"{path}: {mode & 0o7777:04o}"
            for path, modes in sorted(self.modes.items())
            for mode in modes
            if mode & 0o7777 != (0o700 if path.is_dir() or mode & 0o40000 else 0o600)
        ]


def ems(folder: Path, *arguments: str) -> None:
    """``ems ARGUMENTS`` in ``folder``, with the umask 022 and no ``EMS_…`` variable."""
    environment = {n: v for n, v in os.environ.items() if not n.upper().startswith("EMS_")}
    done = subprocess.run(
        [EMS, *arguments],
        cwd=folder,
        env=environment,
        umask=STARTED_WITH,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["demo", "--homes", "3", "--days", "1"],  # store, run conditions, report, config
        ["db", "upgrade"],  # the embedded store made in ./ems-data
    ],
)
def test_what_the_ems_writes_is_its_users_alone(tmp_path: Path, command: list[str]) -> None:
    data = tmp_path / "ems-data"
    data.mkdir()
    data.chmod(0o700)  # the folder the installation makes; the EMS makes the ones in it
    with ModeWatch(data) as watch:
        ems(tmp_path, *command)
    made = [p for p in watch.modes if p != data]
    assert any(p.name.endswith(".sqlite-wal") for p in made), sorted(made)
    assert any(p.name == "ems.sqlite" for p in made)
    if command[0] == "demo":
        assert any(p.suffix == ".json" and p.parent.name == "run-conditions" for p in made)
        assert any(p.suffix == ".html" for p in made)
    assert watch.wrong() == []
    print(f"\n{command[0]}: {len(made)} paths made, {watch.looks} looks; 0 other modes")
