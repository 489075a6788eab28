"""A backtest's figures: per day (one task each) and summed per season and in total.

The EMS's worth is the share of perfect foresight's import reduction it captures
(:func:`~elfe_ems.backtest.metrics.captured_share`, from the imports summed over the same days);
a forecaster's skill is ``1 - MAE / MAE of persistence``, over every lead of every round.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import add
from pathlib import Path

import numpy as np

from elfe_ems.backtest.loop import CONFIGS, TaskResult
from elfe_ems.backtest.metrics import EnergyFigures, captured_share

TOTAL = "total"


@dataclass(frozen=True)
class Figures:
    """The figures of one configuration over a set of days."""

    energy: EnergyFigures
    comfort_missed_kh: float
    hot_water_missing_wh: float
    broken: int
    days: int
    round_s: tuple[float, ...]
    mae_w: np.ndarray | None  # per lead, mean over the days' rounds

    @classmethod
    def of(cls, results: Sequence[TaskResult]) -> Figures:
        """The figures of the results of one configuration together."""
        maes = [r.mae_w for r in results if r.mae_w is not None]
        return cls(
            energy=reduce(add, (r.figures for r in results)),
            comfort_missed_kh=sum(r.comfort_missed_kh for r in results),
            hot_water_missing_wh=sum(r.hot_water_missing_wh for r in results),
            broken=sum(len(r.broken) for r in results),
            days=len(results),
            round_s=tuple(s for r in results for s in r.round_s),
            mae_w=np.mean(maes, axis=0) if maes else None,
        )

    @property
    def mean_mae_w(self) -> float:
        """The MAE over every lead [W] (NaN without a forecaster)."""
        return float(self.mae_w.mean()) if self.mae_w is not None else float("nan")


def skill(model: Figures, persistence: Figures) -> float:
    """``1 - MAE / MAE of persistence`` (NaN without both)."""
    if model.mae_w is None or persistence.mae_w is None:
        return float("nan")
    return 1 - model.mean_mae_w / persistence.mean_mae_w


def captured(by_config: dict[str, Figures], config: str) -> float:
    """The share of perfect foresight's import reduction that ``config`` captures."""
    return captured_share(
        by_config["none"].energy.import_wh,
        by_config[config].energy.import_wh,
        by_config["perfect"].energy.import_wh,
    )


def group_label(result: TaskResult) -> str:
    """A day's label: ``summer day 3 seed 1``."""
    key = result.task.key
    return f"{key.season} day {key.day + 1} seed {key.seed}"


def summarise(results: Iterable[TaskResult]) -> dict[str, dict[str, Figures]]:
    """The figures per configuration of each day (by :func:`group_label`), each season and
    in total (:data:`TOTAL`), in that order."""
    groups: dict[str, dict[str, list[TaskResult]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        for group in (group_label(result), result.task.key.season, TOTAL):
            groups[group][result.task.config].append(result)
    return {
        group: {config: Figures.of(found[config]) for config in CONFIGS if found.get(config)}
        for group, found in groups.items()
    }


CSV_COLUMNS = (
    "group", "config", "days", "import_kwh", "export_kwh", "pv_kwh", "consumption_kwh",
    "self_consumption", "self_sufficiency", "peak_import_kw", "comfort_missed_kh",
    "hot_water_missing_kwh", "constraints_broken", "captured_share", "forecast_mae_kw",
    "forecast_skill", "round_mean_s", "round_max_s",
)  # fmt: skip


def csv_rows(summary: dict[str, dict[str, Figures]]) -> list[dict[str, object]]:
    """One row per group and configuration (see :data:`CSV_COLUMNS`)."""
    rows = []
    for group, by_config in summary.items():
        complete = all(c in by_config for c in ("none", "perfect"))
        for config, figures in by_config.items():
            energy = figures.energy
            rows.append(
                {
                    "group": group,
                    "config": config,
                    "days": figures.days,
                    "import_kwh": round(energy.import_wh / 1000, 3),
                    "export_kwh": round(energy.export_wh / 1000, 3),
                    "pv_kwh": round(energy.pv_wh / 1000, 3),
                    "consumption_kwh": round(energy.consumption_wh / 1000, 3),
                    "self_consumption": round(energy.self_consumption, 4),
                    "self_sufficiency": round(energy.self_sufficiency, 4),
                    "peak_import_kw": round(energy.peak_import_w / 1000, 3),
                    "comfort_missed_kh": round(figures.comfort_missed_kh, 3),
                    "hot_water_missing_kwh": round(figures.hot_water_missing_wh / 1000, 3),
                    "constraints_broken": figures.broken,
                    "captured_share": round(captured(by_config, config), 4) if complete else "",
                    "forecast_mae_kw": round(figures.mean_mae_w / 1000, 3)
                    if figures.mae_w is not None
                    else "",
                    "forecast_skill": round(skill(figures, by_config["persistence"]), 4)
                    if figures.mae_w is not None and "persistence" in by_config
                    else "",
                    "round_mean_s": round(float(np.mean(figures.round_s)), 3)
                    if figures.round_s
                    else "",
                    "round_max_s": round(max(figures.round_s), 3) if figures.round_s else "",
                }
            )
    return rows


def write_csv(path: Path, summary: dict[str, dict[str, Figures]]) -> None:
    """The figures as CSV, one row per group and configuration."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(summary))
