"""The scenario and plan files: the planner's input and output (a public contract).

Both formats are versioned by their ``format`` field and validated on read. A file that does
not validate raises :class:`ScenarioError`, whose message names the device and the field at
fault, one problem per line. Units: powers in W (mean over a step), energies in Wh, times in
Unix seconds UTC, temperatures in °C.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# Final keeps the literal types, so the values fit the Literal ``format`` fields
SCENARIO_FORMAT: Final = "elfe-ems.scenario/1"
PLAN_FORMAT: Final = "elfe-ems.plan/1"

NonNegative = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
ModelT = TypeVar("ModelT", bound=BaseModel)


class ScenarioError(ValueError):
    """A scenario or plan file that cannot be used as it is; the message says why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def _check_interval(start: int, end: int, start_name: str, end_name: str) -> None:
    if end < start:
        raise ValueError(f"{end_name} ({end}) is before {start_name} ({start})")


class DeviceSpec(_Strict):
    """Fields common to every device.

    ``previous_decisions`` (optional) are the decisions of the plan in force for the device,
    on this scenario's grid (the previous round's plan, shifted; 0 where it says nothing): the
    planner starts from them and, among plans of the same import, keeps them.
    """

    id: int
    machine_type: int | None = None
    previous_decisions: list[Annotated[int, Field(ge=0, le=1)]] | None = None
    if TYPE_CHECKING:  # for the type checker only: each concrete spec's Literal discriminator
        type: str


class MachineSpec(DeviceSpec):
    """Washing machine, dishwasher or dryer: one cycle to place in a window."""

    type: Literal["machine"]
    profile_w: Annotated[list[NonNegative], Field(min_length=1)]
    earliest_start: int
    latest_end: int

    @model_validator(mode="after")
    def _window(self) -> MachineSpec:
        _check_interval(self.earliest_start, self.latest_end, "earliest_start", "latest_end")
        return self


