"""The JSON answers of the API, as pydantic models: they make its OpenAPI description.

Times are Unix seconds UTC (the pages show them in the configured time zone), powers W,
energies Wh. Balances are net loads, consumption - production, as in the scenario and the
reports: positive is imported, negative a surplus (the output and store tables keep
production - consumption: the API turns their sign).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from elfe_ems.planner.scenario import DevicePlan, InputState, Savings, SolverInfo
from elfe_ems.store.health import Verdict


class Meta(BaseModel):
    """What every page needs to show its data."""

    timezone: str = Field(description="IANA time zone in which the pages show times.")
    planning_method: str = Field(description="The planning method whose rounds are shown.")
    # a list, not a tuple: OpenAPI tools read a tuple's `prefixItems` badly (schemathesis 4)
    round_age_limits_s: list[int] = Field(
        min_length=2,
        max_length=2,
        description="A last round older than the first [s] is a warning, than the second a "
        "failure (the limits of the health checks).",
    )
    machine_type_names: dict[int, str] = Field(
        description="Name of each known device type code (`machine_type`)."
    )


class DeviceCounts(BaseModel):
    """Every device of the coordination database in one round (``round/accounting.py``):
    ``planned + relaxed + left_out = total``."""

    total: int = Field(description="Devices in the coordination database.")
    planned: int = Field(description="Planned as asked.")
    relaxed: int = Field(description="Planned with a wish relaxed (see the device's warnings).")
    left_out: int = Field(description="Not planned in this round.")
    left_out_for_a_problem: int = Field(description="Left out for bad or missing data.")
    relaxed_by_reason: dict[str, list[int]] = Field(description="Device ids by relaxation.")
    left_out_by_reason: dict[str, list[int]] = Field(description="Device ids by reason.")
    problem_reasons: list[str] = Field(description="The reasons that are problems.")


class RoundSummary(BaseModel):
    """One attempt at a round, as the run log has it."""

    id: int
    round_start: int = Field(description="Start of the round's horizon [Unix s].")
    planning_method: str
    started_at: float = Field(description="When the attempt started [Unix s].")
    finished_at: float | None = Field(description="When it ended [Unix s]; null while running.")
    duration_s: float | None = Field(description="Time the round took, solve included [s].")
    status: Literal["running", "succeeded", "failed"]
    solver_status: str | None
    gap: float | None = Field(description="Relative gap of the import to lower_bound_wh [-].")
    lower_bound_wh: float | None = Field(description="Proven lower bound on the import [Wh].")
    import_wh: float | None = Field(description="Energy imported with the plan [Wh].")
    import_wh_asap: float | None = Field(
        description="Energy imported with every device as early as allowed [Wh]."
    )
    devices_planned: int | None
    devices_skipped: int | None
    input_ages_s: dict[str, int | None] | None = Field(
        description="Age of each input at the round start [s]."
    )
    input_freshness: list[InputState] | None = Field(
        default=None, description="Each input's freshness at the round start (null: older)."
    )
    devices: DeviceCounts | None = Field(
        default=None, description="Every device accounted for (null for older rounds)."
    )
    savings: Savings | None = Field(
        default=None, description="Where the import avoided comes from (null: older rounds)."
    )
    savings_text: list[str] = Field(
        default=[],
        description="The savings in plain words, one sentence each (empty: older rounds).",
    )
    error: str | None = Field(description="Why the round failed.")
    plan_available: bool = Field(description="Whether the round's plan file can be opened.")


class BalanceCurves(BaseModel):
    """Net load, consumption - production, per step of the plan [W] (positive: imported),
    null where unknown."""

    net_load_before_w: list[float | None] = Field(
        description="Before placing the flexible devices."
    )
    net_load_after_w: list[float | None] = Field(description="After placing them.")
    source: Literal["published", "saved files"] = Field(
        description="The output tables (what the control daemon reads) or the round's "
        "scenario and plan files (an older round, whose published steps later rounds rewrote)."
    )


class PlanView(BaseModel):
    """A round's plan: its devices' decisions and power, and the balance it leads to."""

    round: RoundSummary
    round_start: int = Field(description="Start of step 0 [Unix s].")
    step_s: int
    steps: int
    import_wh: float
    import_wh_asap: float
    solver: SolverInfo
    balance: BalanceCurves
    devices: list[DevicePlan]


class HorizonScore(BaseModel):
    """Forecasts issued at least ``horizon_h`` hours before their step, against measurements."""

    horizon_h: float = Field(description="0: the latest forecast issued before the step.")
    forecast_net_load_w: list[float | None] = Field(
        description="Forecast net load per measured step [W]; null: none issued."
    )
    mae_w: float | None = Field(description="Mean absolute error over the steps forecast [W].")
    bias_w: float | None = Field(
        description="Mean of forecast - measured net load [W]: positive forecasts more import."
    )
    steps_scored: int


class ForecastView(BaseModel):
    """The measured balance of a period and the forecasts of it, per horizon."""

    start: int = Field(description="Start of the period [Unix s].")
    end: int = Field(description="End of the period [Unix s], exclusive.")
    step_starts: list[int] = Field(description="The measured steps [Unix s].")
    measured_net_load_w: list[float] = Field(
        description="Measured consumption - production [W] less the piloted devices' power in "
        "the plans in force: the net load without them, which the forecasts forecast."
    )
    horizons: list[HorizonScore]


class CheckView(BaseModel):
    """One check of ``ems doctor``."""

    name: str
    verdict: Verdict
    detail: str


class HealthView(BaseModel):
    """The checks of ``ems doctor``, and the worst verdict."""

    checked_at: float = Field(description="When the checks ran [Unix s].")
    verdict: Verdict
    checks: list[CheckView]
