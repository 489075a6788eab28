"""The power-prediction job forecasts the balance without the piloted devices: it adds back,
to the measured balance of each past step, the power the plans in force gave them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from acquisition_env import JobsEnv, new_env
from elfe_ems.db.engine import engine_for
from elfe_ems.jobs import power_prediction
from elfe_ems.sources.recorded import create_tables, record_items, record_samples
from elfe_ems.store import tables

NOW = 1_800_000_000  # on a quarter hour
STEP = 900
DAY = 86_400
MEASURED_W = -1000.0  # production - consumption, the devices included
FLEXIBLE = range(NOW - DAY + 16 * STEP, NOW - DAY + 24 * STEP, STEP)  # 2 h, yesterday morning
FLEXIBLE_W = 3000.0


@pytest.fixture
def env(tmp_path: Path) -> JobsEnv:
    folder = tmp_path / "ems"
    folder.mkdir()
    return new_env(folder)


@pytest.fixture
def recorded(tmp_path: Path) -> str:
    """A flat measured balance, a sample a minute over the last 25 h."""
    url = f"sqlite:///{tmp_path / 'measurements.sqlite'}"
    with engine_for(url) as engine:
        create_tables(engine)
        record_items(
            engine,
            [{"item_id": 1, "host_id": 1, "name": "balance", "key": "balance", "units": "W",
              "value_type": 0}],
        )  # fmt: skip
        minutes = np.arange(NOW - DAY - 3600, NOW, 60)
        record_samples(engine, 1, minutes, np.full(minutes.size, MEASURED_W))
    return url


def test_the_devices_power_is_added_back(env: JobsEnv, recorded: str) -> None:
    env.write(
        tables.flexible_power,
        [
            {
                "planning_method": "elfe-ems",
                "step_start": t,
                "power_w": FLEXIBLE_W,
                "round_start": t,
            }
            for t in FLEXIBLE
        ],
    )
    settings = env.settings(measurements_url=recorded, balance_item_id=1)
    summary = power_prediction.job(settings, NOW + 60)
    assert "with 6.0 kWh of piloted devices' planned consumption added back" in summary
    forecast = {
        r["target_time"]: r["power_w"]
        for r in env.rows(tables.forecast)
        if r["source"] == power_prediction.SOURCE
    }
    for t in range(NOW, NOW + DAY, STEP):  # the same step a day later
        expected = MEASURED_W + (FLEXIBLE_W if t - DAY in FLEXIBLE else 0.0)
        assert forecast[t] == pytest.approx(expected), t
    # what is stored as measured is the measurement, unchanged
    assert {r["power_w"] for r in env.rows(tables.balance_measurement)} == {MEASURED_W}