class WaterHeaterSpec(DeviceSpec):
    """Electric hot-water tank: one contiguous heating run inside an off-peak window."""

    type: Literal["water_heater"]
    power_w: NonNegative
    energy_wh: NonNegative
    windows: list[tuple[int, int]]

    @field_validator("windows")
    @classmethod
    def _windows(cls, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
        for i, (start, end) in enumerate(windows):
            _check_interval(start, end, f"windows[{i}] start", f"windows[{i}] end")
        return windows


class EvSpec(DeviceSpec):
    """Electric vehicle on a switched plug: one charge start."""

    type: Literal["ev"]
    power_w: NonNegative
    capacity_wh: NonNegative
    soc_pct: Percent
    target_soc_pct: Percent
    available_from: int
    deadline: int


class ComfortPeriod(_Strict):
    """A comfort period of a pilot-wire heater, with the comfort steps still owed in it."""

    start: int
    end: int
    min_comfort_steps: Annotated[int, Field(ge=0)]

    @model_validator(mode="after")
    def _interval(self) -> ComfortPeriod:
        _check_interval(self.start, self.end, "start", "end")
        return self


class PilotWireHeaterSpec(DeviceSpec):
    """Heater switched between comfort and eco by its pilot wire.

    ``applied_before`` (optional, 0/1, oldest first, at most ``window_steps - 1``): the
    decisions already applied on the steps just before ``round_start`` that lie in the comfort
    period in progress at ``round_start`` (the last one is the step ending at
    ``round_start``). The runs of ``window_steps`` steps that begin among them count them.
    Empty or absent: none (the period begins at ``round_start``, or nothing is known).
    """

    type: Literal["pilot_wire_heater"]
    eco_power_w: NonNegative
    comfort_power_w: NonNegative
    comfort_periods: list[ComfortPeriod]
    window_steps: Annotated[int, Field(ge=1)] = 4
    min_comfort_in_window: Annotated[int, Field(ge=0)] = 3
    applied_before: list[Annotated[int, Field(ge=0, le=1)]] = Field(
        default_factory=list,
        description="Decisions applied on the steps just before round_start in the comfort "
        "period in progress, oldest first, at most window_steps - 1.",
    )

    @model_validator(mode="after")
    def _window_rule(self) -> PilotWireHeaterSpec:
        if self.min_comfort_in_window > self.window_steps:
            raise ValueError(
                f"min_comfort_in_window ({self.min_comfort_in_window}) is above "
                f"window_steps ({self.window_steps})"
            )
        if len(self.applied_before) >= self.window_steps:
            raise ValueError(
                f"applied_before holds {len(self.applied_before)} steps, at most "
                f"window_steps - 1 ({self.window_steps - 1})"
            )
        return self


class ThermostaticHeaterSpec(DeviceSpec):
    """Heater driven on/off against a first-order (1R1C) thermal model of its room."""

    type: Literal["thermostatic_heater"]
    power_w: NonNegative
    r_k_per_w: Annotated[float, Field(gt=0)]
    c_j_per_k: Annotated[float, Field(gt=0)]
    initial_temp_c: float
    comfort_min_c: list[float]
    comfort_max_c: list[float]

    @model_validator(mode="after")
    def _band(self) -> ThermostaticHeaterSpec:
        for k, (low, high) in enumerate(zip(self.comfort_min_c, self.comfort_max_c, strict=False)):
            if high < low:
                raise ValueError(f"comfort_max_c[{k}] ({high}) is below comfort_min_c[{k}] ({low})")
        return self


AnyDeviceSpec = Annotated[
    MachineSpec | WaterHeaterSpec | EvSpec | PilotWireHeaterSpec | ThermostaticHeaterSpec,
    Field(discriminator="type"),
]


class Scenario(_Strict):
    """Everything one planning round needs (``elfe-ems.scenario/1``)."""

    format: Literal["elfe-ems.scenario/1"] = SCENARIO_FORMAT
    round_start: int
    step_s: Annotated[int, Field(gt=0)] = 900
    steps: Annotated[int, Field(gt=0, le=10_000)] = 96
    net_load_w: list[float]
    outdoor_temp_c: list[float] | None = None
    devices: list[AnyDeviceSpec]

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems = []
        if self.round_start % self.step_s:
            problems.append(
                f"round_start ({self.round_start}) is not on the step grid "
                f"(a multiple of step_s = {self.step_s})"
            )
        if len(self.net_load_w) != self.steps:
            problems.append(f"net_load_w has {len(self.net_load_w)} values, expected {self.steps}")
        if self.outdoor_temp_c is not None and len(self.outdoor_temp_c) != self.steps:
            problems.append(
                f"outdoor_temp_c has {len(self.outdoor_temp_c)} values, expected {self.steps}"
            )
        problems += [
            f"device {d.id} ({d.type}): previous_decisions has {len(d.previous_decisions)} "
            f"values, expected {self.steps}"
            for d in self.devices
            if d.previous_decisions is not None and len(d.previous_decisions) != self.steps
        ]
        duplicates = [i for i, n in Counter(d.id for d in self.devices).items() if n > 1]
        problems += [f"device {i}: id is used by more than one device" for i in duplicates]
        for device in self.devices:
            if isinstance(device, ThermostaticHeaterSpec):
                problems += self._thermostatic_problems(device)
        if problems:
            raise ValueError("\n".join(problems))  # one line each in the error message
        return self

    def _thermostatic_problems(self, device: ThermostaticHeaterSpec) -> list[str]:
        where = f"device {device.id} (thermostatic_heater)"
        problems = [
            f"{where}: {name} has {len(series)} values, expected {self.steps}"
            for name, series in (
                ("comfort_min_c", device.comfort_min_c),
                ("comfort_max_c", device.comfort_max_c),
            )
            if len(series) != self.steps
        ]
        if self.outdoor_temp_c is None:
            problems.append(
                f"{where}: outdoor_temp_c is required when a thermostatic heater is present"
            )
        return problems


SolverStatus = Literal["optimal", "feasible", "heuristic"]


class SolverInfo(_Strict):
    """How the plan was found: `optimal` (within the gap), `feasible` (time limit), `heuristic`.

    Optional fields added in the same format version: ``objective`` is what was minimised
    first, ``import`` (the default) or ``price`` (the import's cost at a price per step).
    For ``import``, ``lower_bound_wh`` is the proven lower bound on the import of any plan of
    the scenario [Wh] (at least the LP relaxation's import) and ``gap`` is
    ``(import_wh - lower_bound_wh) / import_wh``; for ``price``, ``cost`` is the plan's cost
    and ``lower_bound_cost`` the proven lower bound on it (the price's currency), and ``gap``
    is measured between those two.
    """

    status: SolverStatus
    solve_ms: NonNegative
    gap: NonNegative | None = None
    lower_bound_wh: NonNegative | None = None
    objective: Literal["import", "price"] = "import"
    cost: float | None = None
    lower_bound_cost: float | None = None


class DevicePlan(_Strict):
    """The plan of one device: its decisions, its power and the relaxations applied to it."""

    id: int
    type: str
    machine_type: int | None = None
    status: Literal["planned", "skipped"]
    decisions: list[int]
    power_w: list[float]
    warnings: list[str] = []


class InputState(_Strict):
    """How fresh one input of a round was at its start (written by the round, not the planner:
    ``store/freshness.py`` says how it is judged)."""

    name: str
    state: Literal["fresh", "stale", "missing"]
    age_s: int | None = Field(description="Age of its newest good data [s]; null: none.")
    limit_s: int = Field(description="Older than this it is stale [s] (the stale_*_s setting).")
    coverage: float | None = Field(
        description="Share of the horizon covered by real data [0-1]; null: not over it."
    )
    stale_items: list[int] | None = Field(
        default=None,
        description="An input measured per Zabbix item: the items older than limit_s "
        "(null: not measured per item).",
    )


class TypeSavings(_Strict):
    """The import avoided by the devices of one type (``planner/savings.py`` says how it is
    shared), their energy and, for thermostatic heaters, the miss of their bands."""

    type: str
    devices: int = Field(description="Planned devices of the type.")
    import_avoided_wh: float = Field(description="shifted_wh + not_used_wh [Wh].")
    shifted_wh: float = Field(description="Import avoided by the same energy at other hours.")
    not_used_wh: float = Field(
        description="Import avoided by energy the plan does not use (negative: it uses more)."
    )
    energy_wh: float = Field(description="Energy with the plan [Wh].")
    energy_asap_wh: float = Field(description="Energy without EMS [Wh].")
    band_miss_kh: float | None = Field(
        default=None, description="Thermostatic heaters: band missed with the plan [K·h]."
    )
    band_miss_asap_kh: float | None = Field(
        default=None, description="Thermostatic heaters: band missed without EMS [K·h]."
    )


class Savings(_Strict):
    """Where the import avoided (``import_wh_asap - import_wh``) comes from: shifted in time
    plus not used, by device type, and the comfort given up for it."""

    import_avoided_wh: float = Field(description="import_wh_asap - import_wh [Wh].")
    shifted_wh: float = Field(description="Same energy at other hours [Wh].")
    not_used_wh: float = Field(description="Energy not used (negative: used more) [Wh].")
    comfort_given_up_kh: float = Field(
        description="Thermostatic heaters' band miss with the plan less without EMS [K·h]."
    )
    by_type: list[TypeSavings]


class Plan(_Strict):
    """What the planner answers (``elfe-ems.plan/1``)."""

    format: Literal["elfe-ems.plan/1"] = PLAN_FORMAT
    round_start: int
    step_s: int
    steps: int
    import_wh: NonNegative
    import_wh_asap: NonNegative
    net_load_with_flexible_w: list[float]
    peak_import_w: NonNegative | None = None  # the largest step import (optional field)
    solver: SolverInfo
    devices: list[DevicePlan]
    inputs: list[InputState] | None = None  # the round's inputs (optional field)
    # optional fields: the net load without EMS [W per step], and where the savings come from
    net_load_asap_w: list[float] | None = None
    savings: Savings | None = None


def _device_label(raw: Any, index: int) -> str:
    """'device 17 (machine)' from the raw data when it can be read, else 'devices[3]'."""
    try:
        entry = raw["devices"][index]
        return f"device {entry['id']} ({entry.get('type', 'no type')})"
    except (KeyError, IndexError, TypeError):
        return f"devices[{index}]"


def _format_location(raw: Any, loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    where = []
    if len(parts) >= 2 and parts[0] == "devices" and isinstance(parts[1], int):
        where.append(_device_label(raw, parts[1]))
        parts = parts[3:]  # drop "devices", the index and the union tag
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    if field:
        where.append(f"field {field}")
    return ", ".join(where)


def format_validation_error(error: ValidationError, raw: Any) -> str:
    """One line per problem, each naming the device and the field."""
    lines = []
    for item in error.errors(include_url=False):
        where = _format_location(raw, tuple(item["loc"]))
        for message in item["msg"].removeprefix("Value error, ").splitlines():
            lines.append(f"{where}: {message}" if where else message)
    return "\n".join(lines)


def _validate(model: type[ModelT], raw: Any, source: str) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(f"{source}:\n{format_validation_error(error, raw)}") from None


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        return json.loads(text)  # NaN and Infinity decode, then fail validation by name
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None


def parse_scenario(raw: Any, source: str = "scenario") -> Scenario:
    """Validate already-decoded JSON data as a scenario."""
    return _validate(Scenario, raw, source)


def read_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file."""
    return parse_scenario(_read_json(path), str(path))


def read_plan(path: Path) -> Plan:
    """Read and validate a plan file."""
    return _validate(Plan, _read_json(path), str(path))


def write_model(model: BaseModel, path: Path) -> None:
    """Write a scenario or a plan as JSON, atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(model.model_dump_json(), encoding="utf-8")
    tmp.replace(path)
