"""Forecasts against the measured net load (consumption - production), per horizon.

For a horizon of ``h`` hours, each measured step is compared with the latest forecast of it
issued at least ``h`` hours before the step starts (``h = 0``: the latest issued before the
step, what a round planning that step read). The error of a step is forecast - measured; a
horizon's score is the mean absolute error (MAE) and the mean error (bias) over the steps it
forecast.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from elfe_ems.web.models import HorizonScore

HORIZONS_H = (0.0, 1.0, 6.0, 24.0)
"""The horizons the dashboard scores [h]."""


def score_horizon(measured: pd.DataFrame, issued: pd.DataFrame, horizon_h: float) -> HorizonScore:
    """``measured``: ``target_time``, ``measured_w`` sorted by time; ``issued``:
    ``target_time``, ``issue_time``, ``power_w`` sorted by issue time."""
    steps = measured.assign(cutoff=measured["target_time"] - round(horizon_h * 3600))
    matched = pd.merge_asof(
        steps,
        issued,
        left_on="cutoff",
        right_on="issue_time",
        by="target_time",
        direction="backward",
    )
    error = (matched["power_w"] - matched["measured_w"]).dropna()
    return HorizonScore(
        horizon_h=horizon_h,
        forecast_net_load_w=[None if pd.isna(v) else float(v) for v in matched["power_w"]],
        mae_w=float(error.abs().mean()) if len(error) else None,
        bias_w=float(error.mean()) if len(error) else None,
        steps_scored=len(error),
    )


def score_forecasts(
    measured: Sequence[tuple[int, float]],
    forecasts: Sequence[tuple[int, int, float]],
    horizons_h: Sequence[float] = HORIZONS_H,
) -> list[HorizonScore]:
    """Each horizon's forecasts of the ``measured`` steps (step start, net load W, in time
    order) and their errors; ``forecasts``: (target time, issue time, net load W) rows."""
    steps = pd.DataFrame(measured, columns=["target_time", "measured_w"]).astype(
        {"target_time": "int64", "measured_w": "float64"}
    )
    issued = (
        pd.DataFrame(forecasts, columns=["target_time", "issue_time", "power_w"])
        .astype({"target_time": "int64", "issue_time": "int64", "power_w": "float64"})
        .sort_values("issue_time", kind="stable")
    )
    return [score_horizon(steps, issued, h) for h in horizons_h]
