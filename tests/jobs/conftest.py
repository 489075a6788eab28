"""Fixtures of the job-runner tests: a configuration whose data folder is the test's own, with
a migrated store (the runs are recorded there), and the job processes able to import the test
jobs of ``ems_test_jobs``."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from elfe_ems.config import load_settings
from elfe_ems.db.engine import engine_for
from elfe_ems.store import migrate

HERE = Path(__file__).parent


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A configuration file: data in ``tmp_path/data``; the job processes find the test
    jobs through ``PYTHONPATH``."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("EMS_CONFIG", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(f'data_dir = "{(tmp_path / "data").as_posix()}"\n', encoding="utf-8")
    with engine_for(load_settings(path).store_url) as store:
        migrate.upgrade(store, "store")
    return path


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``ems`` reconfigures the root logger and the run loggers' levels: put them back."""
    loggers = [
        logging.getLogger(n)
        for n in ("", "elfe_ems.cli.jobs", "elfe_ems.jobs.serve", "apscheduler")
    ]
    saved = [(logger, logger.handlers[:], logger.level) for logger in loggers]
    yield
    for logger, handlers, level in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
