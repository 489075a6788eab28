"""The balance forecasts a backtest's rounds plan with, made from the simulated
measurements the way production makes them, and their errors.

The measured balance here is the uncontrolled one (PV - household load, 15-min means). In
production the balance item also holds the piloted devices, and the power-prediction job adds
back the power the plans in force gave them (:mod:`elfe_ems.store.flexible`); here that power
is known exactly, so the history is the true balance without them.

- ``persistence``: :func:`~elfe_ems.forecast.persistence.forecast_from_means` of the 24 h of
  complete steps before the step in progress (the power prediction job runs 60 s before the round);
- ``profile``: :mod:`elfe_ems.forecast.weather_profile` fitted on the task's history (refitted each
  task, i.e. each day), with the weather forecast's PV yield;
- ``perfect``: the true balance (perfect foresight).
"""

from __future__ import annotations

import numpy as np

from elfe_ems.forecast.persistence import forecast_from_means
from elfe_ems.forecast.weather_profile import fit_profile, profile_forecast
from elfe_ems.sim.world import World
from elfe_ems.timegrid import STEP_S, STEPS

FORECASTERS = ("persistence", "profile", "perfect")
SCORED = ("persistence", "profile")


class Forecasts:
    """The forecasts of one task's rounds."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.balance_w = world.uncontrolled_balance_w()
        self.times_s = world.first_s + STEP_S * np.arange(self.balance_w.size)
        known = world.index(world.start_s) - 1  # complete when the first round's job runs
        self.model = fit_profile(
            self.times_s[:known],
            self.balance_w[:known],
            world.pv_yield_w_per_kwp[:known],
            world.tz,
        )

    def balance(self, forecaster: str, round_start_s: int) -> np.ndarray:
        """The balance [W] forecast for the 96 steps of the round starting at
        ``round_start_s``, by ``forecaster`` (one of :data:`FORECASTERS`)."""
        i = self.world.index(round_start_s)
        if forecaster == "perfect":
            return self.balance_w[i : i + STEPS].copy()
        if forecaster == "persistence":
            return forecast_from_means(self.balance_w[i - 1 - STEPS : i - 1])[1 : STEPS + 1]
        if forecaster == "profile":
            latest = i - 2  # the latest complete step when the job runs, 60 s before
            error = self.balance_w[latest] - self.model.balance_w(
                self.times_s[latest : latest + 1],
                self.world.pv_yield_w_per_kwp[latest : latest + 1],
            )
            return profile_forecast(
                self.model,
                self.times_s[i : i + STEPS],
                self.world.forecast_yield_w_per_kwp[i : i + STEPS],
                float(error[0]),
                int(self.times_s[latest]),
            )
        raise ValueError(f"unknown forecaster {forecaster!r} (one of {', '.join(FORECASTERS)})")

    def absolute_errors_w(self, forecaster: str) -> np.ndarray:
        """|forecast - truth| [W] of every round of the task (rows) at every lead (columns)."""
        errors = np.empty((STEPS, STEPS))
        for r in range(STEPS):
            start = self.world.start_s + r * STEP_S
            i = self.world.index(start)
            errors[r] = np.abs(self.balance(forecaster, start) - self.balance_w[i : i + STEPS])
        return errors
