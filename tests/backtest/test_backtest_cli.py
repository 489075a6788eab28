"""``ems backtest`` end to end on a tiny community, and the runs on Dask."""

from __future__ import annotations

import csv
from pathlib import Path

import dask
import pytest
from distributed import LocalCluster
from typer.testing import CliRunner

from elfe_ems.backtest.loop import CONFIGS, Task, run_task
from elfe_ems.backtest.report import LABELS
from elfe_ems.backtest.runner import BacktestOptions, run_backtest, tasks_of
from elfe_ems.backtest.summary import TOTAL
from elfe_ems.cli import app
from elfe_ems.sim.world import Site
from report_pages import read_report


def test_command_writes_report_and_csv(tmp_path: Path) -> None:
    """A local cluster of one worker process, one summer day of 6 homes."""
    result = CliRunner().invoke(
        app,
        ["backtest", "--days", "1", "--homes", "6", "--season", "summer", "--workers", "1",
         "--output", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 runs in" in result.output
    assert "1 local workers" in result.output
    with (tmp_path / "backtest.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    groups = {row["group"] for row in rows}
    assert groups == {"summer day 1 seed 1", "summer", TOTAL}
    totals = {row["config"]: row for row in rows if row["group"] == TOTAL}
    assert list(totals) == list(CONFIGS)
    assert all(row["constraints_broken"] == "0" for row in rows)
    assert float(totals["perfect"]["captured_share"]) == 1
    assert float(totals["perfect"]["import_kwh"]) < float(totals["none"]["import_kwh"])
    assert totals["none"]["forecast_mae_kw"] == ""
    assert totals["profile"]["forecast_skill"] != ""
    page = read_report((tmp_path / "report.html").read_text(encoding="utf-8"))
    assert sorted(page.charts) == ["forecast-error-chart", "mean-day-summer"]
    # the mean of one day is that day: its import is the CSV's, import positive
    mean_day = page.charts["mean-day-summer"]
    assert [s["label"] for s in mean_day["series"]] == [LABELS[c] for c in CONFIGS]
    for config, series in zip(CONFIGS, mean_day["series"], strict=True):
        imported_kwh = sum(max(kw, 0) for kw in series["values"]) * mean_day["step"]
        assert imported_kwh == pytest.approx(float(totals[config]["import_kwh"]), abs=1e-3)
    errors = page.charts["forecast-error-chart"]["series"]
    assert [s["label"] for s in errors] == [LABELS["persistence"], LABELS["profile"]]
    for config, series in zip(("persistence", "profile"), errors, strict=True):
        mae_kw = sum(series["values"]) / len(series["values"])
        assert mae_kw == pytest.approx(float(totals[config]["forecast_mae_kw"]), abs=1e-3)


def test_bad_scheduler_fails_clearly(tmp_path: Path) -> None:
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(
        app,
            ["backtest", "--days", "1", "--homes", "1", "--season", "summer",
             "--scheduler", "tcp://127.0.0.1:1", "--output", str(tmp_path)],
        )  # fmt: skip
    assert result.exit_code == 1
    assert "Dask" in result.output


def test_dask_threads_give_the_same_results(site: Site) -> None:
    """Two in-process workers: each task's result is the one it gives alone."""
    options = BacktestOptions(days=1, homes=2, site=site, seasons=("summer",), processes=False)
    assert options.workers == 2
    seen: list[Task] = []
    results = run_backtest(options, lambda r: seen.append(r.task))
    assert sorted(map(str, seen)) == sorted(map(str, tasks_of(options)))
    assert [r.task.config for r in results] == list(CONFIGS)  # in task order
    alone = run_task(results[0].task)
    assert alone.figures == results[0].figures


def test_options_are_checked(site: Site) -> None:
    with pytest.raises(ValueError, match="need days >= 1"):
        tasks_of(BacktestOptions(days=0, homes=2, site=site))


def test_runs_on_an_existing_scheduler(site: Site) -> None:
    """``--scheduler``: the runs go to that cluster's workers."""
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster:
        options = BacktestOptions(
            days=1, homes=2, site=site, seasons=("summer",), scheduler=cluster.scheduler_address
        )
        results = run_backtest(options)
        assert [r.task.config for r in results] == list(CONFIGS)
        assert cluster.scheduler is not None
        assert cluster.scheduler.transition_counter > 0  # it ran them
